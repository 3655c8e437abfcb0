/* SPDX-License-Identifier: MIT */
/*
 * acme.c - a kerf provider for the (fictional) Acme Cloud, built outside
 * the kerf tree against the installed SDK only:
 *
 *   cc -shared -fPIC $(pkg-config --cflags kerf) acme.c $(pkg-config --libs kerf)
 *
 * It offers a small fixed catalogue of Acme machine types in three zones
 * of the configured region, on-demand and spot, and keeps the machines it
 * "launches" in an in-memory table.  A real provider would call its
 * cloud's API through host->http_request where this one edits the table;
 * everything else (descriptor, config schema, host services, ownership of
 * results, requirement matching) is what a real provider does.
 *
 * It serves its own node class kind, AcmeNodeClass (acme.example.com/v1),
 * which it validates and reads with libkerf's document API, and declares
 * its own labels (acme.example.com/instance-family and /gpu-count, which
 * users may select on) and which of its types are GPU types.
 *
 * kerf.yaml:
 *
 *   provider: acme
 *   plugins:
 *     acme:
 *       region: acme-east-2
 *       api_endpoint: https://api.acme.example   # optional: checked at start
 *       api_token: ...                           # optional; or $ACME_API_TOKEN
 *       ca_file: acme-ca.pem                     # relative to kerf.yaml
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kerf/kerf.h>

#define ACME_VERSION "0.1.0"

#define GiB (1024LL * 1024 * 1024)

/* Label keys the types are described with (Karpenter's well-known labels). */
#define L_INSTANCE_TYPE "node.kubernetes.io/instance-type"
#define L_ARCH "kubernetes.io/arch"
#define L_OS "kubernetes.io/os"
#define L_ZONE "topology.kubernetes.io/zone"
#define L_CAPACITY_TYPE "karpenter.sh/capacity-type"
#define L_FAMILY "acme.example.com/instance-family"
/* Only on GPU types; the others say it does not exist, as Karpenter's labels do. */
#define L_GPU_COUNT "acme.example.com/gpu-count"

#define ACME_GROUP "acme.example.com"
#define ACME_KIND "AcmeNodeClass"
#define DEFAULT_IMAGE "acme-image-2025.01"

struct acme_type {
	const char *name;
	const char *family;
	int64_t cpu_millis;
	int64_t memory_bytes;
	int64_t gpus;		/* nvidia.com/gpu */
	kerf_price_t on_demand; /* micro-dollars per hour */
};

/* clang-format off */
static const struct acme_type catalogue[] = {
	{"a1.small",  "a1",  2000,  4 * GiB, 0,   48000},
	{"a1.medium", "a1",  4000,  8 * GiB, 0,   96000},
	{"a1.large",  "a1",  8000, 16 * GiB, 0,  192000},
	{"m1.xlarge", "m1", 16000, 64 * GiB, 0,  640000},
	{"g1.large",  "g1",  8000, 32 * GiB, 1, 1250000},
};
/* clang-format on */

#define N_TYPES (sizeof(catalogue) / sizeof(catalogue[0]))

static const char *const zone_suffixes[] = {"a", "b", "c"};
#define N_ZONES (sizeof(zone_suffixes) / sizeof(zone_suffixes[0]))

/* Spot is 30% of the on-demand price; Acme has no spot for GPU types. */
#define SPOT_PERCENT 30

/* What the kubelet and system keep for themselves on every machine. */
#define RESERVED_CPU_MILLIS 100
#define RESERVED_MEMORY (512LL * 1024 * 1024)
#define MAX_PODS 110

/* One machine this provider launched. */
struct acme_machine {
	char *claim;	   /* the NodeClaim's name: create() is idempotent on it */
	char *provider_id; /* "acme:///acme-west-1a/m-000001" */
	char *image;	   /* from its AcmeNodeClass */
	const struct acme_type *type;
	char zone[64];
	kerf_capacity_type capacity_type;
	char *nodepool;
	int64_t launch_ms;
};

struct acme {
	const struct kerf_host *host;
	const char *region; /* borrowed from the host's config for our lifetime */
	char zones[N_ZONES][64];
	size_t n, cap;
	struct acme_machine *machines;
	uint64_t next_id;
};

