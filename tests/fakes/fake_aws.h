/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fake_aws.h - a loopback fake of the AWS endpoints kerf's ec2 plugin
 * calls (libmicrohttpd): EC2 and STS (Query protocol, XML), SSM and
 * Pricing (JSON 1.1), EKS DescribeCluster (REST-JSON), the instance
 * metadata service (IMDSv2) and a container credentials endpoint (EKS Pod
 * Identity).  One URL serves them all: point every endpoint of the
 * client's aws_config, AWS_EC2_METADATA_SERVICE_ENDPOINT and
 * AWS_CONTAINER_CREDENTIALS_FULL_URI (fake_aws_url() + "/v1/credentials")
 * at it.
 *
 * Routing: paths under /latest/ are IMDS, /v1/credentials the container
 * endpoint, GET [PREFIX]/clusters/NAME EKS; a request with X-Amz-Target is JSON
 * 1.1 (AmazonSSM.*, AWSPriceListService.*); any other POST is the Query
 * protocol, STS when Version=2011-06-15 and EC2 otherwise.
 *
 * Authentication, as AWS answers it: every API request but
 * AssumeRoleWithWebIdentity must carry a SigV4 Authorization header whose
 * signature the fake recomputes (plugins/ec2/sigv4.c) with the secret of
 * the access key it names: FAKE_AWS_ACCESS_KEY, or a temporary key the
 * fake itself issued (STS, IMDS, container), whose X-Amz-Security-Token
 * must match.  Unknown key: AuthFailure (EC2), InvalidClientTokenId (STS),
 * UnrecognizedClientException (JSON); wrong signature or a credential
 * scope for another service or region: SignatureDoesNotMatch (EC2, STS) /
 * InvalidSignatureException (JSON), HTTP 403; an expired temporary key:
 * RequestExpired (EC2), ExpiredToken (STS), ExpiredTokenException (JSON).
 *
 * Bodies are shaped as AWS's API reference examples: EC2 responses in the
 * http://ec2.amazonaws.com/doc/2016-11-15/ namespace with requestId, EC2
 * errors as <Response><Errors><Error>, STS errors as <ErrorResponse>,
 * JSON errors as {"__type", "message"}.
 *
 * EC2 state (region us-west-2, zones us-west-2a/b/c):
 *   - instance types m5.large, m5.xlarge, c5.large, t3.micro, m6g.large,
 *     g4dn.xlarge, c6gd.large with the figures of data/ec2-catalogue.tsv
 *     (DescribeInstanceTypes pages by fake_aws_set_page_size; offerings in
 *     every zone but g4dn.xlarge only in us-west-2a);
 *   - three subnets (subnet-0aaa..., one per zone) and two security groups
 *     tagged karpenter.sh/discovery=FAKE_AWS_CLUSTER, plus one untagged of
 *     each; six AMIs (AL2023, AL2 and Bottlerocket, x86_64 and arm64) owned
 *     by "amazon" (137112412989), which the SSM parameters of the EKS
 *     optimised AMI aliases for Kubernetes 1.31 and 1.32 name;
 *   - launch templates, fleets and instances created by the calls.
 * Filters: Filter.N.Name/Value.M with tag:KEY (values may hold '*'),
 * tag-key and the usual attribute names (subnet-id, vpc-id,
 * availability-zone, group-id, group-name, image-id, name, architecture,
 * owner-id, state, instance-state-name, instance-type, instance-id,
 * launch-template-name); ID lists (SubnetId.N, GroupId.N, ImageId.N,
 * Owner.N, InstanceId.N, LaunchTemplateName.N / LaunchTemplateId.N)
 * answer *.NotFound for an unknown id, as EC2 does.
 *
 * CreateFleet (Type instant only): picks, for each unit of
 * TotalTargetCapacity, the cheapest override (on-demand price, or spot
 * price for spot) whose (type, zone, capacity type) has capacity, ties
 * broken by Priority then order; pools made unavailable answer
 * InsufficientInstanceCapacity in errorSet, as EC2 does for instant
 * fleets.  A ClientToken seen before returns the first answer again and
 * launches nothing.  Instances are tagged from TagSpecification
 * (ResourceType instance) and run at once; TerminateInstances moves them
 * to terminated.
 *
 * Times (launchTime, credential expiry) come from fake_aws_set_time, or
 * the real clock when it is 0.  All functions are thread-safe; pointers
 * returned stay valid until fake_aws_stop, except a tag's value (until a
 * CreateTags replaces it) and a launch template's data (until
 * DeleteLaunchTemplate).  The fake reports, the test asserts: nothing here
 * depends on Check.
 */
