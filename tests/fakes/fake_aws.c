/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fake_aws.c - a loopback fake of AWS's EC2, STS, SSM, Pricing, EKS,
 * IMDS and container credential endpoints on libmicrohttpd, checking every
 * request's SigV4 signature (see fake_aws.h).
 */
#include "fake_aws.h"

#include <arpa/inet.h>
#include <fnmatch.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include <jansson.h>
#include <microhttpd.h>

#include "sigv4.h"
#include "util.h"

#if MHD_VERSION >= 0x00097002
#define FAKE_MHD_RESULT enum MHD_Result
#else
#define FAKE_MHD_RESULT int
#endif

#define EC2_NS "http://ec2.amazonaws.com/doc/2016-11-15/"
#define STS_NS "https://sts.amazonaws.com/doc/2011-06-15/"
#define XML_DECL "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
#define REQUEST_ID "59dbff89-35bd-4eac-99ed-be587EXAMPLE"
#define MAX_BODY (4u * 1024u * 1024u)

enum svc { SVC_EC2, SVC_STS, SVC_SSM, SVC_PRICING, SVC_EKS, SVC_IMDS, SVC_CONTAINER };

/* ------------------------------------------------------------ small containers */

struct kvl {
	char **k;
	char **v;
	size_t n, cap, vcap;
};

static void kvl_add(struct kvl *l, const char *k, const char *v)
{
	xgrow(l->k, l->cap, l->n + 1);
	xgrow(l->v, l->vcap, l->n + 1);
	l->k[l->n] = xstrdup(k);
	l->v[l->n] = xstrdup(v ? v : "");
	l->n++;
}

/* Replaces the value of k, or adds it. */
static void kvl_set(struct kvl *l, const char *k, const char *v)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->k[i], k) == 0) {
			free(l->v[i]);
			l->v[i] = xstrdup(v);
			return;
		}
	kvl_add(l, k, v);
}

static const char *kvl_get(const struct kvl *l, const char *k)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->k[i], k) == 0)
			return l->v[i];
	return NULL;
}

static const char *kvl_getcase(const struct kvl *l, const char *k)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcasecmp(l->k[i], k) == 0)
			return l->v[i];
	return NULL;
}

static void kvl_free(struct kvl *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->k[i]);
		free(l->v[i]);
	}
	free(l->k);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* Values of "PREFIX.1", "PREFIX.2", ... in the order sent. */
static size_t kvl_list(const struct kvl *l, const char *prefix, const char **out, size_t max)
{
	size_t n = 0, pl = strlen(prefix);
	for (size_t i = 0; i < l->n && n < max; i++) {
		const char *k = l->k[i];
		if (strncmp(k, prefix, pl) != 0 || k[pl] != '.')
			continue;
		const char *d = k + pl + 1;
		if (!*d || strspn(d, "0123456789") != strlen(d))
			continue;
		out[n++] = l->v[i];
	}
	return n;
}

/* ------------------------------------------------------------ state */

struct fobj {
	char *id;
	struct kvl attrs; /* by filter name: "availability-zone", "name" ... */
	struct kvl tags;
	struct kvl data; /* launch templates: LaunchTemplateData.* without the prefix */
};

struct finst {
	struct fobj o;
	char *type, *zone, *subnet, *image, *lt, *ctype, *token, *ip;
	const char *state; /* a literal, so fake_aws_instance's copy stays valid */
	int64_t launch_ms;
};

struct fcred {
	char *ak, *sk, *token;
	int64_t expires_ms;
	bool expired;
};

struct ffault {
	char *op;
	enum fake_aws_fault fault;
	unsigned left;
};

struct fcall {
	enum svc svc;
	char *op;
	struct kvl params;
	json_t *json; /* JSON protocols: the body as sent */
};

struct fpool {
	char *type, *zone, *ctype;
};

struct objs {
	struct fobj **v;
	size_t n, cap;
};

struct fake_aws {
	struct MHD_Daemon *daemon;
	char url[64];
	pthread_mutex_t lock;

	struct objs subnets, groups, images, templates;
	struct finst **inst;
	size_t n_inst, cap_inst;
	struct fcred **creds;
	size_t n_creds, cap_creds;
	struct ffault **faults;
	size_t n_faults, cap_faults;
	struct fcall **calls;
	size_t n_calls, cap_calls;
	struct fpool **pools; /* without capacity */
	size_t n_pools, cap_pools;
	struct kvl fleets; /* ClientToken -> CreateFleet answer */
	struct kvl params; /* SSM */
	struct kvl spot;   /* "type/zone" -> price */
	struct kvl imds_tokens;
	char *cluster[3];

	size_t page_size;
	int64_t now_ms;
	int64_t lifetime_s;
	unsigned retry_after;
	char *web_token;
	char *container_token;
	size_t auth_failures;
	unsigned long seq; /* ids */
};

static int64_t fnow(struct fake_aws *f)
{
	if (f->now_ms)
		return f->now_ms;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void iso8601(int64_t ms, char out[32], bool millis)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	char base[24];
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	if (millis)
		snprintf(out, 32, "%s.%03dZ", base, (int)(ms % 1000));
	else
		snprintf(out, 32, "%sZ", base);
}

static void xml_esc(struct strbuf *b, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<':
			sb_puts(b, "&lt;");
			break;
		case '>':
			sb_puts(b, "&gt;");
			break;
		case '&':
			sb_puts(b, "&amp;");
			break;
		case '"':
			sb_puts(b, "&quot;");
			break;
		default:
			sb_append(b, s, 1);
		}
	}
}

/* <name>escaped value</name> */
static void xel(struct strbuf *b, const char *name, const char *value)
{
	sb_printf(b, "<%s>", name);
	xml_esc(b, value);
	sb_printf(b, "</%s>", name);
}

static void xtags(struct strbuf *b, const struct kvl *tags)
{
	if (tags->n == 0) {
		sb_puts(b, "<tagSet/>");
		return;
	}
	sb_puts(b, "<tagSet>");
	for (size_t i = 0; i < tags->n; i++) {
		sb_puts(b, "<item>");
		xel(b, "key", tags->k[i]);
		xel(b, "value", tags->v[i]);
		sb_puts(b, "</item>");
	}
	sb_puts(b, "</tagSet>");
}

static struct fobj *obj_new(struct objs *set, const char *id)
{
	struct fobj *o = xcalloc(1, sizeof(*o));
	o->id = xstrdup(id);
	xgrow(set->v, set->cap, set->n + 1);
	set->v[set->n++] = o;
	return o;
}

static void obj_free(struct fobj *o)
{
	free(o->id);
	kvl_free(&o->attrs);
	kvl_free(&o->tags);
	kvl_free(&o->data);
}

/* ------------------------------------------------------------ the catalogue */

/* Figures of data/ec2-catalogue.tsv; prices in USD/h as EC2 prints them. */
static const struct itype {
	const char *name;
	int vcpu, cores, threads, mem_mib;
	const char *arch, *manufacturer, *ghz, *netperf, *bw_gbps;
	int enis, ipv4;
	const char *gpu, *gpu_maker;
	int gpus, gpu_mem, nvme_gb;
	bool encrypt, burst;
	const char *od, *spot;
} ITYPES[] = {
    {"m5.large", 2,    1, 2, 8192, "x86_64", "Intel", "3.1",   "Up to 10 Gigabit", "0.75", 3, 10,
     NULL,	 NULL, 0, 0, 0,	   false,    false,   "0.096", "0.03264"},
    {"m5.xlarge", 4,	2, 2, 16384, "x86_64", "Intel", "3.1",	 "Up to 10 Gigabit", "1.25", 4, 15,
     NULL,	  NULL, 0, 0, 0,     false,    false,	"0.192", "0.06528"},
    {"c5.large", 2,    1, 2, 4096, "x86_64", "Intel", "3.4",   "Up to 10 Gigabit", "0.75", 3, 10,
     NULL,	 NULL, 0, 0, 0,	   false,    false,   "0.085", "0.03485"},
    {"t3.micro", 2,    1,    2, 1024, "x86_64", "Intel", "2.5", "Up to 5 Gigabit", "0.064",   2,
     2,		 NULL, NULL, 0, 0,    0,	false,	 true,	"0.0104",	   "0.003224"},
    {"m6g.large", 2,	   2,	    1,	  8192, "arm64", "AWS", "2.5", "Up to 10 Gigabit",
     "0.75",	  3,	   10,	    NULL, NULL, 0,	 0,	0,     false,
     false,	  "0.077", "0.0308"},
    {"g4dn.xlarge", 4,	     2,	       2,    16384,    "x86_64", "Intel", "2.5", "Up to 25 Gigabit",
     "5.0",	    3,	     10,       "T4", "NVIDIA", 1,	 16384,	  125,	 true,
     false,	    "0.526", "0.18936"},
    {"c6gd.large", 2,	 2,    1, 4096, "arm64", "AWS", "2.5", "Up to 10 Gigabit", "0.75",    3,
     10,	   NULL, NULL, 0, 0,	118,	 false, false, "0.0768",	   "0.029952"},
};
#define N_ITYPES (sizeof(ITYPES) / sizeof(ITYPES[0]))

static const char *const ZONES[] = {"us-west-2a", "us-west-2b", "us-west-2c"};
static const char *const ZONE_IDS[] = {"usw2-az1", "usw2-az2", "usw2-az3"};

static const struct itype *itype_find(const char *name)
{
	for (size_t i = 0; i < N_ITYPES; i++)
		if (strcmp(ITYPES[i].name, name) == 0)
			return &ITYPES[i];
	return NULL;
}

static bool offered(const struct itype *t, const char *zone)
{
	return strcmp(t->name, "g4dn.xlarge") != 0 || strcmp(zone, "us-west-2a") == 0;
}

static int zone_index(const char *zone)
{
	for (int i = 0; i < 3; i++)
		if (strcmp(ZONES[i], zone) == 0)
			return i;
	return -1;
}

/* The spot price of a type in a zone: an override, else the catalogue's
 * estimate made a little dearer per zone, so zones differ. */
static double spot_price(struct fake_aws *f, const struct itype *t, const char *zone)
{
	char key[96];
	snprintf(key, sizeof(key), "%s/%s", t->name, zone);
	const char *o = kvl_get(&f->spot, key);
	if (o)
		return strtod(o, NULL);
	int z = zone_index(zone);
	return strtod(t->spot, NULL) * (1.0 + 0.05 * (z < 0 ? 0 : z));
}