/* ------------------------------------------------------------ config */

/*
 * The host checks every value against this before create() runs, fills in
 * the defaults, resolves ca_file against kerf.yaml's directory and keeps
 * api_token out of every log line, so the plugin only reads them.
 */
static const struct kerf_config_key acme_schema[] = {
    {.key = "region",
     .type = KERF_CFG_STRING,
     .default_value = "acme-west-1",
     .description = "Acme region to launch machines in"},
    {.key = "api_endpoint",
     .type = KERF_CFG_STRING,
     .description = "Acme API base URL; when set, create() checks that the region exists there"},
    {.key = "api_token",
     .type = KERF_CFG_STRING,
     .secret = true,
     .description = "bearer token for api_endpoint; default: $ACME_API_TOKEN"},
    {.key = "ca_file",
     .type = KERF_CFG_STRING,
     .path = true,
     .description = "CA bundle that signs api_endpoint's certificate; default: the system's"},
    {.key = NULL},
};

/* ------------------------------------------------------------ helpers */

static char *h_strdup(const struct kerf_host *h, const char *s)
{
	return h->strdup(h->ctx, s);
}

/* Fills r, a requirement just appended, as `key In [value]`; strings from the host allocator. */
static void set_in(const struct kerf_host *h, struct kerf_requirement *r, const char *key,
		   const char *value)
{
	r->key = h_strdup(h, key);
	r->op = KERF_OP_IN;
	r->n_values = 1;
	r->values = h->calloc(h->ctx, 1, sizeof(char *));
	r->values[0] = h_strdup(h, value);
}

static kerf_price_t offering_price(const struct acme_type *t, kerf_capacity_type ct)
{
	return ct == KERF_CAPACITY_SPOT ? t->on_demand * SPOT_PERCENT / 100 : t->on_demand;
}

static bool offers_spot(const struct acme_type *t)
{
	return t->gpus == 0;
}

static int type_resources(const struct acme_type *t, bool allocatable, int64_t max_pods,
			  struct kerf_resources *r, struct kerf_error *err)
{
	int rc;
	kerf_resources_init(r);
	int64_t cpu = t->cpu_millis - (allocatable ? RESERVED_CPU_MILLIS : 0);
	int64_t mem = t->memory_bytes - (allocatable ? RESERVED_MEMORY : 0);
	if ((rc = kerf_resources_set(r, KERF_RESOURCE_CPU, cpu, err)) != 0 ||
	    (rc = kerf_resources_set(r, KERF_RESOURCE_MEMORY, mem, err)) != 0 ||
	    (rc = kerf_resources_set(r, KERF_RESOURCE_PODS, max_pods, err)) != 0)
		return rc;
	if (t->gpus)
		return kerf_resources_set(r, KERF_RESOURCE_NVIDIA_GPU, t->gpus, err);
	return 0;
}

/* ------------------------------------------------------- node classes */

/*
 * AcmeNodeClass, the node class kind this provider serves:
 *
 *   apiVersion: acme.example.com/v1
 *   kind: AcmeNodeClass
 *   metadata: {name: gpu}
 *   spec:
 *     image: acme-image-2025.01   # required: acme-image-VERSION
 *     network: private-1          # required: lowercase letters, digits, '-'
 *     maxPods: 64                 # optional, 10 to 250 (default 110)
 *
 * kerf hands every AcmeNodeClass document to acme_validate_node_class
 * before it uses it, so the other ops read only valid ones.
 */
static const struct kerf_node_class_kind acme_kinds[] = {
    {ACME_GROUP, "v1", ACME_KIND},
    {NULL, NULL, NULL},
};

/* Users may select on these (NodePool requirements, pod node selectors). */
static const char *const acme_labels[] = {L_FAMILY, L_GPU_COUNT, NULL};

/* Only Acme sets labels in its domain: other keys there are refused. */
static const char *const acme_domains[] = {ACME_GROUP, NULL};

/*
 * GPU machines go only to pods that ask for them: a requirement on
 * gpu-count, or an instance-family In (a pool of g1 machines), besides
 * requesting a GPU or naming the machine type, which kerf knows itself.
 */