#ifndef KERF_TESTS_FAKE_AWS_H
#define KERF_TESTS_FAKE_AWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FAKE_AWS_ACCESS_KEY "AKIDEXAMPLE"
#define FAKE_AWS_SECRET_KEY "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define FAKE_AWS_REGION "us-west-2"
#define FAKE_AWS_ACCOUNT "111122223333"
#define FAKE_AWS_CLUSTER "test-cluster"
/* The role IMDS serves and the tokens the fake accepts by default. */
#define FAKE_AWS_IMDS_ROLE "kerf-node-role"
#define FAKE_AWS_WEB_IDENTITY_TOKEN "fake-web-identity-token"
#define FAKE_AWS_CONTAINER_TOKEN "fake-pod-identity-token"

struct fake_aws;

/* 127.0.0.1, a free port; NULL (reason on stderr) when the daemon cannot start. */
struct fake_aws *fake_aws_start(void);
/* "http://127.0.0.1:PORT": one URL for every service. */
const char *fake_aws_url(const struct fake_aws *f);
/* Stops the daemon (joining its threads) and frees everything.  NULL allowed. */
void fake_aws_stop(struct fake_aws *f);

/* ------------------------------------------------------------ fault injection */

enum fake_aws_fault {
	/* HTTP 400 RequestLimitExceeded (EC2), Throttling (STS),
	 * ThrottlingException (JSON); HTTP 429 with no body for IMDS. */
	FAKE_AWS_THROTTLE,
	FAKE_AWS_INTERNAL,    /* HTTP 500 InternalError / InternalFailure */
	FAKE_AWS_UNAVAILABLE, /* HTTP 503 Unavailable / ServiceUnavailable */
	FAKE_AWS_DROP,	      /* the connection is closed with no answer */
	/* The request is carried out (instances launched, tokens issued),
	 * then the connection is closed before the answer: what a retried
	 * call after a lost response meets. */
	FAKE_AWS_DROP_ANSWER,
	FAKE_AWS_EXPIRED, /* answered as if the request's credentials expired */
};

/*
 * The next `times` requests for operation `op` get `fault` instead of an
 * answer.  op is a Query Action ("CreateFleet", "AssumeRole"), a JSON
 * operation ("GetParameter", "GetProducts"), "DescribeCluster", "imds",
 * "container", or NULL for any request.  Faults queue in the order
 * injected; a request takes the first that matches.  Signatures are still
 * checked first, so a fault never hides a bad signature.
 */
void fake_aws_inject(struct fake_aws *f, const char *op, enum fake_aws_fault fault, unsigned times);
/* Throttling answers carry "Retry-After: seconds" when seconds > 0. */
void fake_aws_set_retry_after(struct fake_aws *f, unsigned seconds);
/*
 * Makes the pool (instance type, zone, capacity type "on-demand" or "spot",
 * NULL for both) answer InsufficientInstanceCapacity in CreateFleet, or
 * gives its capacity back when available is true.
 */
void fake_aws_set_capacity(struct fake_aws *f, const char *type, const char *zone,
			   const char *capacity_type, bool available);
/* Every temporary credential issued so far is expired from now on. */
void fake_aws_expire_credentials(struct fake_aws *f);

/* ------------------------------------------------------------ configuration */