static void seed_state(struct fake_aws *f)
{
	static const char *const subnet_ids[] = {
	    "subnet-0a00000000000000a", "subnet-0a00000000000000b", "subnet-0a00000000000000c"};
	static const char *const cidrs[] = {"10.0.0.0/19", "10.0.32.0/19", "10.0.64.0/19"};
	for (int i = 0; i < 3; i++) {
		struct fobj *o = obj_new(&f->subnets, subnet_ids[i]);
		kvl_add(&o->attrs, "subnet-id", subnet_ids[i]);
		kvl_add(&o->attrs, "vpc-id", "vpc-0a000000000000001");
		kvl_add(&o->attrs, "availability-zone", ZONES[i]);
		kvl_add(&o->attrs, "availability-zone-id", ZONE_IDS[i]);
		kvl_add(&o->attrs, "cidr-block", cidrs[i]);
		kvl_add(&o->attrs, "available-ip-address-count", i == 2 ? "40" : "8187");
		kvl_add(&o->attrs, "state", "available");
		kvl_add(&o->tags, "karpenter.sh/discovery", FAKE_AWS_CLUSTER);
		char name[32];
		snprintf(name, sizeof(name), "private-%c", 'a' + i);
		kvl_add(&o->tags, "Name", name);
	}
	struct fobj *pub = obj_new(&f->subnets, "subnet-0a0000000000000f1");
	kvl_add(&pub->attrs, "subnet-id", "subnet-0a0000000000000f1");
	kvl_add(&pub->attrs, "vpc-id", "vpc-0a000000000000001");
	kvl_add(&pub->attrs, "availability-zone", ZONES[0]);
	kvl_add(&pub->attrs, "availability-zone-id", ZONE_IDS[0]);
	kvl_add(&pub->attrs, "cidr-block", "10.0.128.0/24");
	kvl_add(&pub->attrs, "available-ip-address-count", "251");
	kvl_add(&pub->attrs, "state", "available");
	kvl_add(&pub->tags, "Name", "public-a");

	static const struct {
		const char *id, *name, *desc;
		bool discovery, cluster;
	} groups[] = {
	    {"sg-0a000000000000001", "eks-cluster-sg-" FAKE_AWS_CLUSTER,
	     "EKS created security group", true, true},
	    {"sg-0a000000000000002", FAKE_AWS_CLUSTER "-node", "nodes of " FAKE_AWS_CLUSTER, true,
	     false},
	    {"sg-0a000000000000003", "default", "default VPC security group", false, false},
	};
	for (size_t i = 0; i < 3; i++) {
		struct fobj *o = obj_new(&f->groups, groups[i].id);
		kvl_add(&o->attrs, "group-id", groups[i].id);
		kvl_add(&o->attrs, "group-name", groups[i].name);
		kvl_add(&o->attrs, "description", groups[i].desc);
		kvl_add(&o->attrs, "vpc-id", "vpc-0a000000000000001");
		kvl_add(&o->attrs, "owner-id", FAKE_AWS_ACCOUNT);
		if (groups[i].discovery)
			kvl_add(&o->tags, "karpenter.sh/discovery", FAKE_AWS_CLUSTER);
		if (groups[i].cluster)
			kvl_add(&o->tags, "kubernetes.io/cluster/" FAKE_AWS_CLUSTER, "owned");
	}

	static const struct {
		const char *id, *name, *arch, *owner, *alias, *created;
	} images[] = {
	    {"ami-0a2023a0000000001", "amazon-eks-node-al2023-x86_64-standard-1.31-v20261201",
	     "x86_64", "137112412989", "amazon", "2026-12-01T10:00:00.000Z"},
	    {"ami-0a2023a0000000002", "amazon-eks-node-al2023-arm64-standard-1.31-v20261201",
	     "arm64", "137112412989", "amazon", "2026-12-01T10:00:00.000Z"},
	    {"ami-0a2000a0000000001", "amazon-eks-node-1.31-v20261201", "x86_64", "137112412989",
	     "amazon", "2026-12-01T11:00:00.000Z"},
	    {"ami-0a2000a0000000002", "amazon-eks-arm64-node-1.31-v20261201", "arm64",
	     "137112412989", "amazon", "2026-12-01T11:00:00.000Z"},
	    {"ami-0b0770a0000000001", "bottlerocket-aws-k8s-1.31-x86_64-v1.30.0-8a3b2c1d", "x86_64",
	     "137112412989", "amazon", "2026-11-28T09:00:00.000Z"},
	    {"ami-0b0770a0000000002", "bottlerocket-aws-k8s-1.31-aarch64-v1.30.0-8a3b2c1d", "arm64",
	     "137112412989", "amazon", "2026-11-28T09:00:00.000Z"},
	    {"ami-0c0570a0000000001", "team-al2023-custom-20261120", "x86_64", FAKE_AWS_ACCOUNT,
	     NULL, "2026-11-20T08:00:00.000Z"},
	};
	for (size_t i = 0; i < sizeof(images) / sizeof(images[0]); i++) {
		struct fobj *o = obj_new(&f->images, images[i].id);
		kvl_add(&o->attrs, "image-id", images[i].id);
		kvl_add(&o->attrs, "name", images[i].name);
		kvl_add(&o->attrs, "architecture", images[i].arch);
		kvl_add(&o->attrs, "owner-id", images[i].owner);
		if (images[i].alias)
			kvl_add(&o->attrs, "owner-alias", images[i].alias);
		kvl_add(&o->attrs, "creation-date", images[i].created);
		kvl_add(&o->attrs, "state", "available");
		if (!images[i].alias)
			kvl_add(&o->tags, "karpenter.sh/discovery", FAKE_AWS_CLUSTER);
	}

	static const char *const versions[] = {"1.31", "1.32"};
	for (size_t v = 0; v < 2; v++) {
		char k[160];
		snprintf(k, sizeof(k),
			 "/aws/service/eks/optimized-ami/%s/amazon-linux-2023/x86_64/standard/"
			 "recommended/image_id",
			 versions[v]);
		kvl_set(&f->params, k, "ami-0a2023a0000000001");
		snprintf(k, sizeof(k),
			 "/aws/service/eks/optimized-ami/%s/amazon-linux-2023/arm64/standard/"
			 "recommended/image_id",
			 versions[v]);
		kvl_set(&f->params, k, "ami-0a2023a0000000002");
		snprintf(k, sizeof(k),
			 "/aws/service/eks/optimized-ami/%s/amazon-linux-2/recommended/image_id",
			 versions[v]);
		kvl_set(&f->params, k, "ami-0a2000a0000000001");
		snprintf(
		    k, sizeof(k),
		    "/aws/service/eks/optimized-ami/%s/amazon-linux-2-arm64/recommended/image_id",
		    versions[v]);
		kvl_set(&f->params, k, "ami-0a2000a0000000002");
		snprintf(k, sizeof(k),
			 "/aws/service/bottlerocket/aws-k8s-%s/x86_64/latest/image_id",
			 versions[v]);
		kvl_set(&f->params, k, "ami-0b0770a0000000001");
		snprintf(k, sizeof(k), "/aws/service/bottlerocket/aws-k8s-%s/arm64/latest/image_id",
			 versions[v]);
		kvl_set(&f->params, k, "ami-0b0770a0000000002");
	}
}

/* ------------------------------------------------------------ requests and answers */

struct freq {
	char *method;
	char *target; /* raw, with the query */
	char *path;
	char *query;
	struct kvl headers;
	struct strbuf body;
	bool started;
	/* decoded */
	enum svc svc;
	char *op;
	struct kvl params; /* Query parameters, or JSON string members */
	json_t *json;
};

struct fresp {
	int status;
	const char *ctype;
	struct strbuf body;
	char retry_after[16];
	bool drop;
};

static void resp_xml(struct fresp *r, int status)
{
	r->status = status;
	r->ctype = "text/xml;charset=UTF-8";
}

/* An error answer as the service writes it. */
static void resp_error(struct fresp *r, enum svc s, int status, const char *code,
		       const char *message)
{
	sb_free(&r->body);
	sb_init(&r->body);
	r->status = status;
	if (s == SVC_EC2) {
		r->ctype = "text/xml;charset=UTF-8";
		sb_puts(&r->body, XML_DECL "<Response><Errors><Error>");
		xel(&r->body, "Code", code);
		xel(&r->body, "Message", message);
		sb_puts(&r->body,
			"</Error></Errors><RequestID>" REQUEST_ID "</RequestID></Response>");
	} else if (s == SVC_STS) {
		r->ctype = "text/xml";
		sb_puts(&r->body, "<ErrorResponse xmlns=\"" STS_NS "\"><Error><Type>");
		sb_puts(&r->body, status >= 500 ? "Receiver" : "Sender");
		sb_puts(&r->body, "</Type>");
		xel(&r->body, "Code", code);
		xel(&r->body, "Message", message);
		sb_puts(&r->body, "</Error><RequestId>" REQUEST_ID "</RequestId></ErrorResponse>");
	} else if (s == SVC_IMDS || s == SVC_CONTAINER) {
		r->ctype = "text/plain";
		sb_puts(&r->body, message);
	} else {
		r->ctype = "application/x-amz-json-1.1";
		json_t *j = json_pack("{s:s, s:s}", "__type", code, "message", message);
		char *t = json_dumps(j, JSON_COMPACT);
		sb_puts(&r->body, t);
		free(t);
		json_decref(j);
	}
}

static void resp_json(struct fresp *r, json_t *j)
{
	r->status = 200;
	r->ctype = "application/x-amz-json-1.1";
	char *t = json_dumps(j, JSON_COMPACT);
	sb_puts(&r->body, t);
	free(t);
	json_decref(j);
}

static int hexv(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static char *form_decode(const char *s, size_t len)
{
	char *out = xmalloc(len + 1);
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '+') {
			out[n++] = ' ';
		} else if (s[i] == '%' && i + 2 < len && hexv(s[i + 1]) >= 0 &&
			   hexv(s[i + 2]) >= 0) {
			out[n++] = (char)(hexv(s[i + 1]) * 16 + hexv(s[i + 2]));
			i += 2;
		} else {
			out[n++] = s[i];
		}
	}
	out[n] = '\0';
	return out;
}

static void parse_form(struct kvl *out, const char *s, size_t len)
{
	size_t i = 0;
	while (i < len) {
		const char *amp = memchr(s + i, '&', len - i);
		size_t end = amp ? (size_t)(amp - s) : len;
		const char *eq = memchr(s + i, '=', end - i);
		size_t kend = eq ? (size_t)(eq - s) : end;
		char *k = form_decode(s + i, kend - i);
		char *v = eq ? form_decode(eq + 1, end - kend - 1) : xstrdup("");
		if (*k)
			kvl_add(out, k, v);
		free(k);
		free(v);
		i = end + 1;
	}
}

/* ------------------------------------------------------------ credentials and signatures */

static struct fcred *issue_creds(struct fake_aws *f)
{
	struct fcred *c = xcalloc(1, sizeof(*c));
	unsigned long n = ++f->seq;
	char b[160];
	snprintf(b, sizeof(b), "ASIAFAKE%012lu", n);
	c->ak = xstrdup(b);
	snprintf(b, sizeof(b), "fAkEsEcReT/%lu/K7MDENG+bPxRfiCYEXAMPLE", n);
	c->sk = xstrdup(b);
	snprintf(b, sizeof(b), "FwoGZXIvYXdzEFAKE%lu//////////wEaDFAKESESSIONTOKEN%lu", n,
		 n * 7919);
	c->token = xstrdup(b);
	c->expires_ms = fnow(f) + f->lifetime_s * 1000;
	xgrow(f->creds, f->cap_creds, f->n_creds + 1);
	f->creds[f->n_creds++] = c;
	return c;
}

static const char *svc_name(enum svc s)
{
	switch (s) {
	case SVC_EC2:
		return "ec2";
	case SVC_STS:
		return "sts";
	case SVC_SSM:
		return "ssm";
	case SVC_PRICING:
		return "pricing";
	case SVC_EKS:
		return "eks";
	case SVC_IMDS:
		return "imds";
	case SVC_CONTAINER:
		return "container";
	}
	return "?";
}

/* The code AWS answers a rejected credential with, per service and reason. */
static const char *auth_code(enum svc s, int why)
{
	enum { UNKNOWN, SIGNATURE, EXPIRED, MISSING };
	bool json = s == SVC_SSM || s == SVC_PRICING || s == SVC_EKS;
	switch (why) {
	case UNKNOWN:
		return s == SVC_EC2 ? "AuthFailure"
		       : json	    ? "UnrecognizedClientException"
				    : "InvalidClientTokenId";
	case SIGNATURE:
		return json ? "InvalidSignatureException" : "SignatureDoesNotMatch";
	case EXPIRED:
		return s == SVC_EC2 ? "RequestExpired"
		       : json	    ? "ExpiredTokenException"
				    : "ExpiredToken";
	default:
		return s == SVC_EC2 ? "AuthFailure" : "MissingAuthenticationToken";
	}
}

/* Checks the SigV4 signature of q; false with the error answer in r. */
static bool verify(struct fake_aws *f, struct freq *q, struct fresp *r)
{
	enum { UNKNOWN, SIGNATURE, EXPIRED, MISSING };
	const char *auth = kvl_getcase(&q->headers, "Authorization");
	const char *date = kvl_getcase(&q->headers, "X-Amz-Date");
	char ak[128], scope_date[16], region[64], service[64], signed_headers[512], sig[80];
	if (!auth || !date) {
		resp_error(r, q->svc, 403, auth_code(q->svc, MISSING),
			   "Request is missing Authentication Token");
		return false;
	}
	if (sscanf(auth,
		   "AWS4-HMAC-SHA256 Credential=%127[^/]/%15[^/]/%63[^/]/%63[^/]/aws4_request, "
		   "SignedHeaders=%511[^,], Signature=%79s",
		   ak, scope_date, region, service, signed_headers, sig) != 6) {
		resp_error(r, q->svc, 400, "IncompleteSignature",
			   "Authorization header requires 'Credential', 'Signature' and "
			   "'SignedHeaders' parameters");
		return false;
	}
	const char *secret = NULL;
	struct fcred *issued = NULL;
	if (strcmp(ak, FAKE_AWS_ACCESS_KEY) == 0) {
		secret = FAKE_AWS_SECRET_KEY;
	} else {
		for (size_t i = 0; i < f->n_creds; i++)
			if (strcmp(f->creds[i]->ak, ak) == 0)
				issued = f->creds[i];
		if (!issued) {
			resp_error(
			    r, q->svc, q->svc == SVC_EC2 ? 401 : 403, auth_code(q->svc, UNKNOWN),
			    q->svc == SVC_EC2
				? "AWS was not able to validate the provided access credentials"
				: "The security token included in the request is invalid.");
			return false;
		}
		secret = issued->sk;
		const char *tok = kvl_getcase(&q->headers, "X-Amz-Security-Token");
		if (!tok || strcmp(tok, issued->token) != 0) {
			resp_error(r, q->svc, q->svc == SVC_EC2 ? 401 : 403,
				   auth_code(q->svc, UNKNOWN),
				   "The security token included in the request is invalid.");
			return false;
		}
		if (issued->expired || fnow(f) >= issued->expires_ms) {
			resp_error(r, q->svc, q->svc == SVC_EC2 ? 400 : 403,
				   auth_code(q->svc, EXPIRED),
				   q->svc == SVC_EC2
				       ? "Request has expired."
				       : "The security token included in the request is expired");
			return false;
		}
	}
	const char *want_region = q->svc == SVC_PRICING ? "us-east-1" : FAKE_AWS_REGION;
	if (strcmp(service, svc_name(q->svc)) != 0 ||
	    (q->svc != SVC_STS && strcmp(region, want_region) != 0) ||
	    strncmp(scope_date, date, 8) != 0 || strlen(scope_date) != 8) {
		resp_error(r, q->svc, 403, auth_code(q->svc, SIGNATURE),
			   "Credential should be scoped to a valid region and the correct service, "
			   "and dated the day of X-Amz-Date.");
		return false;
	}
	/* Rebuild what was signed from what arrived. */
	struct sigv4_header h[32];
	size_t n = 0;
	bool has_host = false;
	char *list = xstrdup(signed_headers);
	for (char *save = NULL, *name = strtok_r(list, ";", &save); name && n < 32;
	     name = strtok_r(NULL, ";", &save)) {
		const char *v = kvl_getcase(&q->headers, name);
		if (!v) {
			free(list);
			resp_error(
			    r, q->svc, 403, auth_code(q->svc, SIGNATURE),
			    "The request signature we calculated does not match the signature "
			    "you provided. A signed header is missing.");
			return false;
		}
		has_host |= strcmp(name, "host") == 0;
		h[n++] = (struct sigv4_header){name, v};
	}
	struct sigv4_request sr = {.method = q->method,
				   .path = q->path,
				   .query = q->query,
				   .headers = h,
				   .n_headers = n,
				   .body = q->body.buf,
				   .body_len = q->body.len,
				   .normalize_path = true};
	struct sigv4_result out;
	bool ok = has_host && sigv4_sign(&sr, ak, secret, region, service, date, &out) == 0;
	if (ok) {
		ok = strcmp(out.signature, sig) == 0 &&
		     strcmp(out.signed_headers, signed_headers) == 0;
		sigv4_result_free(&out);
	}
	free(list);
	if (!ok) {
		resp_error(
		    r, q->svc, 403, auth_code(q->svc, SIGNATURE),
		    "The request signature we calculated does not match the signature you "
		    "provided. Check your AWS Secret Access Key and signing method. Consult the "
		    "service documentation for details.");
		return false;
	}
	return true;
}