static const struct kerf_class_selector acme_selectors[] = {
    {L_GPU_COUNT "*", NULL, KERF_TYPE_GPU},
    {L_FAMILY, NULL, KERF_TYPE_GPU},
    {NULL, NULL, 0},
};

/* What a node class says, read from its document. */
struct acme_class {
	char *image;   /* malloc'd by libkerf's decoder: free() */
	char *network; /* the same */
	int64_t max_pods;
};

static void class_clear(struct acme_class *c)
{
	free(c->image);
	free(c->network);
	memset(c, 0, sizeof(*c));
}

static bool network_name_ok(const char *s)
{
	if (!*s || *s == '-' || strlen(s) > 63)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-'))
			return false;
	return s[-1] != '-';
}

/* A required string field of spec, with a check on its value. */
static void required_string(struct kerf_decoder *dec, const struct kerf_doc_node *spec,
			    const char *field, char **out, bool (*ok)(const char *),
			    const char *what)
{
	const struct kerf_doc_node *v = kerf_decoder_get_string(dec, spec, field, out);
	if (!v) {
		kerf_decoder_missing(dec, spec, field);
	} else if (*out && !ok(*out)) {
		size_t m = kerf_decoder_push(dec, field);
		kerf_decoder_error(dec, v, "\"%s\" is not %s", *out, what);
		kerf_decoder_pop(dec, m);
	}
}

static bool image_name_ok(const char *s)
{
	return strncmp(s, "acme-image-", 11) == 0 && s[11] != '\0';
}

/*
 * Reads an AcmeNodeClass object into c, reporting every problem through
 * dec as "file:line:column: AcmeNodeClass/name: spec.field: message".
 */
static void read_class(const struct kerf_doc_node *object, struct kerf_decoder *dec,
		       struct acme_class *c)
{
	static const char *const fields[] = {"image", "network", "maxPods", NULL};
	static const char *const status_fields[] = {"conditions", NULL};
	const struct kerf_doc_node *spec = kerf_doc_get(object, "spec");
	const struct kerf_doc_node *status = kerf_doc_get(object, "status");
	size_t m;

	memset(c, 0, sizeof(*c));
	c->max_pods = MAX_PODS;
	if (!spec) {
		kerf_decoder_missing(dec, object, "spec");
	} else {
		m = kerf_decoder_push(dec, "spec");
		if (kerf_decoder_map(dec, spec)) {
			kerf_decoder_known_fields(dec, spec, fields);
			required_string(dec, spec, "image", &c->image, image_name_ok,
					"an Acme image (acme-image-VERSION)");
			required_string(dec, spec, "network", &c->network, network_name_ok,
					"a network name (lowercase letters, digits and '-')");
			kerf_decoder_get_int(dec, spec, "maxPods", 10, 250, &c->max_pods);
		}
		kerf_decoder_pop(dec, m);
	}
	if (status) {
		m = kerf_decoder_push(dec, "status");
		if (kerf_decoder_map(dec, status)) {
			kerf_decoder_known_fields(dec, status, status_fields);
			size_t mc = kerf_decoder_push(dec, "conditions");
			kerf_decoder_conditions(dec, kerf_doc_get(status, "conditions"), true);
			kerf_decoder_pop(dec, mc);
		}
		kerf_decoder_pop(dec, m);
	}
}

/* kerf_provider_ops.validate_node_class: static, no instance needed. */
static int acme_validate_node_class(const struct kerf_doc_node *object, struct kerf_decoder *dec)
{
	struct acme_class c;
	size_t before = kerf_decoder_errors(dec);

	read_class(object, dec, &c);
	class_clear(&c);
	return kerf_decoder_errors(dec) > before ? KERF_E_CONFIG : 0;
}

/*
 * The settings of the node class an op receives: its document is read
 * again each time (microseconds, and never stale).  NULL: the defaults.
 */
static int class_settings(const struct kerf_node_class *nc, struct acme_class *c,
			  struct kerf_error *err)
{
	struct kerf_decoder *dec = NULL;
	int rc;

