#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Checks the fake AWS's answers against AWS's own description of them.

DIR holds one answer per operation (OPERATION.xml or .json), written by
`check_aws --dump DIR`.  For each, with the service models that botocore
ships (the same JSON models AWS generates its SDKs from):

 1. every element (XML) or member (JSON) of the answer must be one the
    operation's output shape declares, under the name it has on the wire,
    with a value of the declared type: the fake never invents or misspells
    a field, nor nests one wrongly;
 2. botocore's own parser for the protocol must read the answer;
 3. where the model comes with AWS's documented example output for the
    operation (examples-1.json), every field of that example must be in
    the parsed answer too, at the same place: the fake answers at least
    what AWS's example shows.

Then, when DIR holds calls.jsonl (fake_aws_write_calls), every request the
fake received is checked against the operation's input shape: each Query
parameter must be one the SDKs would write (EC2's flattened lists
Name.N, STS's Name.member.N, Parent.Member for structures), with a value
of the member's type (timestamps in ISO 8601, as the SDKs send them), and
every required member present; JSON bodies likewise.

usage: fake-aws-shapes.py DIR
       fake-aws-shapes.py --requests CALLS.jsonl   (requests only, as a
       provider test that drove the fake may check what it sent)
"""
import json
import os
import sys
import xml.etree.ElementTree as ET
from datetime import datetime

import botocore.session
from botocore import parsers

# operation -> (service, API version)
SERVICES = {
    "ec2": ["DescribeInstanceTypes", "DescribeInstanceTypeOfferings", "DescribeAvailabilityZones",
            "DescribeSubnets", "DescribeSecurityGroups", "DescribeImages",
            "DescribeSpotPriceHistory", "CreateLaunchTemplate", "DescribeLaunchTemplates",
            "CreateFleet", "DescribeInstances", "CreateTags", "TerminateInstances",
            "DeleteLaunchTemplate"],
    "sts": ["AssumeRole", "AssumeRoleWithWebIdentity", "GetCallerIdentity"],
    "ssm": ["GetParameter"],
    "pricing": ["GetProducts"],
    "eks": ["DescribeCluster"],
}


# Fields EC2 added after the oldest botocore the tests run with (Debian 12's
# python3-botocore 1.29): accepted when that model does not know them yet.
NEWER_THAN_MODEL = {
    ("ProcessorInfo", "manufacturer"),
    ("NetworkCardInfo", "baselineBandwidthInGbps"),
}

# Fields of AWS's examples the fake leaves out, and why.
NOT_IN_EXAMPLE = {
    ("DescribeImages", "KernelId"): "paravirtual images only; EKS AMIs are HVM",
    ("AssumeRoleWithWebIdentity", "PackedPolicySize"): "sent only with session policies",
}


def local(tag):
    return tag.rsplit("}", 1)[-1]


def check_leaf(shape, text, path, errors):
    t = shape.type_name
    try:
        if t in ("integer", "long"):
            int(text)
        elif t in ("double", "float"):
            float(text)
        elif t == "boolean":
            if text not in ("true", "false"):
                raise ValueError(text)
        elif t == "timestamp":
            datetime.strptime(text.replace(".000Z", "Z"), "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        errors.append("%s: %r is not a %s" % (path, text, t))


def walk_xml(node, shape, path, errors):
    t = shape.type_name
    if t == "structure":
        names = {m.serialization.get("name", n): m for n, m in shape.members.items()}
        for child in node:
            tag = local(child.tag)
            if tag not in names:
                if (shape.name, tag) not in NEWER_THAN_MODEL:
                    errors.append("%s/%s: %s has no such member" % (path, tag, shape.name))
                continue
            walk_xml(child, names[tag], path + "/" + tag, errors)
    elif t == "list":
        item = shape.member.serialization.get("name", "member")
        for child in node:
            if local(child.tag) != item:
                errors.append("%s/%s: list items are <%s>" % (path, local(child.tag), item))
                continue
            walk_xml(child, shape.member, path + "/" + item, errors)
    elif t == "map":
        return
    else:
        if len(node):
            errors.append("%s: %s is a %s, not an element with children" % (path, shape.name, t))
            return
        check_leaf(shape, node.text or "", path, errors)


def walk_json(value, shape, path, errors):
    t = shape.type_name
    if t == "structure":
        if not isinstance(value, dict):
            errors.append("%s: %s is an object" % (path, shape.name))
            return
        for k, v in value.items():
            if k not in shape.members:
                errors.append("%s/%s: %s has no such member" % (path, k, shape.name))
                continue
            walk_json(v, shape.members[k], path + "/" + k, errors)
    elif t == "list":
        if not isinstance(value, list):
            errors.append("%s: %s is an array" % (path, shape.name))
            return
        for i, v in enumerate(value):
            walk_json(v, shape.member, "%s[%d]" % (path, i), errors)
    elif t == "map":
        if not isinstance(value, dict):
            errors.append("%s: %s is an object" % (path, shape.name))
            return
        for k, v in value.items():
            walk_json(v, shape.value, path + "/" + k, errors)
    else:
        ok = {
            "string": str, "boolean": bool, "integer": int, "long": int,
            "double": (int, float), "float": (int, float), "timestamp": (int, float),
        }.get(t)
        if ok and (not isinstance(value, ok) or (t in ("integer", "long") and isinstance(value, bool))):
            errors.append("%s: %r is not a %s" % (path, value, t))


def covers(example, got, path, errors):
    """Every field of AWS's example is in the fake's parsed answer."""
    if isinstance(example, dict):
        if not isinstance(got, dict):
            errors.append("%s: the example has an object here" % path)
            return
        for k, v in example.items():
            if (path.split("/")[0], k) in NOT_IN_EXAMPLE:
                continue
            if k not in got:
                errors.append("%s/%s: in AWS's example, missing from the fake's answer" % (path, k))
            else:
                covers(v, got[k], path + "/" + k, errors)
    elif isinstance(example, list) and example:
        if not isinstance(got, list) or not got:
            errors.append("%s: the example has a non-empty list here" % path)
            return
        covers(example[0], got[0], path + "[0]", errors)


def query_params(shape, prefix, ec2, out, depth=0):
    """Every parameter name an SDK may write for shape, digits as N, with its leaf shape."""
    if depth > 10:
        return
    t = shape.type_name
    if t == "structure":
        for name, m in shape.members.items():
            if ec2:
                wire = m.serialization.get("queryName") or (
                    m.serialization["name"][:1].upper() + m.serialization["name"][1:]
                    if "name" in m.serialization else name)
            else:
                wire = m.serialization.get("name", name)
            query_params(m, prefix + wire if not prefix else prefix + "." + wire, ec2, out, depth + 1)
    elif t == "list":
        if ec2 or shape.serialization.get("flattened"):
            query_params(shape.member, prefix + ".N", ec2, out, depth + 1)
        else:
            name = shape.member.serialization.get("name", "member")
            query_params(shape.member, prefix + "." + name + ".N", ec2, out, depth + 1)
    elif t == "map":
        out[prefix + ".N.key"] = None
        out[prefix + ".N.value"] = None
    else:
        out[prefix] = shape


def check_value(shape, value, path, errors):
    if shape is None:
        return
    t = shape.type_name
    try:
        if t in ("integer", "long"):
            int(value)
        elif t in ("double", "float"):
            float(value)
        elif t == "boolean":
            if value not in ("true", "false"):
                raise ValueError(value)
        elif t == "timestamp":
            datetime.strptime(value.replace(".000Z", "Z"), "%Y-%m-%dT%H:%M:%SZ")
        elif shape.enum and value not in shape.enum:
            errors.append("%s: %r is not one of %s" % (path, value, shape.enum))
    except ValueError:
        errors.append("%s: %r is not a %s as the SDKs write it" % (path, value, t))


def check_request(model, call, errors):
    op = model.operation_model(call["op"])
    shape = op.input_shape
    where = "%s %s request" % (call["service"], call["op"])
    if "query" in call:
        allowed = {}
        query_params(shape, "", model.metadata["protocol"] == "ec2", allowed)
        sent = set()
        for name, value in call["query"]:
            if name in ("Action", "Version"):
                continue
            pattern = ".".join("N" if p.isdigit() else p for p in name.split("."))
            sent.add(pattern.split(".")[0])
            if pattern not in allowed:
                errors.append("%s: parameter %s is not in %s" % (where, name, shape.name))
                continue
            check_value(allowed[pattern], value, "%s: %s" % (where, name), errors)
        for req in shape.required_members if shape else []:
            m = shape.members[req]
            wire = m.serialization.get("queryName") or m.serialization.get("name", req)
            wire = wire[:1].upper() + wire[1:]
            if wire not in sent:
                errors.append("%s: required %s missing" % (where, wire))
    elif "body" in call and shape is not None:
        walk_json(call["body"], shape, where, errors)
        for req in shape.required_members:
            if req not in call["body"]:
                errors.append("%s: required %s missing" % (where, req))


def check_requests(session, calls_path):
    errors, n = [], 0
    models = {}
    for line in open(calls_path):
        call = json.loads(line)
        if call["service"] not in models:
            models[call["service"]] = session.get_service_model(call["service"])
        check_request(models[call["service"]], call, errors)
        n += 1
    for e in errors:
        print(e)
    print("%d requests checked against botocore's models" % n)
    return 1 if errors else 0


def main():
    if sys.argv[1] == "--requests":
        return check_requests(botocore.session.get_session(), sys.argv[2])
    d = sys.argv[1]
    session = botocore.session.get_session()
    loader = session.get_component("data_loader")
    failed = 0
    checked = compared = 0
    for service, ops in SERVICES.items():
        model = session.get_service_model(service)
        protocol = model.metadata["protocol"]
        try:
            examples = loader.load_service_model(service, "examples-1", model.api_version)
            examples = examples.get("examples", {})
        except Exception:  # a model without examples
            examples = {}
        for op in ops:
            om = model.operation_model(op)
            shape = om.output_shape
            errors = []
            if protocol in ("ec2", "query"):
                path = os.path.join(d, op + ".xml")
                raw = open(path, "rb").read()
                root = ET.fromstring(raw)
                if local(root.tag) != op + "Response":
                    errors.append("root is <%s>, not <%sResponse>" % (local(root.tag), op))
                body = root
                if protocol == "query":
                    wrapper = shape.serialization.get("resultWrapper") if shape else None
                    kids = {local(c.tag): c for c in root}
                    if set(kids) - {wrapper, "ResponseMetadata"}:
                        errors.append("unexpected children %s" % sorted(set(kids) - {wrapper, "ResponseMetadata"}))
                    body = kids.get(wrapper)
                    if body is None:
                        errors.append("no <%s>" % wrapper)
                else:
                    body = [c for c in root if local(c.tag) != "requestId"]
                    if not any(local(c.tag) == "requestId" for c in root):
                        errors.append("no <requestId>")
                    fake_root = ET.Element("r")
                    fake_root.extend(body)
                    body = fake_root
                if body is not None and shape is not None:
                    walk_xml(body, shape, op, errors)
            else:
                path = os.path.join(d, op + ".json")
                raw = open(path, "rb").read()
                walk_json(json.loads(raw), shape, op, errors)
            parsed = parsers.create_parser(protocol).parse(
                {"body": raw, "headers": {}, "status_code": 200}, shape)
            for ex in examples.get(op, []):
                if ex.get("output"):
                    covers(ex["output"], parsed, op, errors)
                    compared += 1
            checked += 1
            if errors:
                failed = 1
                print("%s %s:" % (service, op))
                for e in errors:
                    print("  " + e)
    print("%d answers checked against botocore's models, %d against AWS's documented examples"
          % (checked, compared))
    return failed | check_requests(session, os.path.join(d, "calls.jsonl"))


if __name__ == "__main__":
    sys.exit(main())