/*
 * Answers q with an injected fault if one matches; true when it did.  A
 * lost answer (FAKE_AWS_DROP_ANSWER) returns false with r->drop set, so
 * the request is carried out before the connection closes.
 */
static bool apply_fault(struct fake_aws *f, struct freq *q, struct fresp *r)
{
	for (size_t i = 0; i < f->n_faults; i++) {
		struct ffault *ft = f->faults[i];
		if (ft->left == 0 || (ft->op && strcmp(ft->op, q->op) != 0))
			continue;
		ft->left--;
		bool json = q->svc == SVC_SSM || q->svc == SVC_PRICING || q->svc == SVC_EKS;
		switch (ft->fault) {
		case FAKE_AWS_THROTTLE:
			if (q->svc == SVC_IMDS || q->svc == SVC_CONTAINER)
				resp_error(r, q->svc, 429, "", "Too Many Requests");
			else
				resp_error(r, q->svc, 400,
					   q->svc == SVC_EC2   ? "RequestLimitExceeded"
					   : q->svc == SVC_STS ? "Throttling"
							       : "ThrottlingException",
					   "Request limit exceeded.");
			if (f->retry_after)
				snprintf(r->retry_after, sizeof(r->retry_after), "%u",
					 f->retry_after);
			break;
		case FAKE_AWS_INTERNAL:
			resp_error(r, q->svc, 500, json ? "InternalFailure" : "InternalError",
				   "An internal error has occurred");
			break;
		case FAKE_AWS_UNAVAILABLE:
			resp_error(r, q->svc, 503, json ? "ServiceUnavailable" : "Unavailable",
				   "The server is overloaded or not accepting requests.");
			break;
		case FAKE_AWS_DROP:
			r->drop = true;
			break;
		case FAKE_AWS_DROP_ANSWER:
			/* Done, then the answer is lost: the caller sees a dropped connection. */
			r->drop = true;
			return false;
		case FAKE_AWS_EXPIRED:
			resp_error(r, q->svc, q->svc == SVC_EC2 ? 400 : 403, auth_code(q->svc, 2),
				   "The security token included in the request is expired");
			break;
		}
		return true;
	}
	return false;
}

/* ------------------------------------------------------------ IMDS and containers */

static void creds_json(struct fake_aws *f, struct fresp *r, bool imds)
{
	struct fcred *c = issue_creds(f);
	char exp[32], now[32];
	iso8601(c->expires_ms, exp, false);
	iso8601(fnow(f), now, false);
	json_t *j = imds ? json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Code", "Success",
				     "LastUpdated", now, "Type", "AWS-HMAC", "AccessKeyId", c->ak,
				     "SecretAccessKey", c->sk, "Token", c->token, "Expiration", exp)
			 : json_pack("{s:s, s:s, s:s, s:s, s:s}", "AccessKeyId", c->ak,
				     "SecretAccessKey", c->sk, "Token", c->token, "AccountId",
				     FAKE_AWS_ACCOUNT, "Expiration", exp);
	resp_json(r, j);
	r->ctype = imds ? "text/plain" : "application/json";
}

static void handle_imds(struct fake_aws *f, struct freq *q, struct fresp *r)
{
	if (strcmp(q->path, "/latest/api/token") == 0) {
		if (strcmp(q->method, "PUT") != 0) {
			resp_error(r, SVC_IMDS, 405, "", "Method Not Allowed");
			return;
		}
		const char *ttl = kvl_getcase(&q->headers, "X-aws-ec2-metadata-token-ttl-seconds");
		long s = ttl ? strtol(ttl, NULL, 10) : 0;
		if (s < 1 || s > 21600) {
			resp_error(r, SVC_IMDS, 400, "", "Bad Request");
			return;
		}
		char tok[64];
		snprintf(tok, sizeof(tok), "AQAEAFakeImdsToken%lu==", ++f->seq);
		kvl_add(&f->imds_tokens, tok, ttl);
		r->status = 200;
		r->ctype = "text/plain";
		sb_puts(&r->body, tok);
		return;
	}
	const char *tok = kvl_getcase(&q->headers, "X-aws-ec2-metadata-token");
	if (!tok || !kvl_get(&f->imds_tokens, tok)) {
		resp_error(r, SVC_IMDS, 401, "", "Unauthorized");
		return;
	}
	static const char creds[] = "/latest/meta-data/iam/security-credentials/";
	r->status = 200;
	r->ctype = "text/plain";
	if (strcmp(q->path, creds) == 0)
		sb_puts(&r->body, FAKE_AWS_IMDS_ROLE);
	else if (strcmp(q->path, creds) > 0 && strncmp(q->path, creds, sizeof(creds) - 1) == 0 &&
		 strcmp(q->path + sizeof(creds) - 1, FAKE_AWS_IMDS_ROLE) == 0)
		creds_json(f, r, true);
	else if (strcmp(q->path, "/latest/meta-data/placement/region") == 0)
		sb_puts(&r->body, FAKE_AWS_REGION);
	else if (strcmp(q->path, "/latest/meta-data/placement/availability-zone") == 0)
		sb_puts(&r->body, ZONES[0]);
	else
		resp_error(r, SVC_IMDS, 404, "", "Not Found");
}

static void handle_container(struct fake_aws *f, struct freq *q, struct fresp *r)
{
	const char *auth = kvl_getcase(&q->headers, "Authorization");
	if (!auth || strcmp(auth, f->container_token) != 0) {
		resp_error(r, SVC_CONTAINER, 401, "", "Unauthorized");
		return;
	}
	creds_json(f, r, false);
}

/* ------------------------------------------------------------ STS */

static void sts_credentials(struct fake_aws *f, struct strbuf *b, const char *role,
			    const char *session)
{
	struct fcred *c = issue_creds(f);
	char exp[32];
	iso8601(c->expires_ms, exp, false);
	const char *slash = strrchr(role, '/');
	sb_puts(b, "<AssumedRoleUser><Arn>arn:aws:sts::" FAKE_AWS_ACCOUNT ":assumed-role/");
	xml_esc(b, slash ? slash + 1 : role);
	sb_puts(b, "/");
	xml_esc(b, session);
	sb_puts(b, "</Arn><AssumedRoleId>AROAFAKEROLEID:");
	xml_esc(b, session);
	sb_puts(b, "</AssumedRoleId></AssumedRoleUser><Credentials>");
	xel(b, "AccessKeyId", c->ak);
	xel(b, "SecretAccessKey", c->sk);
	xel(b, "SessionToken", c->token);
	xel(b, "Expiration", exp);
	sb_puts(b, "</Credentials>");
}

static void handle_sts(struct fake_aws *f, struct freq *q, struct fresp *r)
{
	const char *role = kvl_get(&q->params, "RoleArn");
	const char *session = kvl_get(&q->params, "RoleSessionName");
	bool web = strcmp(q->op, "AssumeRoleWithWebIdentity") == 0;
	if (web || strcmp(q->op, "AssumeRole") == 0) {
		if (!role || !session || !*session) {
			resp_error(r, SVC_STS, 400, "MissingParameter",
				   "The request must contain the parameter RoleArn and "
				   "RoleSessionName");
			return;
		}
		if (strncmp(role, "arn:aws:iam::", 13) != 0) {
			resp_error(r, SVC_STS, 400, "ValidationError",
				   "RoleArn is not a valid ARN");
			return;
		}
		if (web) {
			const char *tok = kvl_get(&q->params, "WebIdentityToken");
			if (!tok || strcmp(tok, f->web_token) != 0) {
				resp_error(r, SVC_STS, 400, "InvalidIdentityToken",
					   "Couldn't retrieve verification key from your identity "
					   "provider");
				return;
			}
		}
		resp_xml(r, 200);
		sb_printf(&r->body, "<%sResponse xmlns=\"" STS_NS "\"><%sResult>", q->op, q->op);
		if (web)
			sb_puts(&r->body, "<SubjectFromWebIdentityToken>system:serviceaccount:kube-"
					  "system:karpenter</SubjectFromWebIdentityToken>"
					  "<Audience>sts.amazonaws.com</Audience>");
		sts_credentials(f, &r->body, role, session);
		if (web)
			sb_puts(&r->body, "<Provider>arn:aws:iam::" FAKE_AWS_ACCOUNT
					  ":oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/"
					  "EXAMPLED539D4633E53DE1B71EXAMPLE</Provider>");
		else
			sb_puts(&r->body, "<PackedPolicySize>6</PackedPolicySize>");
		sb_printf(&r->body,
			  "</%sResult><ResponseMetadata><RequestId>" REQUEST_ID
			  "</RequestId></ResponseMetadata></%sResponse>",
			  q->op, q->op);
		return;
	}
	if (strcmp(q->op, "GetCallerIdentity") == 0) {
		resp_xml(r, 200);
		sb_puts(
		    &r->body,
		    "<GetCallerIdentityResponse xmlns=\"" STS_NS
		    "\"><GetCallerIdentityResult><Arn>arn:aws:iam::" FAKE_AWS_ACCOUNT
		    ":user/kerf</Arn><UserId>AIDAFAKEUSERID</UserId><Account>" FAKE_AWS_ACCOUNT
		    "</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>" REQUEST_ID
		    "</RequestId></ResponseMetadata></GetCallerIdentityResponse>");
		return;
	}
	char msg[160];
	snprintf(msg, sizeof(msg), "Could not find operation %s for version 2011-06-15", q->op);
	resp_error(r, SVC_STS, 400, "InvalidAction", msg);
}

/* ------------------------------------------------------------ EC2 filters and pages */

struct ffilter {
	const char *name;
	const char *values[32];
	size_t n;
};

/* Filter.N.Name / Filter.N.Value.M into filters (at most 16). */
static size_t parse_filters(const struct kvl *p, struct ffilter *out)
{
	size_t n = 0;
	for (int i = 1; i <= 16; i++) {
		char key[48];
		snprintf(key, sizeof(key), "Filter.%d.Name", i);
		const char *name = kvl_get(p, key);
		if (!name)
			continue;
		out[n].name = name;
		snprintf(key, sizeof(key), "Filter.%d.Value", i);
		out[n].n = kvl_list(p, key, out[n].values, 32);
		n++;
	}
	return n;
}

static bool value_matches(const char *const *values, size_t n, const char *v)
{
	for (size_t i = 0; i < n; i++)
		if (fnmatch(values[i], v, 0) == 0)
			return true;
	return false;
}

static bool obj_matches(const struct fobj *o, const struct ffilter *fl, size_t nf)
{
	for (size_t i = 0; i < nf; i++) {
		const struct ffilter *x = &fl[i];
		if (strncmp(x->name, "tag:", 4) == 0) {
			const char *v = kvl_get(&o->tags, x->name + 4);
			if (!v || !value_matches(x->values, x->n, v))
				return false;
		} else if (strcmp(x->name, "tag-key") == 0) {
			bool any = false;
			for (size_t t = 0; t < o->tags.n && !any; t++)
				any = value_matches(x->values, x->n, o->tags.k[t]);
			if (!any)
				return false;
		} else {
			const char *v = kvl_get(&o->attrs, x->name);
			if (!v || !value_matches(x->values, x->n, v))
				return false;
		}
	}
	return true;
}

/*
 * Selects objects by an ID list (`ids_prefix`.N, matched against attribute
 * id_attr) and filters.  An unknown id answers not_found as EC2 does.
 * Returns false with the error in r.
 */
static bool select_objs(struct fobj **v, size_t n, const struct kvl *p, const char *ids_prefix,
			const char *id_attr, const char *not_found, struct fresp *r,
			struct fobj ***out, size_t *n_out)
{
	const char *ids[64];
	size_t n_ids = ids_prefix ? kvl_list(p, ids_prefix, ids, 64) : 0;
	for (size_t i = 0; i < n_ids; i++) {
		bool found = false;
		for (size_t k = 0; k < n && !found; k++)
			found = strcmp(kvl_get(&v[k]->attrs, id_attr), ids[i]) == 0;
		if (!found) {
			char msg[200];
			snprintf(msg, sizeof(msg), "The ID '%s' does not exist", ids[i]);
			resp_error(r, SVC_EC2, 400, not_found, msg);
			return false;
		}
	}
	struct ffilter fl[16];
	size_t nf = parse_filters(p, fl);
	*out = xcalloc(n + 1, sizeof(**out));
	*n_out = 0;
	for (size_t k = 0; k < n; k++) {
		if (n_ids && !value_matches(ids, n_ids, kvl_get(&v[k]->attrs, id_attr)))
			continue;
		if (obj_matches(v[k], fl, nf))
			(*out)[(*n_out)++] = v[k];
	}
	return true;
}

/* The page [*start, *end) of n items, and the token of the next one. */
static bool page_of(struct fake_aws *f, const struct kvl *p, size_t n, size_t *start, size_t *end,
		    struct fresp *r)
{
	size_t size = f->page_size;
	const char *max = kvl_get(p, "MaxResults");
	if (max && strtoul(max, NULL, 10) > 0 && strtoul(max, NULL, 10) < size)
		size = strtoul(max, NULL, 10);
	*start = 0;
	const char *tok = kvl_get(p, "NextToken");
	if (tok) {
		if (strncmp(tok, "fake-page-", 10) != 0 || strtoul(tok + 10, NULL, 10) > n) {
			resp_error(r, SVC_EC2, 400, "InvalidNextToken",
				   "The specified token is invalid");
			return false;
		}
		*start = strtoul(tok + 10, NULL, 10);
	}
	*end = *start + size < n ? *start + size : n;
	return true;
}