/* Items per page of the paged EC2 and Pricing calls (default 3). */
void fake_aws_set_page_size(struct fake_aws *f, size_t n);
/* The fake's "now" in ms since the epoch for timestamps; 0: the real clock. */
void fake_aws_set_time(struct fake_aws *f, int64_t wall_ms);
/* Lifetime of issued temporary credentials (default 3600 s). */
void fake_aws_set_credential_lifetime(struct fake_aws *f, int64_t seconds);
/* The web identity and container tokens accepted (copied). */
void fake_aws_set_web_identity_token(struct fake_aws *f, const char *token);
void fake_aws_set_container_token(struct fake_aws *f, const char *token);
/* Adds or replaces an SSM parameter (copied). */
void fake_aws_set_parameter(struct fake_aws *f, const char *name, const char *value);
/* Overrides the spot price (USD/h as text, "0.0312") of a type in a zone. */
void fake_aws_set_spot_price(struct fake_aws *f, const char *type, const char *zone,
			     const char *price);
/* The EKS cluster DescribeCluster answers for (name, endpoint, base64 CA). */
void fake_aws_set_cluster(struct fake_aws *f, const char *name, const char *endpoint,
			  const char *ca_base64);

/* ------------------------------------------------------------ inspection */

/* Requests received for op (as fake_aws_inject names them), answered or not. */
size_t fake_aws_calls(struct fake_aws *f, const char *op);
/* Requests rejected for their credentials or signature. */
size_t fake_aws_auth_failures(struct fake_aws *f);
/*
 * Parameter `name` of the nth call of op (0 first, (size_t)-1 the last):
 * Query parameters by name ("ClientToken", "Overrides..." as sent), JSON
 * top-level string members ("Name"), or request headers as "header:NAME".
 * NULL when there is no such call or parameter.
 */
const char *fake_aws_param(struct fake_aws *f, const char *op, size_t nth, const char *name);

/* An instance as the fake holds it. */
struct fake_aws_instance {
	const char *id;
	const char *type;
	const char *zone;
	const char *subnet;
	const char *image;
	const char *launch_template; /* name */
	const char *capacity_type;   /* "on-demand" | "spot" */
	const char *state;	     /* "running" | "terminated" */
	const char *client_token;    /* of the CreateFleet that made it; "" otherwise */
	int64_t launch_ms;
};

/* Instances in state (NULL: every state). */
size_t fake_aws_n_instances(struct fake_aws *f, const char *state);
/* Instance i in creation order into *out; false past the end. */
bool fake_aws_instance(struct fake_aws *f, size_t i, struct fake_aws_instance *out);
/* A tag of instance id; NULL when absent. */
const char *fake_aws_instance_tag(struct fake_aws *f, const char *id, const char *key);
/*
 * Starts an instance outside any fleet (what a crashed launch or another
 * tool leaves behind), tagged with tags[0]=tags[1], ... up to a NULL key.
 * Returns its id.
 */
const char *fake_aws_run_instance(struct fake_aws *f, const char *type, const char *zone,
				  const char *const *tags);
/* LaunchTemplateData parameter of launch template `name` ("ImageId",
 * "UserData", "MetadataOptions.HttpTokens", ...); NULL when absent. */
const char *fake_aws_launch_template_data(struct fake_aws *f, const char *name, const char *key);
/* Launch templates held. */
size_t fake_aws_n_launch_templates(struct fake_aws *f);

/*
 * Writes every API request received so far to path, one JSON line each:
 * {"service", "op", "query": [[name, value], ...]} for the Query protocol,
 * {"service", "op", "body": {...}} for JSON; `tests/fake-aws-shapes.py
 * --requests FILE` checks them against botocore's models of the
 * operations' inputs, so a test driving the provider can prove it sends
 * only what AWS accepts.
 * IMDS and container requests are left out.  0, or -1 when the file
 * cannot be written.
 */
int fake_aws_write_calls(struct fake_aws *f, const char *path);

#endif
