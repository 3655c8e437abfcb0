#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The ABI 2 model rule, checked, and the headers of a later minor, made.

The rule (docs/plugin-abi.md, "How the model evolves"): a model object may
gain fields at its end in any minor, so no object is ever embedded by value
in another struct or laid out in a strided array; only the frozen value
types (FROZEN below) are.  Lists are a count and an array of pointers.

    model-layout.py --check INCLUDE_DIR
        exits 1 naming every struct member that breaks the rule;
    model-layout.py --append INCLUDE_DIR OUT_DIR
        writes a copy of the headers in which every object has gained a
        field at its end, as a later minor would add one.  make check builds
        libkerf and a host from that copy and loads into it a plugin built
        against the frozen 2.0 headers (tests/abi/frozen-2.0).

It reads the headers as clang-format leaves them: `struct kerf_x {` at the
start of a line and `};` alone at the start of the line that ends it.
"""
import os
import re
import sys

# Value types: laid out once for the whole major, embedded and copied freely.
FROZEN = {
    "kerf_resource", "kerf_resources",
    "kerf_labels", "kerf_requirements", "kerf_taints", "kerf_tolerations",
    "kerf_instance_type_list", "kerf_instance_list",
}
# Tables and headers with their own size field or declared size: they grow
# by the descriptor's and host's rules, not by this one.
SIZED = re.compile(r"_ops$|_sink$|^kerf_plugin_descriptor$|^kerf_host$|^kerf_error$|"
                   r"^kerf_http_|^kerf_config_key$")
MODEL_HEADERS = ("types.h", "packer.h", "cluster.h", "quantity.h", "provider.h", "doc.h")

STRUCT = re.compile(r"^struct (kerf_\w+) \{\n(.*?)^\};", re.S | re.M)
MEMBER = re.compile(r"^\s*(?:const\s+)?struct\s+(kerf_\w+)\s*(\**)\s*(?:const\s*)?(\**)\s*(\w+)\s*;",
                    re.M)


def structs(inc):
    out = []
    kdir = os.path.join(inc, "kerf")
    for name in sorted(os.listdir(kdir)):
        if not name.endswith(".h"):
            continue
        text = open(os.path.join(kdir, name)).read()
        for m in STRUCT.finditer(text):
            out.append((name, m.group(1), m.group(2)))
    return out


def is_object(hdr, name):
    return hdr in MODEL_HEADERS and name not in FROZEN and not SIZED.search(name)


def check(inc):
    all_structs = structs(inc)
    objects = {n for h, n, _ in all_structs if is_object(h, n)}
    bad = []
    for hdr, owner, body in all_structs:
        counts = set(re.findall(r"\bsize_t\s+(\w+)\s*;", body)) | \
            set(re.findall(r"\buint32_t\s+(n_\w+)\s*;", body))
        for m in MEMBER.finditer(body):
            typ, stars, stars2, field = m.group(1), m.group(2) + m.group(3), m.group(4)[0:], m.group(4)
            if typ not in objects:
                continue
            if stars == "":
                bad.append(f"{hdr}: struct {owner}.{field}: object struct {typ} embedded by value")
            elif stars == "*" and ("n_" + field in counts or (field == "items" and "n" in counts)):
                bad.append(f"{hdr}: struct {owner}.{field}: strided array of object struct {typ} "
                           "(a list holds pointers)")
    for b in bad:
        print(b, file=sys.stderr)
    print(f"model-layout: {len(objects)} objects, {len(bad)} violations")
    return 1 if bad else 0


def append(inc, out):
    kdir = os.path.join(inc, "kerf")
    odir = os.path.join(out, "kerf")
    os.makedirs(odir, exist_ok=True)
    n = 0
    for name in sorted(os.listdir(kdir)):
        if not name.endswith(".h"):
            continue
        text = open(os.path.join(kdir, name)).read()

        def grow(m):
            nonlocal n
            if not is_object(name, m.group(1)):
                return m.group(0)
            n += 1
            return m.group(0)[:-2] + "\tint64_t abi_test_appended;\n};"
        text = STRUCT.sub(grow, text)
        tmp = os.path.join(odir, name + ".tmp")
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, os.path.join(odir, name))
    print(f"model-layout: appended a field to {n} objects")
    return 0


def main(argv):
    if len(argv) == 3 and argv[1] == "--check":
        return check(argv[2])
    if len(argv) == 4 and argv[1] == "--append":
        return append(argv[2], argv[3])
    print("usage: model-layout.py --check INCLUDE_DIR | --append INCLUDE_DIR OUT_DIR",
          file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