static void next_token(struct strbuf *b, size_t end, size_t n)
{
	if (end < n)
		sb_printf(b, "<nextToken>fake-page-%zu</nextToken>", end);
}

static void ec2_open(struct fresp *r, const char *op)
{
	resp_xml(r, 200);
	sb_printf(&r->body,
		  XML_DECL "<%sResponse xmlns=\"" EC2_NS "\"><requestId>" REQUEST_ID "</requestId>",
		  op);
}

static void ec2_close(struct fresp *r, const char *op)
{
	sb_printf(&r->body, "</%sResponse>", op);
}

/* ------------------------------------------------------------ EC2 describe calls */

static void xml_itype(struct strbuf *b, const struct itype *t)
{
	sb_puts(b, "<item>");
	xel(b, "instanceType", t->name);
	sb_puts(b, "<currentGeneration>true</currentGeneration><freeTierEligible>false</"
		   "freeTierEligible><supportedUsageClasses><item>on-demand</item><item>spot</"
		   "item></supportedUsageClasses><supportedRootDeviceTypes><item>ebs</item></"
		   "supportedRootDeviceTypes><supportedVirtualizationTypes><item>hvm</item></"
		   "supportedVirtualizationTypes><bareMetal>false</bareMetal><hypervisor>nitro</"
		   "hypervisor>");
	sb_printf(b,
		  "<processorInfo><supportedArchitectures><item>%s</item></supportedArchitectures>"
		  "<sustainedClockSpeedInGhz>%s</sustainedClockSpeedInGhz><manufacturer>%s</"
		  "manufacturer></processorInfo>",
		  t->arch, t->ghz, t->manufacturer);
	sb_printf(b,
		  "<vCpuInfo><defaultVCpus>%d</defaultVCpus><defaultCores>%d</defaultCores>"
		  "<defaultThreadsPerCore>%d</defaultThreadsPerCore></vCpuInfo>",
		  t->vcpu, t->cores, t->threads);
	sb_printf(b, "<memoryInfo><sizeInMiB>%d</sizeInMiB></memoryInfo>", t->mem_mib);
	if (t->nvme_gb)
		sb_printf(b,
			  "<instanceStorageSupported>true</instanceStorageSupported>"
			  "<instanceStorageInfo><totalSizeInGB>%d</totalSizeInGB><disks><item>"
			  "<sizeInGB>%d</sizeInGB><count>1</count><type>ssd</type></item></disks>"
			  "<nvmeSupport>required</nvmeSupport><encryptionSupport>required</"
			  "encryptionSupport></instanceStorageInfo>",
			  t->nvme_gb, t->nvme_gb);
	else
		sb_puts(b, "<instanceStorageSupported>false</instanceStorageSupported>");
	sb_puts(b, "<ebsInfo><ebsOptimizedSupport>default</ebsOptimizedSupport><encryptionSupport>"
		   "supported</encryptionSupport><nvmeSupport>required</nvmeSupport></ebsInfo>");
	sb_printf(b,
		  "<networkInfo><networkPerformance>%s</networkPerformance>"
		  "<maximumNetworkInterfaces>%d</maximumNetworkInterfaces>"
		  "<maximumNetworkCards>1</maximumNetworkCards><defaultNetworkCardIndex>0</"
		  "defaultNetworkCardIndex><networkCards><item><networkCardIndex>0</"
		  "networkCardIndex><networkPerformance>%s</networkPerformance>"
		  "<maximumNetworkInterfaces>%d</maximumNetworkInterfaces>"
		  "<baselineBandwidthInGbps>%s</baselineBandwidthInGbps></item></networkCards>"
		  "<ipv4AddressesPerInterface>%d</ipv4AddressesPerInterface>"
		  "<ipv6AddressesPerInterface>%d</ipv6AddressesPerInterface>"
		  "<ipv6Supported>true</ipv6Supported><enaSupport>required</enaSupport>"
		  "<efaSupported>false</efaSupported><encryptionInTransitSupported>%s</"
		  "encryptionInTransitSupported></networkInfo>",
		  t->netperf, t->enis, t->netperf, t->enis, t->bw_gbps, t->ipv4, t->ipv4,
		  t->encrypt ? "true" : "false");
	if (t->gpus)
		sb_printf(b,
			  "<gpuInfo><gpus><item><name>%s</name><manufacturer>%s</manufacturer>"
			  "<count>%d</count><memoryInfo><sizeInMiB>%d</sizeInMiB></memoryInfo>"
			  "</item></gpus><totalGpuMemoryInMiB>%d</totalGpuMemoryInMiB></gpuInfo>",
			  t->gpu, t->gpu_maker, t->gpus, t->gpu_mem, t->gpus * t->gpu_mem);
	sb_printf(b,
		  "<burstablePerformanceSupported>%s</burstablePerformanceSupported>"
		  "<dedicatedHostsSupported>true</dedicatedHostsSupported><autoRecoverySupported>"
		  "true</autoRecoverySupported></item>",
		  t->burst ? "true" : "false");
}

static void ec2_instance_types(struct fake_aws *f, struct freq *q, struct fresp *r)
{
	const char *names[64];
	size_t nn = kvl_list(&q->params, "InstanceType", names, 64);
	const struct itype *sel[N_ITYPES];
	size_t n = 0;
	for (size_t i = 0; i < nn; i++)
		if (!itype_find(names[i])) {
			char msg[160];
			snprintf(msg, sizeof(msg),
				 "The following supplied instance types do not exist: [%s]",
				 names[i]);
			resp_error(r, SVC_EC2, 400, "InvalidInstanceType", msg);
			return;
		}
	for (size_t i = 0; i < N_ITYPES; i++)
		if (nn == 0 || value_matches(names, nn, ITYPES[i].name))
			sel[n++] = &ITYPES[i];
	size_t s, e;
	if (!page_of(f, &q->params, n, &s, &e, r))
		return;
	ec2_open(r, q->op);
	sb_puts(&r->body, "<instanceTypeSet>");
	for (size_t i = s; i < e; i++)
		xml_itype(&r->body, sel[i]);
	sb_puts(&r->body, "</instanceTypeSet>");
	next_token(&r->body, e, n);
	ec2_close(r, q->op);
}

static void ec2_offerings(struct fake_aws *f, struct freq *q, struct fresp *r)
{
	const char *lt = kvl_get(&q->params, "LocationType");
	bool region = lt && strcmp(lt, "region") == 0;
	struct ffilter fl[16];
	size_t nf = parse_filters(&q->params, fl);
	struct kvl items = {0}; /* type -> location */
	for (size_t i = 0; i < N_ITYPES; i++) {
		for (int z = 0; z < (region ? 1 : 3); z++) {
			const char *loc = region ? FAKE_AWS_REGION : ZONES[z];
			if (!region && !offered(&ITYPES[i], loc))
				continue;
			bool ok = true;
			for (size_t k = 0; k < nf && ok; k++) {
				if (strcmp(fl[k].name, "location") == 0)
					ok = value_matches(fl[k].values, fl[k].n, loc);
				else if (strcmp(fl[k].name, "instance-type") == 0)
					ok = value_matches(fl[k].values, fl[k].n, ITYPES[i].name);
			}
			if (ok)
				kvl_add(&items, ITYPES[i].name, loc);
		}
	}
	size_t s, e;
	if (!page_of(f, &q->params, items.n, &s, &e, r)) {
		kvl_free(&items);
		return;
	}
	ec2_open(r, q->op);
	sb_puts(&r->body, "<instanceTypeOfferingSet>");
	for (size_t i = s; i < e; i++)
		sb_printf(&r->body,
			  "<item><instanceType>%s</instanceType><locationType>%s</locationType>"
			  "<location>%s</location></item>",
			  items.k[i], region ? "region" : "availability-zone", items.v[i]);
	sb_puts(&r->body, "</instanceTypeOfferingSet>");
	next_token(&r->body, e, items.n);
	ec2_close(r, q->op);
	kvl_free(&items);
}

static void ec2_zones(struct freq *q, struct fresp *r)
{
	ec2_open(r, q->op);
	sb_puts(&r->body, "<availabilityZoneInfo>");
	for (int z = 0; z < 3; z++)
		sb_printf(
		    &r->body,
		    "<item><zoneName>%s</zoneName><zoneState>available</zoneState><regionName>"
		    "%s</regionName><zoneId>%s</zoneId><zoneType>availability-zone</zoneType>"
		    "<messageSet/></item>",
		    ZONES[z], FAKE_AWS_REGION, ZONE_IDS[z]);
	sb_puts(&r->body, "</availabilityZoneInfo>");
	ec2_close(r, q->op);
}

static void ec2_subnets(struct fake_aws *f, struct freq *q, struct fresp *r)
{
	struct fobj **sel;
	size_t n;
	if (!select_objs(f->subnets.v, f->subnets.n, &q->params, "SubnetId", "subnet-id",
			 "InvalidSubnetID.NotFound", r, &sel, &n))
		return;
	ec2_open(r, q->op);
	sb_puts(&r->body, "<subnetSet>");
	for (size_t i = 0; i < n; i++) {
		const struct kvl *a = &sel[i]->attrs;
		sb_puts(&r->body, "<item>");
		xel(&r->body, "subnetId", sel[i]->id);
		sb_printf(
		    &r->body,
		    "<subnetArn>arn:aws:ec2:%s:%s:subnet/%s</subnetArn><state>available</state>"
		    "<ownerId>%s</ownerId>",
		    FAKE_AWS_REGION, FAKE_AWS_ACCOUNT, sel[i]->id, FAKE_AWS_ACCOUNT);
		xel(&r->body, "vpcId", kvl_get(a, "vpc-id"));
		xel(&r->body, "cidrBlock", kvl_get(a, "cidr-block"));
		xel(&r->body, "availableIpAddressCount", kvl_get(a, "available-ip-address-count"));
		xel(&r->body, "availabilityZone", kvl_get(a, "availability-zone"));
		xel(&r->body, "availabilityZoneId", kvl_get(a, "availability-zone-id"));
		sb_puts(&r->body, "<defaultForAz>false</defaultForAz><mapPublicIpOnLaunch>false</"
				  "mapPublicIpOnLaunch>");
		xtags(&r->body, &sel[i]->tags);
		sb_puts(&r->body, "</item>");
	}
	sb_puts(&r->body, "</subnetSet>");
	ec2_close(r, q->op);
	free(sel);
}

static void ec2_groups(struct fake_aws *f, struct freq *q, struct fresp *r)
{
	struct fobj **sel;
	size_t n;
	if (!select_objs(f->groups.v, f->groups.n, &q->params, "GroupId", "group-id",
			 "InvalidGroup.NotFound", r, &sel, &n))
		return;
	ec2_open(r, q->op);
	sb_puts(&r->body, "<securityGroupInfo>");
	for (size_t i = 0; i < n; i++) {
		const struct kvl *a = &sel[i]->attrs;
		sb_puts(&r->body, "<item>");
		xel(&r->body, "ownerId", FAKE_AWS_ACCOUNT);
		xel(&r->body, "groupId", sel[i]->id);
		xel(&r->body, "groupName", kvl_get(a, "group-name"));
		xel(&r->body, "groupDescription", kvl_get(a, "description"));
		xel(&r->body, "vpcId", kvl_get(a, "vpc-id"));
		sb_puts(&r->body, "<ipPermissions/><ipPermissionsEgress/>");
		xtags(&r->body, &sel[i]->tags);
		sb_puts(&r->body, "</item>");
	}
	sb_puts(&r->body, "</securityGroupInfo>");
	ec2_close(r, q->op);
	free(sel);
}

static void ec2_images(struct fake_aws *f, struct freq *q, struct fresp *r)
{
	struct fobj **sel;
	size_t n;
	if (!select_objs(f->images.v, f->images.n, &q->params, "ImageId", "image-id",
			 "InvalidAMIID.NotFound", r, &sel, &n))
		return;
	const char *owners[16];
	size_t no = kvl_list(&q->params, "Owner", owners, 16);
	ec2_open(r, q->op);
	sb_puts(&r->body, "<imagesSet>");
	for (size_t i = 0; i < n; i++) {
		const struct kvl *a = &sel[i]->attrs;
		if (no) {
			const char *oid = kvl_get(a, "owner-id");
			const char *alias = kvl_get(a, "owner-alias");
			bool ok = false;
			for (size_t k = 0; k < no && !ok; k++)
				ok = strcmp(owners[k], oid) == 0 ||
				     (alias && strcmp(owners[k], alias) == 0) ||
				     (strcmp(owners[k], "self") == 0 &&
				      strcmp(oid, FAKE_AWS_ACCOUNT) == 0);
			if (!ok)
				continue;
		}
		sb_puts(&r->body, "<item>");
		xel(&r->body, "imageId", sel[i]->id);
		sb_printf(&r->body, "<imageLocation>%s/", kvl_get(a, "owner-id"));
		xml_esc(&r->body, kvl_get(a, "name"));
		sb_puts(&r->body, "</imageLocation><imageState>available</imageState>");
		xel(&r->body, "imageOwnerId", kvl_get(a, "owner-id"));
		xel(&r->body, "creationDate", kvl_get(a, "creation-date"));
		sb_printf(&r->body, "<isPublic>%s</isPublic>",
			  kvl_get(a, "owner-alias") ? "true" : "false");
		xel(&r->body, "architecture", kvl_get(a, "architecture"));
		sb_puts(&r->body, "<imageType>machine</imageType>");
		if (kvl_get(a, "owner-alias"))
			xel(&r->body, "imageOwnerAlias", kvl_get(a, "owner-alias"));
		xel(&r->body, "name", kvl_get(a, "name"));
		xel(&r->body, "description", kvl_get(a, "name"));
		sb_puts(
		    &r->body,
		    "<rootDeviceType>ebs</rootDeviceType><rootDeviceName>/dev/xvda</"
		    "rootDeviceName><blockDeviceMapping><item><deviceName>/dev/xvda</deviceName>"
		    "<ebs><snapshotId>snap-0a000000000000001</snapshotId><volumeSize>20</"
		    "volumeSize><deleteOnTermination>true</deleteOnTermination><volumeType>gp3</"
		    "volumeType><encrypted>false</encrypted></ebs></item></blockDeviceMapping>"
		    "<virtualizationType>hvm</virtualizationType>");
		xtags(&r->body, &sel[i]->tags);
		sb_puts(&r->body, "<hypervisor>xen</hypervisor><platformDetails>Linux/UNIX</"
				  "platformDetails><enaSupport>true</enaSupport></item>");
	}
	sb_puts(&r->body, "</imagesSet>");
	ec2_close(r, q->op);
	free(sel);
}