	memset(c, 0, sizeof(*c));
	c->max_pods = MAX_PODS;
	if (!nc)
		return 0;
	if (!nc->ref->group || strcmp(nc->ref->group, ACME_GROUP) != 0 || !nc->ref->kind ||
	    strcmp(nc->ref->kind, ACME_KIND) != 0)
		return kerf_error_set(err, KERF_E_INVALID, "acme: %s/%s is not an %s",
				      nc->ref->kind ? nc->ref->kind : "node class",
				      nc->ref->name ? nc->ref->name : "(unnamed)", ACME_KIND);
	if (kerf_decoder_new(ACME_KIND, kerf_doc_root(nc->doc), &dec) != 0)
		return kerf_error_set(err, KERF_E_INVALID, "acme: %s/%s has no document", ACME_KIND,
				      nc->ref->name ? nc->ref->name : "(unnamed)");
	read_class(kerf_doc_root(nc->doc), dec, c);
	rc = kerf_decoder_check(dec, err);
	kerf_decoder_free(dec);
	if (rc)
		class_clear(c);
	return rc;
}

/* ------------------------------------------------------- instance types */

static int acme_fill_type(struct acme *a, const struct acme_type *t, const struct acme_class *cls,
			  struct kerf_instance_type *it, struct kerf_error *err)
{
	const struct kerf_host *h = a->host;
	char gpus[24];
	int rc;

	it->name = h_strdup(h, t->name);
	set_in(h, kerf_requirements_append(&it->requirements), L_INSTANCE_TYPE, t->name);
	set_in(h, kerf_requirements_append(&it->requirements), L_ARCH, "amd64");
	set_in(h, kerf_requirements_append(&it->requirements), L_OS, "linux");
	set_in(h, kerf_requirements_append(&it->requirements), L_FAMILY, t->family);
	if (t->gpus) {
		snprintf(gpus, sizeof(gpus), "%" PRId64, t->gpus);
		set_in(h, kerf_requirements_append(&it->requirements), L_GPU_COUNT, gpus);
		it->classes = KERF_TYPE_GPU;
	} else {
		struct kerf_requirement *r = kerf_requirements_append(&it->requirements);
		r->key = h_strdup(h, L_GPU_COUNT);
		r->op = KERF_OP_DOES_NOT_EXIST;
	}
	if ((rc = type_resources(t, false, cls->max_pods, &it->capacity, err)) != 0 ||
	    (rc = type_resources(t, true, cls->max_pods, &it->allocatable, err)) != 0)
		return rc;

	size_t per_zone = offers_spot(t) ? 2 : 1;
	for (size_t z = 0; z < N_ZONES; z++) {
		for (size_t c = 0; c < per_zone; c++) {
			struct kerf_offering *o = kerf_instance_type_add_offering(it);
			o->zone = h_strdup(h, a->zones[z]);
			o->capacity_type = c == 0 ? KERF_CAPACITY_ON_DEMAND : KERF_CAPACITY_SPOT;
			o->price = offering_price(t, o->capacity_type);
			o->available = true;
		}
	}
	return 0;
}

static int acme_get_instance_types(void *inst, const struct kerf_node_class *node_class,
				   struct kerf_instance_type_list **out, struct kerf_error *err)
{
	struct acme *a = inst;
	struct acme_class c;
	/* The class's maxPods bounds every type; image and network change no offering. */
	int rc = class_settings(node_class, &c, err);
	if (rc)
		return rc;
	struct kerf_instance_type_list *l = kerf_instance_type_list_new();
	for (size_t i = 0; i < N_TYPES && rc == 0; i++) {
		/* In the list before it is filled, so kerf_instance_type_list_free sees it. */
		rc = acme_fill_type(a, &catalogue[i], &c, kerf_instance_type_list_append(l), err);
	}
	class_clear(&c);
	if (rc) {
		kerf_instance_type_list_free(l);
		return rc;
	}
	*out = l;
	return 0;
}

/* ------------------------------------------------------------ machines */

static struct acme_machine *find_by_claim(struct acme *a, const char *claim)
{
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->machines[i].claim, claim) == 0)
			return &a->machines[i];
	return NULL;
}

static struct acme_machine *find_by_id(struct acme *a, const char *provider_id)
{
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->machines[i].provider_id, provider_id) == 0)
			return &a->machines[i];
	return NULL;
}

/* Describes a machine into `in`, a new instance; every string from the host allocator. */
static int describe(struct acme *a, const struct acme_machine *m, struct kerf_instance *in)
{
	const struct kerf_host *h = a->host;
	in->provider_id = h_strdup(h, m->provider_id);
	in->instance_type = h_strdup(h, m->type->name);
	in->zone = h_strdup(h, m->zone);
	in->capacity_type = m->capacity_type;
	in->image_id = h_strdup(h, m->image);
	in->launch_ms = m->launch_ms;
	in->state = h_strdup(h, "running");
	/* Tags are how a real provider finds its machines again after a restart. */
	int rc = kerf_labels_set(&in->tags, "kerf.dev/nodeclaim", m->claim);
	if (rc == 0 && m->nodepool)
		rc = kerf_labels_set(&in->tags, "karpenter.sh/nodepool", m->nodepool);
	return rc;
}

static int new_instance(struct acme *a, const struct acme_machine *m, struct kerf_instance **out,
			struct kerf_error *err)
{
	struct kerf_instance *in = kerf_instance_new();
	int rc = describe(a, m, in);
	if (rc) {
		kerf_instance_free(in);
		return kerf_error_set(err, rc, "acme: out of memory describing %s", m->provider_id);
	}
	*out = in;
	return 0;
}

static int acme_create(void *inst, const struct kerf_nodeclaim *claim,
		       const struct kerf_node_class *node_class, struct kerf_instance **out,
		       struct kerf_error *err)
{
	struct acme *a = inst;
	const struct kerf_host *h = a->host;

	if (!claim || !claim->meta->name)
		return kerf_error_set(err, KERF_E_INVALID, "acme: NodeClaim without a name");
	struct acme_machine *m = find_by_claim(a, claim->meta->name);
	if (m)
		return new_instance(a, m, out, err);
	struct acme_class cls;
	int rc = class_settings(node_class, &cls, err);
	if (rc)
		return rc;

	/* libkerf does the Karpenter requirement semantics; we only ask it questions. */
	struct kerf_reqset *want = kerf_reqset_new();
	if (!want) {
		class_clear(&cls);
		return kerf_error_set(err, KERF_E_NOMEM, "acme: out of memory");
	}
	rc = kerf_reqset_add_requirements(want, &claim->requirements, err);
	if (rc) {
		kerf_reqset_free(want);
		class_clear(&cls);
		return rc;
	}

	const struct acme_type *best = NULL;
	size_t best_zone = 0;
	kerf_capacity_type best_ct = KERF_CAPACITY_ON_DEMAND;
	for (size_t i = 0; i < N_TYPES; i++) {
		const struct acme_type *t = &catalogue[i];
		struct kerf_resources alloc;
		char gpus[24];
		snprintf(gpus, sizeof(gpus), "%" PRId64, t->gpus);
		if (type_resources(t, true, cls.max_pods, &alloc, NULL) != 0 ||
		    !kerf_resources_fit(&claim->resource_requests, &alloc, NULL))
			continue;
		if (!kerf_reqset_allows(want, L_INSTANCE_TYPE, t->name) ||
		    !kerf_reqset_allows(want, L_ARCH, "amd64") ||
		    !kerf_reqset_allows(want, L_OS, "linux") ||
		    !kerf_reqset_allows(want, L_FAMILY, t->family) ||
		    !kerf_reqset_allows(want, L_GPU_COUNT, t->gpus ? gpus : NULL))
			continue;
		for (size_t z = 0; z < N_ZONES; z++) {
			if (!kerf_reqset_allows(want, L_ZONE, a->zones[z]))
				continue;
			for (int c = 0; c < (offers_spot(t) ? 2 : 1); c++) {
				kerf_capacity_type ct =
				    c ? KERF_CAPACITY_SPOT : KERF_CAPACITY_ON_DEMAND;
				if (!kerf_reqset_allows(want, L_CAPACITY_TYPE,
							kerf_capacity_type_name(ct)))
					continue;
				if (!best ||
				    offering_price(t, ct) < offering_price(best, best_ct)) {
					best = t;
					best_zone = z;
					best_ct = ct;
				}
			}
		}
	}
	kerf_reqset_free(want);
	if (!best) {
		class_clear(&cls);
		return kerf_error_set(err, KERF_E_CAPACITY,
				      "acme: no Acme machine type in %s satisfies NodeClaim %s",
				      a->region, claim->meta->name);
	}

	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 8;
		a->machines = h->realloc(h->ctx, a->machines, cap * sizeof(*a->machines));
		a->cap = cap;
	}
	m = &a->machines[a->n++];
	memset(m, 0, sizeof(*m));
	char id[128];
	snprintf(id, sizeof(id), "acme:///%s/m-%06" PRIu64, a->zones[best_zone], ++a->next_id);
	m->claim = h_strdup(h, claim->meta->name);
	m->provider_id = h_strdup(h, id);
	m->image = h_strdup(h, cls.image ? cls.image : DEFAULT_IMAGE);
	class_clear(&cls);
	m->type = best;
	snprintf(m->zone, sizeof(m->zone), "%s", a->zones[best_zone]);
	m->capacity_type = best_ct;
	m->nodepool = claim->nodepool ? h_strdup(h, claim->nodepool) : NULL;
	m->launch_ms = h->wall_ms(h->ctx);
	h->log(h->ctx, KERF_LOG_INFO, "launched %s (%s, %s, %s, %s) for NodeClaim %s", id,
	       best->name, m->zone, kerf_capacity_type_name(best_ct), m->image, claim->meta->name);
	return new_instance(a, m, out, err);
}