static void ec2_spot_prices(struct fake_aws *f, struct freq *q, struct fresp *r)
{
	const char *names[64];
	size_t nn = kvl_list(&q->params, "InstanceType", names, 64);
	struct ffilter fl[16];
	size_t nf = parse_filters(&q->params, fl);
	struct kvl items = {0}; /* "type" -> zone */
	for (size_t i = 0; i < N_ITYPES; i++) {
		if (nn && !value_matches(names, nn, ITYPES[i].name))
			continue;
		for (int z = 0; z < 3; z++) {
			if (!offered(&ITYPES[i], ZONES[z]))
				continue;
			bool ok = true;
			for (size_t k = 0; k < nf && ok; k++)
				if (strcmp(fl[k].name, "availability-zone") == 0)
					ok = value_matches(fl[k].values, fl[k].n, ZONES[z]);
			if (ok)
				kvl_add(&items, ITYPES[i].name, ZONES[z]);
		}
	}
	size_t s, e;
	if (!page_of(f, &q->params, items.n, &s, &e, r)) {
		kvl_free(&items);
		return;
	}
	char ts[32];
	iso8601(fnow(f) - 60000, ts, true);
	ec2_open(r, q->op);
	sb_puts(&r->body, "<spotPriceHistorySet>");
	for (size_t i = s; i < e; i++)
		sb_printf(&r->body,
			  "<item><instanceType>%s</instanceType><productDescription>Linux/UNIX</"
			  "productDescription><spotPrice>%.6f</spotPrice><timestamp>%s</timestamp>"
			  "<availabilityZone>%s</availabilityZone></item>",
			  items.k[i], spot_price(f, itype_find(items.k[i]), items.v[i]), ts,
			  items.v[i]);
	sb_puts(&r->body, "</spotPriceHistorySet>");
	next_token(&r->body, e, items.n);
	ec2_close(r, q->op);
	kvl_free(&items);
}

/* ------------------------------------------------------------ launch templates */

/* Tags of TagSpecification.N whose ResourceType is rtype, from p (under prefix). */
static void spec_tags(const struct kvl *p, const char *prefix, const char *rtype, struct kvl *out)
{
	for (int n = 1; n <= 16; n++) {
		char key[160];
		snprintf(key, sizeof(key), "%sTagSpecification.%d.ResourceType", prefix, n);
		const char *t = kvl_get(p, key);
		if (!t || strcmp(t, rtype) != 0)
			continue;
		for (int m = 1; m <= 64; m++) {
			snprintf(key, sizeof(key), "%sTagSpecification.%d.Tag.%d.Key", prefix, n,
				 m);
			const char *k = kvl_get(p, key);
			if (!k)
				continue;
			snprintf(key, sizeof(key), "%sTagSpecification.%d.Tag.%d.Value", prefix, n,
				 m);
			kvl_set(out, k, kvl_get(p, key) ? kvl_get(p, key) : "");
		}
	}
}

static struct fobj *find_template(struct fake_aws *f, const char *name, const char *id)
{
	for (size_t i = 0; i < f->templates.n; i++) {
		struct fobj *o = f->templates.v[i];
		if ((name && strcmp(kvl_get(&o->attrs, "launch-template-name"), name) == 0) ||
		    (id && strcmp(o->id, id) == 0))
			return o;
	}
	return NULL;
}

static void xml_template(struct strbuf *b, const struct fobj *o)
{
	xel(b, "launchTemplateId", o->id);
	xel(b, "launchTemplateName", kvl_get(&o->attrs, "launch-template-name"));
	xel(b, "createTime", kvl_get(&o->attrs, "create-time"));
	sb_puts(b, "<createdBy>arn:aws:iam::" FAKE_AWS_ACCOUNT ":role/kerf</createdBy>"
		   "<defaultVersionNumber>1</defaultVersionNumber><latestVersionNumber>1</"
		   "latestVersionNumber>");
	xtags(b, &o->tags);
}

static void ec2_create_template(struct fake_aws *f, struct freq *q, struct fresp *r)
{
	const char *name = kvl_get(&q->params, "LaunchTemplateName");
	if (!name || strlen(name) < 3 || strlen(name) > 128) {
		resp_error(r, SVC_EC2, 400, "InvalidLaunchTemplateName.MalformedException",
			   "A launch template name must be between 3 and 128 characters");
		return;
	}
	if (find_template(f, name, NULL)) {
		resp_error(r, SVC_EC2, 400, "InvalidLaunchTemplateName.AlreadyExistsException",
			   "Launch template name already in use.");
		return;
	}
	char id[32];
	snprintf(id, sizeof(id), "lt-0%016lx", ++f->seq);
	struct fobj *o = obj_new(&f->templates, id);
	kvl_add(&o->attrs, "launch-template-id", id);
	kvl_add(&o->attrs, "launch-template-name", name);
	char ts[32];
	iso8601(fnow(f), ts, true);
	kvl_add(&o->attrs, "create-time", ts);
	static const char pre[] = "LaunchTemplateData.";
	for (size_t i = 0; i < q->params.n; i++)
		if (strncmp(q->params.k[i], pre, sizeof(pre) - 1) == 0)
			kvl_add(&o->data, q->params.k[i] + sizeof(pre) - 1, q->params.v[i]);
	spec_tags(&q->params, "", "launch-template", &o->tags);
	ec2_open(r, q->op);
	sb_puts(&r->body, "<launchTemplate>");
	xml_template(&r->body, o);
	sb_puts(&r->body, "</launchTemplate>");
	ec2_close(r, q->op);
}

static void ec2_describe_templates(struct fake_aws *f, struct freq *q, struct fresp *r)
{
	struct fobj **sel;
	size_t n;
	const char *ids[4];
	bool by_id = kvl_list(&q->params, "LaunchTemplateId", ids, 4) > 0;
	if (!select_objs(f->templates.v, f->templates.n, &q->params,
			 by_id ? "LaunchTemplateId" : "LaunchTemplateName",
			 by_id ? "launch-template-id" : "launch-template-name",
			 by_id ? "InvalidLaunchTemplateId.NotFound"
			       : "InvalidLaunchTemplateName.NotFoundException",
			 r, &sel, &n))
		return;
	size_t s, e;
	if (!page_of(f, &q->params, n, &s, &e, r)) {
		free(sel);
		return;
	}
	ec2_open(r, q->op);
	sb_puts(&r->body, "<launchTemplates>");
	for (size_t i = s; i < e; i++) {
		sb_puts(&r->body, "<item>");
		xml_template(&r->body, sel[i]);
		sb_puts(&r->body, "</item>");
	}
	sb_puts(&r->body, "</launchTemplates>");
	next_token(&r->body, e, n);
	ec2_close(r, q->op);
	free(sel);
}

static void ec2_delete_template(struct fake_aws *f, struct freq *q, struct fresp *r)
{
	struct fobj *o = find_template(f, kvl_get(&q->params, "LaunchTemplateName"),
				       kvl_get(&q->params, "LaunchTemplateId"));
	if (!o) {
		resp_error(r, SVC_EC2, 400, "InvalidLaunchTemplateName.NotFoundException",
			   "At least one of the launch templates specified in the request does not "
			   "exist.");
		return;
	}
	ec2_open(r, q->op);
	sb_puts(&r->body, "<launchTemplate>");
	xml_template(&r->body, o);
	sb_puts(&r->body, "</launchTemplate>");
	ec2_close(r, q->op);
	for (size_t i = 0; i < f->templates.n; i++)
		if (f->templates.v[i] == o) {
			obj_free(o);
			free(o);
			memmove(&f->templates.v[i], &f->templates.v[i + 1],
				(f->templates.n - i - 1) * sizeof(*f->templates.v));
			f->templates.n--;
			break;
		}
}

/* ------------------------------------------------------------ instances and fleets */

static struct finst *find_instance(struct fake_aws *f, const char *id)
{
	for (size_t i = 0; i < f->n_inst; i++)
		if (strcmp(f->inst[i]->o.id, id) == 0)
			return f->inst[i];
	return NULL;
}

static struct finst *launch(struct fake_aws *f, const struct itype *t, const char *zone,
			    const char *subnet, const char *image, const char *lt,
			    const char *ctype, const char *token, const struct kvl *tags)
{
	struct finst *in = xcalloc(1, sizeof(*in));
	unsigned long n = ++f->seq;
	char id[32], ip[32];
	snprintf(id, sizeof(id), "i-0%016lx", n);
	snprintf(ip, sizeof(ip), "10.0.%lu.%lu", (n / 250) % 250, n % 250 + 4);
	in->o.id = xstrdup(id);
	in->type = xstrdup(t->name);
	in->zone = xstrdup(zone);
	in->subnet = xstrdup(subnet ? subnet : "");
	in->image = xstrdup(image ? image : "");
	in->lt = xstrdup(lt ? lt : "");
	in->ctype = xstrdup(ctype);
	in->state = "running";
	in->token = xstrdup(token ? token : "");
	in->ip = xstrdup(ip);
	in->launch_ms = fnow(f);
	kvl_add(&in->o.attrs, "instance-id", id);
	kvl_add(&in->o.attrs, "instance-type", t->name);
	kvl_add(&in->o.attrs, "availability-zone", zone);
	kvl_add(&in->o.attrs, "subnet-id", in->subnet);
	kvl_add(&in->o.attrs, "image-id", in->image);
	kvl_add(&in->o.attrs, "instance-state-name", "running");
	kvl_add(&in->o.attrs, "private-ip-address", ip);
	if (strcmp(ctype, "spot") == 0)
		kvl_add(&in->o.attrs, "instance-lifecycle", "spot");
	for (size_t i = 0; tags && i < tags->n; i++)
		kvl_set(&in->o.tags, tags->k[i], tags->v[i]);
	xgrow(f->inst, f->cap_inst, f->n_inst + 1);
	f->inst[f->n_inst++] = in;
	return in;
}

static bool pool_available(struct fake_aws *f, const char *type, const char *zone,
			   const char *ctype)
{
	for (size_t i = 0; i < f->n_pools; i++) {
		struct fpool *p = f->pools[i];
		if (strcmp(p->type, type) == 0 && strcmp(p->zone, zone) == 0 &&
		    (!p->ctype || strcmp(p->ctype, ctype) == 0))
			return false;
	}
	return true;
}

struct cand {
	const struct itype *t;
	const struct fobj *lt;
	const char *subnet, *zone, *image;
	double price, priority;
	size_t order;
	bool err_reported;
	size_t launched;
	char **ids;
};