static void free_machine(const struct kerf_host *h, struct acme_machine *m)
{
	h->free(h->ctx, m->claim);
	h->free(h->ctx, m->provider_id);
	h->free(h->ctx, m->image);
	h->free(h->ctx, m->nodepool);
}

static int acme_delete(void *inst, const char *provider_id, struct kerf_error *err)
{
	struct acme *a = inst;
	struct acme_machine *m = provider_id ? find_by_id(a, provider_id) : NULL;
	if (!m)
		return kerf_error_set(err, KERF_E_NOTFOUND, "acme: no machine %s",
				      provider_id ? provider_id : "(null)");
	a->host->log(a->host->ctx, KERF_LOG_INFO, "terminated %s", m->provider_id);
	free_machine(a->host, m);
	size_t i = (size_t)(m - a->machines);
	memmove(m, m + 1, (a->n - i - 1) * sizeof(*m));
	a->n--;
	return 0;
}

static int acme_get(void *inst, const char *provider_id, struct kerf_instance **out,
		    struct kerf_error *err)
{
	struct acme *a = inst;
	struct acme_machine *m = provider_id ? find_by_id(a, provider_id) : NULL;
	if (!m)
		return kerf_error_set(err, KERF_E_NOTFOUND, "acme: no machine %s",
				      provider_id ? provider_id : "(null)");
	return new_instance(a, m, out, err);
}

static int acme_list(void *inst, struct kerf_instance_list **out, struct kerf_error *err)
{
	struct acme *a = inst;
	struct kerf_instance_list *l = kerf_instance_list_new();
	for (size_t i = 0; i < a->n; i++) {
		if (describe(a, &a->machines[i], kerf_instance_list_append(l)) != 0) {
			kerf_instance_list_free(l);
			return kerf_error_set(err, KERF_E_NOMEM, "acme: out of memory");
		}
	}
	*out = l;
	return 0;
}

/* ------------------------------------------------------------ lifetime */

/*
 * When api_endpoint is configured, asks the Acme API whether the region
 * exists, so a typo fails at start-up rather than at the first launch.
 * A token from the environment is registered as a secret here, so the host
 * redacts it from every log line as it does api_token from kerf.yaml.
 */
static int check_endpoint(struct acme *a, const char *endpoint, struct kerf_error *err)
{
	const struct kerf_host *h = a->host;
	char url[512];
	snprintf(url, sizeof(url), "%s/v1/regions/%s", endpoint, a->region);

	char auth[512] = "";
	struct kerf_http_header headers[1];
	size_t n_headers = 0;
	const char *token = NULL, *ca_file = NULL;
	if (h->config_string(h->ctx, "api_token", &token) != 0) {
		token = h->getenv(h->ctx, "ACME_API_TOKEN");
		if (token)
			h->register_secret(h->ctx, token);
	}
	if (token && *token) {
		snprintf(auth, sizeof(auth), "Bearer %s", token);
		headers[n_headers++] = (struct kerf_http_header){"Authorization", auth};
	}
	if (h->config_string(h->ctx, "ca_file", &ca_file) != 0 || !*ca_file)
		ca_file = NULL;
	struct kerf_http_request req = {
	    .method = "GET",
	    .url = url,
	    .n_headers = n_headers,
	    .headers = headers,
	    .timeout_ms = 10000,
	    .ca_file = ca_file,
	};
	struct kerf_http_response *resp = NULL;
	int rc = h->http_request(h->ctx, &req, &resp, err);
	if (rc)
		return rc;
	int status = resp->status;
	h->http_response_free(h->ctx, resp);
	if (status == 401 || status == 403)
		return kerf_error_set(err, KERF_E_AUTH,
				      "acme: %s rejected the credentials (HTTP %d)", endpoint,
				      status);
	if (status == 404)
		return kerf_error_set(err, KERF_E_CONFIG, "acme: region %s does not exist at %s",
				      a->region, endpoint);
	if (status < 200 || status > 299) {
		if (err)
			err->http_status = status;
		return kerf_error_set(err, KERF_E_HTTP, "acme: GET %s: HTTP %d", url, status);
	}
	return 0;
}

static void acme_destroy(void *inst)
{
	struct acme *a = inst;
	if (!a)
		return;
	const struct kerf_host *h = a->host;
	for (size_t i = 0; i < a->n; i++)
		free_machine(h, &a->machines[i]);
	h->free(h->ctx, a->machines);
	h->free(h->ctx, a);
}

static int acme_create_instance(const struct kerf_host *host, void **out, struct kerf_error *err)
{
	struct acme *a = host->calloc(host->ctx, 1, sizeof(*a));
	a->host = host;
	/* The host filled in the schema default, so region is always there. */
	int rc = host->config_string(host->ctx, "region", &a->region);
	if (rc) {
		acme_destroy(a);
		return kerf_error_set(err, rc, "acme: cannot read plugins.acme.region");
	}
	for (size_t z = 0; z < N_ZONES; z++) {
		int n =
		    snprintf(a->zones[z], sizeof(a->zones[z]), "%s%s", a->region, zone_suffixes[z]);
		if (n < 0 || (size_t)n >= sizeof(a->zones[z])) {
			acme_destroy(a);
			return kerf_error_set(err, KERF_E_CONFIG, "acme: region name too long");
		}
	}

	const char *endpoint = NULL;
	if (host->config_string(host->ctx, "api_endpoint", &endpoint) == 0 && endpoint &&
	    *endpoint) {
		rc = check_endpoint(a, endpoint, err);
		if (rc) {
			acme_destroy(a);
			return rc;
		}
	}
	host->log(host->ctx, KERF_LOG_INFO, "region %s, %zu machine types in %zu zones", a->region,
		  N_TYPES, N_ZONES);
	*out = a;
	return 0;
}

static const struct kerf_provider_ops acme_ops = {
    .get_instance_types = acme_get_instance_types,
    .create = acme_create,
    .delete_instance = acme_delete,
    .get = acme_get,
    .list = acme_list,
    /* is_drifted is optional: Acme machines never drift. */
    .node_class_kinds = acme_kinds,
    .validate_node_class = acme_validate_node_class,
    .well_known_labels = acme_labels,
    .restricted_label_domains = acme_domains,
    .class_selectors = acme_selectors,
};

KERF_PLUGIN_DEFINE = {
    KERF_PLUGIN_HEADER,
    .name = "acme",
    .version = ACME_VERSION,
    .description = "Acme Cloud provider (out-of-tree example)",
    .license = "MIT",
    .kinds = KERF_KIND_PROVIDER,
    .capabilities = KERF_CAP_PROVIDER_SPOT,
    KERF_PLUGIN_SCHEMA(acme_schema),
    .create = acme_create_instance,
    .destroy = acme_destroy,
    KERF_PLUGIN_OPS(provider, acme_ops),
};