static int cand_cmp(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;
	if (x->price != y->price)
		return x->price < y->price ? -1 : 1;
	if (x->priority != y->priority)
		return x->priority < y->priority ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static void xml_lt_and_overrides(struct strbuf *b, const struct cand *c)
{
	sb_puts(b, "<launchTemplateAndOverrides><launchTemplateSpecification>");
	xel(b, "launchTemplateId", c->lt->id);
	sb_puts(b, "<version>1</version></launchTemplateSpecification><overrides>");
	xel(b, "instanceType", c->t->name);
	if (c->subnet)
		xel(b, "subnetId", c->subnet);
	xel(b, "availabilityZone", c->zone);
	sb_puts(b, "</overrides></launchTemplateAndOverrides>");
}

static void ec2_create_fleet(struct fake_aws *f, struct freq *q, struct fresp *r)
{
	const struct kvl *p = &q->params;
	const char *token = kvl_get(p, "ClientToken");
	if (token && kvl_get(&f->fleets, token)) {
		resp_xml(r, 200);
		sb_puts(&r->body, kvl_get(&f->fleets, token));
		return;
	}
	const char *type = kvl_get(p, "Type");
	if (!type || strcmp(type, "instant") != 0) {
		resp_error(r, SVC_EC2, 400, "InvalidParameterValue",
			   "The fake serves only fleets of Type instant");
		return;
	}
	const char *ctype = kvl_get(p, "TargetCapacitySpecification.DefaultTargetCapacityType");
	if (!ctype)
		ctype = "on-demand";
	const char *total_s = kvl_get(p, "TargetCapacitySpecification.TotalTargetCapacity");
	long total = total_s ? strtol(total_s, NULL, 10) : 0;
	if (total < 1) {
		resp_error(r, SVC_EC2, 400, "MissingParameter",
			   "The request must contain the parameter "
			   "TargetCapacitySpecification.TotalTargetCapacity");
		return;
	}
	struct cand cands[256];
	size_t nc = 0;
	for (int k = 1; k <= 8; k++) {
		char key[160];
		snprintf(key, sizeof(key),
			 "LaunchTemplateConfigs.%d.LaunchTemplateSpecification.LaunchTemplateName",
			 k);
		const char *ltn = kvl_get(p, key);
		snprintf(key, sizeof(key),
			 "LaunchTemplateConfigs.%d.LaunchTemplateSpecification.LaunchTemplateId",
			 k);
		const char *lti = kvl_get(p, key);
		if (!ltn && !lti)
			continue;
		const struct fobj *lt = find_template(f, ltn, lti);
		if (!lt) {
			resp_error(r, SVC_EC2, 400, "InvalidLaunchTemplateName.NotFoundException",
				   "At least one of the launch templates specified in the request "
				   "does not exist.");
			return;
		}
		for (int o = 1; o <= 256 && nc < 256; o++) {
			snprintf(key, sizeof(key),
				 "LaunchTemplateConfigs.%d.Overrides.%d.InstanceType", k, o);
			const char *it = kvl_get(p, key);
			if (!it)
				continue;
			const struct itype *t = itype_find(it);
			if (!t) {
				resp_error(r, SVC_EC2, 400, "InvalidParameterValue",
					   "An override names an unknown instance type");
				return;
			}
			struct cand *c = &cands[nc];
			memset(c, 0, sizeof(*c));
			c->t = t;
			c->lt = lt;
			c->order = nc;
			snprintf(key, sizeof(key), "LaunchTemplateConfigs.%d.Overrides.%d.SubnetId",
				 k, o);
			c->subnet = kvl_get(p, key);
			snprintf(key, sizeof(key),
				 "LaunchTemplateConfigs.%d.Overrides.%d.AvailabilityZone", k, o);
			c->zone = kvl_get(p, key);
			snprintf(key, sizeof(key), "LaunchTemplateConfigs.%d.Overrides.%d.ImageId",
				 k, o);
			c->image = kvl_get(p, key);
			if (!c->image)
				c->image = kvl_get(&lt->data, "ImageId");
			snprintf(key, sizeof(key), "LaunchTemplateConfigs.%d.Overrides.%d.Priority",
				 k, o);
			c->priority = kvl_get(p, key) ? strtod(kvl_get(p, key), NULL) : 0;
			if (c->subnet) {
				const struct fobj *sn = NULL;
				for (size_t s = 0; s < f->subnets.n; s++)
					if (strcmp(f->subnets.v[s]->id, c->subnet) == 0)
						sn = f->subnets.v[s];
				if (!sn) {
					resp_error(r, SVC_EC2, 400, "InvalidSubnetID.NotFound",
						   "The subnet ID does not exist");
					return;
				}
				c->zone = kvl_get(&sn->attrs, "availability-zone");
			}
			if (!c->zone) {
				resp_error(r, SVC_EC2, 400, "InvalidParameterValue",
					   "An override needs a SubnetId or AvailabilityZone");
				return;
			}
			c->price = strcmp(ctype, "spot") == 0 ? spot_price(f, t, c->zone)
							      : strtod(t->od, NULL);
			nc++;
		}
	}
	if (nc == 0) {
		resp_error(r, SVC_EC2, 400, "MissingParameter",
			   "The request must contain LaunchTemplateConfigs with Overrides");
		return;
	}
	qsort(cands, nc, sizeof(cands[0]), cand_cmp);
	struct kvl tags = {0};
	spec_tags(p, "", "instance", &tags);
	struct strbuf errs;
	sb_init(&errs);
	for (long u = 0; u < total; u++) {
		bool placed = false;
		for (size_t i = 0; i < nc && !placed; i++) {
			struct cand *c = &cands[i];
			const char *why = NULL;
			if (!offered(c->t, c->zone))
				why = "Unsupported";
			else if (!pool_available(f, c->t->name, c->zone, ctype))
				why = "InsufficientInstanceCapacity";
			if (why) {
				if (!c->err_reported) {
					c->err_reported = true;
					sb_puts(&errs, "<item>");
					xml_lt_and_overrides(&errs, c);
					sb_printf(&errs, "<lifecycle>%s</lifecycle>", ctype);
					xel(&errs, "errorCode", why);
					sb_printf(
					    &errs,
					    "<errorMessage>We currently do not have sufficient %s "
					    "capacity in the Availability Zone you requested (%s). "
					    "Our system will be working on provisioning additional "
					    "capacity.</errorMessage></item>",
					    c->t->name, c->zone);
				}
				continue;
			}
			struct kvl all = {0};
			spec_tags(&c->lt->data, "", "instance", &all);
			for (size_t k = 0; k < tags.n; k++)
				kvl_set(&all, tags.k[k], tags.v[k]);
			struct finst *in = launch(f, c->t, c->zone, c->subnet, c->image,
						  kvl_get(&c->lt->attrs, "launch-template-name"),
						  ctype, token, &all);
			kvl_free(&all);
			c->ids = xrealloc(c->ids, (c->launched + 1) * sizeof(*c->ids));
			c->ids[c->launched++] = in->o.id;
			placed = true;
		}
		if (!placed)
			break;
	}
	struct strbuf b;
	sb_init(&b);
	sb_printf(&b,
		  XML_DECL "<CreateFleetResponse xmlns=\"" EC2_NS "\"><requestId>" REQUEST_ID
			   "</requestId><fleetId>fleet-0%016lx</fleetId>",
		  ++f->seq);
	if (errs.len)
		sb_printf(&b, "<errorSet>%s</errorSet>", errs.buf);
	else
		sb_puts(&b, "<errorSet/>");
	sb_puts(&b, "<fleetInstanceSet>");
	for (size_t i = 0; i < nc; i++) {
		struct cand *c = &cands[i];
		if (!c->launched)
			continue;
		sb_puts(&b, "<item>");
		xml_lt_and_overrides(&b, c);
		sb_printf(&b, "<lifecycle>%s</lifecycle><instanceIds>", ctype);
		for (size_t k = 0; k < c->launched; k++)
			xel(&b, "item", c->ids[k]);
		sb_printf(&b, "</instanceIds><instanceType>%s</instanceType><platform/></item>",
			  c->t->name);
		free(c->ids);
	}
	sb_puts(&b, "</fleetInstanceSet></CreateFleetResponse>");
	if (token)
		kvl_add(&f->fleets, token, b.buf);
	resp_xml(r, 200);
	sb_puts(&r->body, b.buf);
	sb_free(&b);
	sb_free(&errs);
	kvl_free(&tags);
}

static int state_code(const char *s)
{
	return strcmp(s, "running") == 0 ? 16 : strcmp(s, "terminated") == 0 ? 48 : 32;
}

static void ec2_describe_instances(struct fake_aws *f, struct freq *q, struct fresp *r)
{
	struct fobj **objs = xcalloc(f->n_inst + 1, sizeof(*objs));
	for (size_t i = 0; i < f->n_inst; i++)
		objs[i] = &f->inst[i]->o;
	struct fobj **sel;
	size_t n;
	bool ok = select_objs(objs, f->n_inst, &q->params, "InstanceId", "instance-id",
			      "InvalidInstanceID.NotFound", r, &sel, &n);
	free(objs);
	if (!ok)
		return;
	size_t s, e;
	if (!page_of(f, &q->params, n, &s, &e, r)) {
		free(sel);
		return;
	}
	ec2_open(r, q->op);
	sb_puts(&r->body, "<reservationSet>");
	for (size_t i = s; i < e; i++) {
		struct finst *in = find_instance(f, sel[i]->id);
		const struct itype *t = itype_find(in->type);
		char lt[32];
		iso8601(in->launch_ms, lt, true);
		sb_printf(&r->body,
			  "<item><reservationId>r-0%016lx</reservationId><ownerId>%s</ownerId>"
			  "<groupSet/><instancesSet><item>",
			  (unsigned long)i + 1, FAKE_AWS_ACCOUNT);
		xel(&r->body, "instanceId", in->o.id);
		xel(&r->body, "imageId", in->image);
		sb_printf(&r->body, "<instanceState><code>%d</code><name>%s</name></instanceState>",
			  state_code(in->state), in->state);
		char dashed[32];
		snprintf(dashed, sizeof(dashed), "%s", in->ip);
		for (char *c = dashed; *c; c++)
			if (*c == '.')
				*c = '-';
		sb_printf(&r->body,
			  "<privateDnsName>ip-%s.%s.compute.internal</privateDnsName><dnsName/>",
			  dashed, FAKE_AWS_REGION);
		xel(&r->body, "instanceType", in->type);
		xel(&r->body, "launchTime", lt);
		sb_printf(&r->body,
			  "<placement><availabilityZone>%s</availabilityZone><tenancy>default</"
			  "tenancy></placement>",
			  in->zone);
		xel(&r->body, "subnetId", in->subnet);
		sb_puts(&r->body, "<vpcId>vpc-0a000000000000001</vpcId>");
		xel(&r->body, "privateIpAddress", in->ip);
		xel(&r->body, "architecture", t ? t->arch : "x86_64");
		if (strcmp(in->ctype, "spot") == 0)
			sb_printf(&r->body,
				  "<instanceLifecycle>spot</instanceLifecycle>"
				  "<spotInstanceRequestId>sir-%08lx</spotInstanceRequestId>",
				  (unsigned long)i + 1);
		if (in->token[0])
			xel(&r->body, "clientToken", in->token);
		xtags(&r->body, &in->o.tags);
		sb_puts(&r->body, "</item></instancesSet></item>");
	}
	sb_puts(&r->body, "</reservationSet>");
	next_token(&r->body, e, n);
	ec2_close(r, q->op);
	free(sel);
}

static void ec2_terminate(struct fake_aws *f, struct freq *q, struct fresp *r)
{
	const char *ids[1000];
	size_t n = kvl_list(&q->params, "InstanceId", ids, 1000);
	if (n == 0) {
		resp_error(r, SVC_EC2, 400, "MissingParameter",
			   "The request must contain the parameter InstanceId");
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (!find_instance(f, ids[i])) {
			char msg[160];
			snprintf(msg, sizeof(msg), "The instance ID '%s' does not exist", ids[i]);
			resp_error(r, SVC_EC2, 400, "InvalidInstanceID.NotFound", msg);
			return;
		}
	ec2_open(r, q->op);
	sb_puts(&r->body, "<instancesSet>");
	for (size_t i = 0; i < n; i++) {
		struct finst *in = find_instance(f, ids[i]);
		const char *cur =
		    strcmp(in->state, "terminated") == 0 ? "terminated" : "shutting-down";
		sb_printf(&r->body,
			  "<item><instanceId>%s</instanceId><currentState><code>%d</code><name>%s</"
			  "name></currentState><previousState><code>%d</code><name>%s</name></"
			  "previousState></item>",
			  in->o.id, state_code(cur), cur, state_code(in->state), in->state);
		in->state = "terminated";
		kvl_set(&in->o.attrs, "instance-state-name", "terminated");
	}
	sb_puts(&r->body, "</instancesSet>");
	ec2_close(r, q->op);
}

static void ec2_create_tags(struct fake_aws *f, struct freq *q, struct fresp *r)
{
	const char *ids[1000];
	size_t n = kvl_list(&q->params, "ResourceId", ids, 1000);
	for (size_t i = 0; i < n; i++) {
		struct finst *in = find_instance(f, ids[i]);
		struct fobj *lt = in ? NULL : find_template(f, NULL, ids[i]);
		if (!in && !lt) {
			char msg[160];
			snprintf(msg, sizeof(msg), "The ID '%s' is not valid", ids[i]);
			resp_error(r, SVC_EC2, 400,
				   strncmp(ids[i], "i-", 2) == 0 ? "InvalidInstanceID.NotFound"
								 : "InvalidID",
				   msg);
			return;
		}
		for (int m = 1; m <= 64; m++) {
			char key[48];
			snprintf(key, sizeof(key), "Tag.%d.Key", m);
			const char *k = kvl_get(&q->params, key);
			if (!k)
				continue;
			snprintf(key, sizeof(key), "Tag.%d.Value", m);
			const char *v = kvl_get(&q->params, key);
			kvl_set(in ? &in->o.tags : &lt->tags, k, v ? v : "");
		}
	}
	ec2_open(r, q->op);
	sb_puts(&r->body, "<return>true</return>");
	ec2_close(r, q->op);
}

static void handle_ec2(struct fake_aws *f, struct freq *q, struct fresp *r)
{
	static const struct {
		const char *op;
		void (*fn)(struct fake_aws *, struct freq *, struct fresp *);
	} ops[] = {
	    {"DescribeInstanceTypes", ec2_instance_types},
	    {"DescribeInstanceTypeOfferings", ec2_offerings},
	    {"DescribeSubnets", ec2_subnets},
	    {"DescribeSecurityGroups", ec2_groups},
	    {"DescribeImages", ec2_images},
	    {"DescribeSpotPriceHistory", ec2_spot_prices},
	    {"CreateLaunchTemplate", ec2_create_template},
	    {"DescribeLaunchTemplates", ec2_describe_templates},
	    {"DeleteLaunchTemplate", ec2_delete_template},
	    {"CreateFleet", ec2_create_fleet},
	    {"DescribeInstances", ec2_describe_instances},
	    {"TerminateInstances", ec2_terminate},
	    {"CreateTags", ec2_create_tags},
	};
	if (strcmp(q->op, "DescribeAvailabilityZones") == 0) {
		ec2_zones(q, r);
		return;
	}
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (strcmp(ops[i].op, q->op) == 0) {
			ops[i].fn(f, q, r);
			return;
		}
	char msg[160];
	snprintf(msg, sizeof(msg), "The action %s is not valid for this web service.", q->op);
	resp_error(r, SVC_EC2, 400, "InvalidAction", msg);
}

/* ------------------------------------------------------------ SSM, Pricing, EKS */

static void handle_ssm(struct fake_aws *f, struct freq *q, struct fresp *r)
{
	if (strcmp(q->op, "GetParameter") != 0) {
		resp_error(r, SVC_SSM, 400, "InvalidAction", "The fake serves only GetParameter");
		return;
	}
	const char *name = json_string_value(json_object_get(q->json, "Name"));
	if (!name) {
		resp_error(r, SVC_SSM, 400, "ValidationException",
			   "1 validation error detected: Value null at 'name' failed to satisfy "
			   "constraint: Member must not be null");
		return;
	}
	const char *v = kvl_get(&f->params, name);
	if (!v) {
		resp_error(r, SVC_SSM, 400, "ParameterNotFound", "");
		return;
	}
	char arn[512];
	snprintf(arn, sizeof(arn), "arn:aws:ssm:%s::parameter%s", FAKE_AWS_REGION, name);
	resp_json(r, json_pack("{s:{s:s, s:s, s:s, s:i, s:f, s:s, s:s}}", "Parameter", "Name", name,
			       "Type", "String", "Value", v, "Version", 1, "LastModifiedDate",
			       1764576000.0, "ARN", arn, "DataType",
			       strncmp(v, "ami-", 4) == 0 ? "aws:ec2:image" : "text"));
}

static json_t *price_product(const struct itype *t, const char *region)
{
	char sku[32], desc[160], usd[32];
	unsigned long h = 5381;
	for (const char *c = t->name; *c; c++)
		h = h * 33 + (unsigned char)*c;
	snprintf(sku, sizeof(sku), "%016lX", h);
	for (char *c = sku; *c; c++)
		if (*c == '0')
			*c = 'Q';
	snprintf(desc, sizeof(desc), "$%s per On Demand Linux %s Instance Hour", t->od, t->name);
	snprintf(usd, sizeof(usd), "%.10f", strtod(t->od, NULL));
	char term[64], rate[96];
	snprintf(term, sizeof(term), "%s.JRTCKXETXF", sku);
	snprintf(rate, sizeof(rate), "%s.JRTCKXETXF.6YS6EN2CT7", sku);
	char mem[32], vcpu[16];
	snprintf(mem, sizeof(mem), "%g GiB", t->mem_mib / 1024.0);
	snprintf(vcpu, sizeof(vcpu), "%d", t->vcpu);
	json_t *dims = json_object();
	json_object_set_new(dims, rate,
			    json_pack("{s:s, s:s, s:s, s:s, s:[], s:s, s:{s:s}}", "unit", "Hrs",
				      "endRange", "Inf", "description", desc, "rateCode", rate,
				      "appliesTo", "beginRange", "0", "pricePerUnit", "USD", usd));
	json_t *od = json_object();
	json_object_set_new(od, term,
			    json_pack("{s:o, s:s, s:s, s:s, s:{}}", "priceDimensions", dims, "sku",
				      sku, "effectiveDate", "2026-11-01T00:00:00Z", "offerTermCode",
				      "JRTCKXETXF", "termAttributes"));
	return json_pack("{s:{s:s, s:{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}, "
			 "s:s}, s:s, s:{s:o}, s:s, s:s}",
			 "product", "productFamily", "Compute Instance", "attributes",
			 "instanceType", t->name, "regionCode", region, "operatingSystem", "Linux",
			 "tenancy", "Shared", "preInstalledSw", "NA", "capacitystatus", "Used",
			 "operation", "RunInstances", "usagetype", "BoxUsage", "vcpu", vcpu,
			 "memory", mem, "servicecode", "AmazonEC2", "sku", sku, "serviceCode",
			 "AmazonEC2", "terms", "OnDemand", od, "version", "20261101000000",
			 "publicationDate", "2026-11-01T00:00:00Z");
}

static void handle_pricing(struct fake_aws *f, struct freq *q, struct fresp *r)
{
	if (strcmp(q->op, "GetProducts") != 0) {
		resp_error(r, SVC_PRICING, 400, "InvalidAction",
			   "The fake serves only GetProducts");
		return;
	}
	const char *svc = json_string_value(json_object_get(q->json, "ServiceCode"));
	if (!svc || strcmp(svc, "AmazonEC2") != 0) {
		resp_error(r, SVC_PRICING, 400, "InvalidParameterException",
			   "Input parameters ServiceCode is invalid");
		return;
	}
	const char *region = FAKE_AWS_REGION;
	json_t *filters = json_object_get(q->json, "Filters");
	json_t *list = json_array();
	for (size_t i = 0; i < N_ITYPES; i++) {
		json_t *prod = price_product(&ITYPES[i], region);
		json_t *attrs = json_object_get(json_object_get(prod, "product"), "attributes");
		bool ok = true;
		size_t k;
		json_t *fl;
		json_array_foreach(filters, k, fl) {
			const char *field = json_string_value(json_object_get(fl, "Field"));
			const char *value = json_string_value(json_object_get(fl, "Value"));
			if (field && strcmp(field, "regionCode") == 0 && value) {
				json_object_set_new(attrs, "regionCode", json_string(value));
				continue;
			}
			const char *have =
			    field ? json_string_value(json_object_get(attrs, field)) : NULL;
			if (!have || !value || strcmp(have, value) != 0)
				ok = false;
		}
		if (ok)
			json_array_append_new(list, prod);
		else
			json_decref(prod);
	}
	size_t n = json_array_size(list), start = 0;
	const char *tok = json_string_value(json_object_get(q->json, "NextToken"));
	if (tok) {
		if (strncmp(tok, "fake-page-", 10) != 0 || strtoul(tok + 10, NULL, 10) > n) {
			json_decref(list);
			resp_error(r, SVC_PRICING, 400, "InvalidNextTokenException",
				   "The next token is invalid");
			return;
		}
		start = strtoul(tok + 10, NULL, 10);
	}
	size_t size = f->page_size;
	json_int_t max = json_integer_value(json_object_get(q->json, "MaxResults"));
	if (max > 0 && (size_t)max < size)
		size = (size_t)max;
	size_t end = start + size < n ? start + size : n;
	json_t *prices = json_array();
	for (size_t i = start; i < end; i++) {
		char *doc = json_dumps(json_array_get(list, i), JSON_COMPACT);
		json_array_append_new(prices, json_string(doc));
		free(doc);
	}
	json_t *out = json_pack("{s:s, s:o}", "FormatVersion", "aws_v1", "PriceList", prices);
	if (end < n) {
		char t[32];
		snprintf(t, sizeof(t), "fake-page-%zu", end);
		json_object_set_new(out, "NextToken", json_string(t));
	}
	json_decref(list);
	resp_json(r, out);
}

static void handle_eks(struct fake_aws *f, struct freq *q, struct fresp *r)
{
	const char *name = strstr(q->path, "/clusters/") + strlen("/clusters/");
	if (strcmp(q->method, "GET") != 0 || !f->cluster[0] || strcmp(name, f->cluster[0]) != 0) {
		resp_error(r, SVC_EKS, 404, "ResourceNotFoundException",
			   "No cluster found for name");
		r->ctype = "application/json";
		return;
	}
	char arn[256];
	snprintf(arn, sizeof(arn), "arn:aws:eks:%s:%s:cluster/%s", FAKE_AWS_REGION,
		 FAKE_AWS_ACCOUNT, name);
	resp_json(r, json_pack("{s:{s:s, s:s, s:f, s:s, s:s, s:s, s:{s:[s, s, s], s:[s], s:s, s:s, "
			       "s:b, s:b}, s:{s:s}, s:s, s:{s:s, s:s}}}",
			       "cluster", "name", name, "arn", arn, "createdAt", 1764576000.0,
			       "version", "1.31", "endpoint", f->cluster[1], "roleArn",
			       "arn:aws:iam::" FAKE_AWS_ACCOUNT ":role/eks-cluster",
			       "resourcesVpcConfig", "subnetIds", "subnet-0a00000000000000a",
			       "subnet-0a00000000000000b", "subnet-0a00000000000000c",
			       "securityGroupIds", "sg-0a000000000000002", "clusterSecurityGroupId",
			       "sg-0a000000000000001", "vpcId", "vpc-0a000000000000001",
			       "endpointPublicAccess", 1, "endpointPrivateAccess", 1,
			       "certificateAuthority", "data", f->cluster[2], "status", "ACTIVE",
			       "kubernetesNetworkConfig", "serviceIpv4Cidr", "10.100.0.0/16",
			       "ipFamily", "ipv4"));
	r->ctype = "application/json";
}

/* ------------------------------------------------------------ dispatch */

static void record_call(struct fake_aws *f, const struct freq *q)
{
	struct fcall *c = xcalloc(1, sizeof(*c));
	c->svc = q->svc;
	c->op = xstrdup(q->op);
	c->json = json_incref(q->json);
	for (size_t i = 0; i < q->params.n; i++)
		kvl_add(&c->params, q->params.k[i], q->params.v[i]);
	for (size_t i = 0; i < q->headers.n; i++) {
		char k[160];
		snprintf(k, sizeof(k), "header:%s", q->headers.k[i]);
		for (char *p = k; *p; p++)
			*p = (char)((*p >= 'A' && *p <= 'Z') ? *p - 'A' + 'a' : *p);
		kvl_add(&c->params, k, q->headers.v[i]);
	}
	xgrow(f->calls, f->cap_calls, f->n_calls + 1);
	f->calls[f->n_calls++] = c;
}

/* Works out service and operation, so faults and records can name them. */
static void classify(struct freq *q)
{
	const char *target = kvl_getcase(&q->headers, "X-Amz-Target");
	if (strncmp(q->path, "/latest/", 8) == 0) {
		q->svc = SVC_IMDS;
		q->op = xstrdup("imds");
	} else if (strcmp(q->path, "/v1/credentials") == 0) {
		q->svc = SVC_CONTAINER;
		q->op = xstrdup("container");
	} else if (strstr(q->path, "/clusters/")) {
		q->svc = SVC_EKS;
		q->op = xstrdup("DescribeCluster");
	} else if (target) {
		q->svc = strncmp(target, "AmazonSSM.", 10) == 0 ? SVC_SSM : SVC_PRICING;
		const char *dot = strrchr(target, '.');
		q->op = xstrdup(dot ? dot + 1 : target);
		json_error_t je;
		q->json = json_loadb(q->body.buf ? q->body.buf : "", q->body.len, 0, &je);
		const char *k;
		json_t *v;
		json_object_foreach(q->json, k, v) {
			if (json_is_string(v))
				kvl_add(&q->params, k, json_string_value(v));
		}
	} else {
		parse_form(&q->params, q->body.buf ? q->body.buf : "", q->body.len);
		const char *action = kvl_get(&q->params, "Action");
		const char *version = kvl_get(&q->params, "Version");
		q->svc = version && strcmp(version, "2011-06-15") == 0 ? SVC_STS : SVC_EC2;
		q->op = xstrdup(action ? action : "");
	}
}

static void dispatch(struct fake_aws *f, struct freq *q, struct fresp *r)
{
	classify(q);
	record_call(f, q);
	bool api = q->svc != SVC_IMDS && q->svc != SVC_CONTAINER;
	bool unsigned_ok = q->svc == SVC_STS && strcmp(q->op, "AssumeRoleWithWebIdentity") == 0;
	if (api && !unsigned_ok && !verify(f, q, r)) {
		f->auth_failures++;
		return;
	}
	if (apply_fault(f, q, r))
		return;
	if ((q->svc == SVC_SSM || q->svc == SVC_PRICING) && !json_is_object(q->json)) {
		resp_error(r, q->svc, 400, "SerializationException", "Request body is not JSON");
		return;
	}
	if (api && q->svc != SVC_EKS && strcmp(q->method, "POST") != 0) {
		resp_error(r, q->svc, 400, "InvalidAction", "API requests are POSTed");
		return;
	}
	switch (q->svc) {
	case SVC_EC2:
		handle_ec2(f, q, r);
		break;
	case SVC_STS:
		handle_sts(f, q, r);
		break;
	case SVC_SSM:
		handle_ssm(f, q, r);
		break;
	case SVC_PRICING:
		handle_pricing(f, q, r);
		break;
	case SVC_EKS:
		handle_eks(f, q, r);
		break;
	case SVC_IMDS:
		handle_imds(f, q, r);
		break;
	case SVC_CONTAINER:
		handle_container(f, q, r);
		break;
	}
}

/* ------------------------------------------------------------ MHD callbacks */

static void freq_free(struct freq *q)
{
	free(q->method);
	free(q->target);
	free(q->path);
	free(q->query);
	kvl_free(&q->headers);
	sb_free(&q->body);
	free(q->op);
	kvl_free(&q->params);
	json_decref(q->json);
	free(q);
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	(void)cls;
	(void)conn;
	struct freq *q = xcalloc(1, sizeof(*q));
	q->target = xstrdup(uri ? uri : "/");
	const char *qm = strchr(q->target, '?');
	q->path = qm ? xstrndup(q->target, (size_t)(qm - q->target)) : xstrdup(q->target);
	q->query = xstrdup(qm ? qm + 1 : "");
	sb_init(&q->body);
	return q;
}

static FAKE_MHD_RESULT on_header(void *cls, enum MHD_ValueKind kind, const char *key,
				 const char *value)
{
	(void)kind;
	kvl_add(&((struct freq *)cls)->headers, key, value ? value : "");
	return MHD_YES;
}

static FAKE_MHD_RESULT on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **req_cls)
{
	(void)url;
	(void)version;
	struct fake_aws *f = cls;
	struct freq *q = *req_cls;
	if (!q)
		return MHD_NO;
	if (!q->started) {
		q->started = true;
		q->method = xstrdup(method);
		MHD_get_connection_values(conn, MHD_HEADER_KIND, on_header, q);
		return MHD_YES;
	}
	if (*upload_size > 0) {
		if (q->body.len + *upload_size > MAX_BODY)
			return MHD_NO;
		sb_append(&q->body, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	struct fresp r = {.status = 500};
	sb_init(&r.body);
	pthread_mutex_lock(&f->lock);
	dispatch(f, q, &r);
	pthread_mutex_unlock(&f->lock);
	if (r.drop) {
		sb_free(&r.body);
		return MHD_NO;
	}
	struct MHD_Response *resp = MHD_create_response_from_buffer(
	    r.body.len, r.body.buf ? r.body.buf : (char *)"", MHD_RESPMEM_MUST_COPY);
	sb_free(&r.body);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, "Content-Type", r.ctype ? r.ctype : "text/plain");
	MHD_add_response_header(resp, "x-amzn-RequestId", REQUEST_ID);
	if (r.retry_after[0])
		MHD_add_response_header(resp, "Retry-After", r.retry_after);
	FAKE_MHD_RESULT ret = MHD_queue_response(conn, (unsigned)r.status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
			 enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)conn;
	(void)toe;
	if (*req_cls)
		freq_free(*req_cls);
	*req_cls = NULL;
}

/* ------------------------------------------------------------ API */

struct fake_aws *fake_aws_start(void)
{
	struct fake_aws *f = xcalloc(1, sizeof(*f));
	pthread_mutex_init(&f->lock, NULL);
	f->page_size = 3;
	f->lifetime_s = 3600;
	f->web_token = xstrdup(FAKE_AWS_WEB_IDENTITY_TOKEN);
	f->container_token = xstrdup(FAKE_AWS_CONTAINER_TOKEN);
	seed_state(f);
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	f->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
					 MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ITC,
				     0, NULL, NULL, on_request, f, MHD_OPTION_SOCK_ADDR,
				     (struct sockaddr *)&sa, MHD_OPTION_URI_LOG_CALLBACK, on_uri, f,
				     MHD_OPTION_NOTIFY_COMPLETED, on_completed, f, MHD_OPTION_END);
	if (!f->daemon) {
		fprintf(stderr, "fake_aws: MHD_start_daemon on 127.0.0.1 failed\n");
		fake_aws_stop(f);
		return NULL;
	}
	const union MHD_DaemonInfo *info =
	    MHD_get_daemon_info(f->daemon, MHD_DAEMON_INFO_BIND_PORT);
	if (!info || info->port == 0) {
		fprintf(stderr, "fake_aws: cannot read the bound port\n");
		fake_aws_stop(f);
		return NULL;
	}
	snprintf(f->url, sizeof(f->url), "http://127.0.0.1:%u", info->port);
	return f;
}

const char *fake_aws_url(const struct fake_aws *f)
{
	return f->url;
}

static void objs_free(struct objs *s)
{
	for (size_t i = 0; i < s->n; i++) {
		obj_free(s->v[i]);
		free(s->v[i]);
	}
	free(s->v);
}

void fake_aws_stop(struct fake_aws *f)
{
	if (!f)
		return;
	if (f->daemon)
		MHD_stop_daemon(f->daemon);
	objs_free(&f->subnets);
	objs_free(&f->groups);
	objs_free(&f->images);
	objs_free(&f->templates);
	for (size_t i = 0; i < f->n_inst; i++) {
		struct finst *in = f->inst[i];
		obj_free(&in->o);
		free(in->type);
		free(in->zone);
		free(in->subnet);
		free(in->image);
		free(in->lt);
		free(in->ctype);
		free(in->token);
		free(in->ip);
		free(in);
	}
	free(f->inst);
	for (size_t i = 0; i < f->n_creds; i++) {
		free(f->creds[i]->ak);
		free(f->creds[i]->sk);
		free(f->creds[i]->token);
		free(f->creds[i]);
	}
	free(f->creds);
	for (size_t i = 0; i < f->n_faults; i++) {
		free(f->faults[i]->op);
		free(f->faults[i]);
	}
	free(f->faults);
	for (size_t i = 0; i < f->n_calls; i++) {
		free(f->calls[i]->op);
		kvl_free(&f->calls[i]->params);
		json_decref(f->calls[i]->json);
		free(f->calls[i]);
	}
	free(f->calls);
	for (size_t i = 0; i < f->n_pools; i++) {
		free(f->pools[i]->type);
		free(f->pools[i]->zone);
		free(f->pools[i]->ctype);
		free(f->pools[i]);
	}
	free(f->pools);
	kvl_free(&f->fleets);
	kvl_free(&f->params);
	kvl_free(&f->spot);
	kvl_free(&f->imds_tokens);
	for (int i = 0; i < 3; i++)
		free(f->cluster[i]);
	free(f->web_token);
	free(f->container_token);
	pthread_mutex_destroy(&f->lock);
	free(f);
}

void fake_aws_inject(struct fake_aws *f, const char *op, enum fake_aws_fault fault, unsigned times)
{
	struct ffault *ft = xcalloc(1, sizeof(*ft));
	ft->op = op ? xstrdup(op) : NULL;
	ft->fault = fault;
	ft->left = times;
	pthread_mutex_lock(&f->lock);
	xgrow(f->faults, f->cap_faults, f->n_faults + 1);
	f->faults[f->n_faults++] = ft;
	pthread_mutex_unlock(&f->lock);
}

void fake_aws_set_retry_after(struct fake_aws *f, unsigned seconds)
{
	pthread_mutex_lock(&f->lock);
	f->retry_after = seconds;
	pthread_mutex_unlock(&f->lock);
}

void fake_aws_set_capacity(struct fake_aws *f, const char *type, const char *zone,
			   const char *capacity_type, bool available)
{
	pthread_mutex_lock(&f->lock);
	for (size_t i = 0; i < f->n_pools;) {
		struct fpool *p = f->pools[i];
		bool same = strcmp(p->type, type) == 0 && strcmp(p->zone, zone) == 0 &&
			    (!capacity_type || (p->ctype && strcmp(p->ctype, capacity_type) == 0));
		if (same) {
			free(p->type);
			free(p->zone);
			free(p->ctype);
			free(p);
			f->pools[i] = f->pools[--f->n_pools];
		} else {
			i++;
		}
	}
	if (!available) {
		struct fpool *p = xcalloc(1, sizeof(*p));
		p->type = xstrdup(type);
		p->zone = xstrdup(zone);
		p->ctype = capacity_type ? xstrdup(capacity_type) : NULL;
		xgrow(f->pools, f->cap_pools, f->n_pools + 1);
		f->pools[f->n_pools++] = p;
	}
	pthread_mutex_unlock(&f->lock);
}

void fake_aws_expire_credentials(struct fake_aws *f)
{
	pthread_mutex_lock(&f->lock);
	for (size_t i = 0; i < f->n_creds; i++)
		f->creds[i]->expired = true;
	pthread_mutex_unlock(&f->lock);
}

void fake_aws_set_page_size(struct fake_aws *f, size_t n)
{
	pthread_mutex_lock(&f->lock);
	f->page_size = n ? n : 1;
	pthread_mutex_unlock(&f->lock);
}

void fake_aws_set_time(struct fake_aws *f, int64_t wall_ms)
{
	pthread_mutex_lock(&f->lock);
	f->now_ms = wall_ms;
	pthread_mutex_unlock(&f->lock);
}

void fake_aws_set_credential_lifetime(struct fake_aws *f, int64_t seconds)
{
	pthread_mutex_lock(&f->lock);
	f->lifetime_s = seconds;
	pthread_mutex_unlock(&f->lock);
}

void fake_aws_set_web_identity_token(struct fake_aws *f, const char *token)
{
	pthread_mutex_lock(&f->lock);
	free(f->web_token);
	f->web_token = xstrdup(token);
	pthread_mutex_unlock(&f->lock);
}

void fake_aws_set_container_token(struct fake_aws *f, const char *token)
{
	pthread_mutex_lock(&f->lock);
	free(f->container_token);
	f->container_token = xstrdup(token);
	pthread_mutex_unlock(&f->lock);
}

void fake_aws_set_parameter(struct fake_aws *f, const char *name, const char *value)
{
	pthread_mutex_lock(&f->lock);
	kvl_set(&f->params, name, value);
	pthread_mutex_unlock(&f->lock);
}

void fake_aws_set_spot_price(struct fake_aws *f, const char *type, const char *zone,
			     const char *price)
{
	char key[96];
	snprintf(key, sizeof(key), "%s/%s", type, zone);
	pthread_mutex_lock(&f->lock);
	kvl_set(&f->spot, key, price);
	pthread_mutex_unlock(&f->lock);
}

void fake_aws_set_cluster(struct fake_aws *f, const char *name, const char *endpoint,
			  const char *ca_base64)
{
	pthread_mutex_lock(&f->lock);
	const char *v[3] = {name, endpoint, ca_base64};
	for (int i = 0; i < 3; i++) {
		free(f->cluster[i]);
		f->cluster[i] = xstrdup(v[i]);
	}
	pthread_mutex_unlock(&f->lock);
}

size_t fake_aws_calls(struct fake_aws *f, const char *op)
{
	pthread_mutex_lock(&f->lock);
	size_t n = 0;
	for (size_t i = 0; i < f->n_calls; i++)
		n += !op || strcmp(f->calls[i]->op, op) == 0;
	pthread_mutex_unlock(&f->lock);
	return n;
}

size_t fake_aws_auth_failures(struct fake_aws *f)
{
	pthread_mutex_lock(&f->lock);
	size_t n = f->auth_failures;
	pthread_mutex_unlock(&f->lock);
	return n;
}

const char *fake_aws_param(struct fake_aws *f, const char *op, size_t nth, const char *name)
{
	pthread_mutex_lock(&f->lock);
	const struct fcall *hit = NULL;
	size_t seen = 0;
	for (size_t i = 0; i < f->n_calls; i++) {
		if (strcmp(f->calls[i]->op, op) != 0)
			continue;
		if (nth == (size_t)-1 || seen == nth)
			hit = f->calls[i];
		if (seen++ == nth)
			break;
	}
	const char *v = NULL;
	if (hit) {
		char lower[160];
		snprintf(lower, sizeof(lower), "%s", name);
		if (strncmp(lower, "header:", 7) == 0)
			for (char *p = lower; *p; p++)
				*p = (char)((*p >= 'A' && *p <= 'Z') ? *p - 'A' + 'a' : *p);
		v = kvl_get(&hit->params, lower);
	}
	pthread_mutex_unlock(&f->lock);
	return v;
}

size_t fake_aws_n_instances(struct fake_aws *f, const char *state)
{
	pthread_mutex_lock(&f->lock);
	size_t n = 0;
	for (size_t i = 0; i < f->n_inst; i++)
		n += !state || strcmp(f->inst[i]->state, state) == 0;
	pthread_mutex_unlock(&f->lock);
	return n;
}

bool fake_aws_instance(struct fake_aws *f, size_t i, struct fake_aws_instance *out)
{
	pthread_mutex_lock(&f->lock);
	bool ok = i < f->n_inst;
	if (ok) {
		const struct finst *in = f->inst[i];
		*out = (struct fake_aws_instance){.id = in->o.id,
						  .type = in->type,
						  .zone = in->zone,
						  .subnet = in->subnet,
						  .image = in->image,
						  .launch_template = in->lt,
						  .capacity_type = in->ctype,
						  .state = in->state,
						  .client_token = in->token,
						  .launch_ms = in->launch_ms};
	}
	pthread_mutex_unlock(&f->lock);
	return ok;
}

const char *fake_aws_instance_tag(struct fake_aws *f, const char *id, const char *key)
{
	pthread_mutex_lock(&f->lock);
	struct finst *in = find_instance(f, id);
	const char *v = in ? kvl_get(&in->o.tags, key) : NULL;
	pthread_mutex_unlock(&f->lock);
	return v;
}

const char *fake_aws_run_instance(struct fake_aws *f, const char *type, const char *zone,
				  const char *const *tags)
{
	pthread_mutex_lock(&f->lock);
	const struct itype *t = itype_find(type);
	struct kvl kv = {0};
	for (size_t i = 0; tags && tags[i]; i += 2)
		kvl_set(&kv, tags[i], tags[i + 1] ? tags[i + 1] : "");
	const char *subnet = NULL;
	for (size_t s = 0; s < f->subnets.n && !subnet; s++)
		if (strcmp(kvl_get(&f->subnets.v[s]->attrs, "availability-zone"), zone) == 0)
			subnet = f->subnets.v[s]->id;
	struct finst *in = launch(f, t ? t : &ITYPES[0], zone, subnet, "ami-0a2023a0000000001",
				  NULL, "on-demand", NULL, &kv);
	kvl_free(&kv);
	const char *id = in->o.id;
	pthread_mutex_unlock(&f->lock);
	return id;
}

const char *fake_aws_launch_template_data(struct fake_aws *f, const char *name, const char *key)
{
	pthread_mutex_lock(&f->lock);
	struct fobj *o = find_template(f, name, NULL);
	const char *v = o ? kvl_get(&o->data, key) : NULL;
	pthread_mutex_unlock(&f->lock);
	return v;
}

size_t fake_aws_n_launch_templates(struct fake_aws *f)
{
	pthread_mutex_lock(&f->lock);
	size_t n = f->templates.n;
	pthread_mutex_unlock(&f->lock);
	return n;
}

int fake_aws_write_calls(struct fake_aws *f, const char *path)
{
	FILE *out = fopen(path, "w");
	if (!out)
		return -1;
	pthread_mutex_lock(&f->lock);
	for (size_t i = 0; i < f->n_calls; i++) {
		const struct fcall *c = f->calls[i];
		if (c->svc == SVC_IMDS || c->svc == SVC_CONTAINER)
			continue;
		json_t *params = json_object();
		if (c->json) {
			/* A copy: the request's own reference is dropped on another thread. */
			json_object_set_new(params, "body", json_deep_copy(c->json));
		} else if (c->svc != SVC_EKS) {
			json_t *q = json_array();
			for (size_t k = 0; k < c->params.n; k++)
				if (strncmp(c->params.k[k], "header:", 7) != 0)
					json_array_append_new(
					    q, json_pack("[s, s]", c->params.k[k], c->params.v[k]));
			json_object_set_new(params, "query", q);
		}
		json_object_set_new(params, "service", json_string(svc_name(c->svc)));
		json_object_set_new(params, "op", json_string(c->op));
		char *line = json_dumps(params, JSON_COMPACT);
		fprintf(out, "%s\n", line);
		free(line);
		json_decref(params);
	}
	pthread_mutex_unlock(&f->lock);
	return fclose(out) == 0 ? 0 : -1;
}
