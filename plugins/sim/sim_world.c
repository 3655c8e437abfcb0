/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sim_world.c - the simulated world: catalogue lookups, seeded offering
 * prices and capacity, and the instances' timelines.
 *
 * Randomness is a pure function: hash(seed, what is being decided).  A spot
 * price or an out-of-capacity offering therefore stays the same however
 * often and in whatever order it is asked about, and two runs with one seed
 * agree.  Instance IDs hash (seed, NodeClaim name), so a batch launched by
 * parallel workers gets the same IDs in any order; the rare collision is
 * resolved by hashing again with an attempt number.
 */
#include <fnmatch.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kerf/kerf.h>

#include "sim_world.h"

/* Catalogues are ~300 KiB; anything near this is not one. */
#define CATALOGUE_MAX_BYTES (64u * 1024 * 1024)

/* ------------------------------------------------------------ lifetime */

static void patterns_free(const struct kerf_host *h, size_t n, struct sim_offer_pattern *v)
{
	for (size_t i = 0; i < n; i++) {
		h->free(h->ctx, v[i].type);
		h->free(h->ctx, v[i].zone);
		h->free(h->ctx, v[i].capacity_type);
	}
	h->free(h->ctx, v);
}

void sim_config_clear(const struct kerf_host *h, struct sim_config *cfg)
{
	h->free(h->ctx, cfg->catalogue);
	h->free(h->ctx, cfg->region);
	for (size_t i = 0; i < cfg->n_zones; i++)
		h->free(h->ctx, cfg->zones[i]);
	h->free(h->ctx, cfg->zones);
	patterns_free(h, cfg->n_unavailable, cfg->unavailable);
	patterns_free(h, cfg->n_launch_failures, cfg->launch_failures);
	for (size_t i = 0; i < cfg->n_include; i++)
		h->free(h->ctx, cfg->include_types[i]);
	h->free(h->ctx, cfg->include_types);
	memset(cfg, 0, sizeof(*cfg));
}

int sim_world_new(const struct kerf_host *h, struct sim_config *cfg, struct sim_world **out,
		  struct kerf_error *err)
{
	struct sim_world *w = h->calloc(h->ctx, 1, sizeof(*w));
	char *text = NULL;
	size_t len = 0;
	int rc;

	w->host = h;
	w->cfg = *cfg;
	memset(cfg, 0, sizeof(*cfg));
	rc = h->read_file(h->ctx, w->cfg.catalogue, CATALOGUE_MAX_BYTES, &text, &len, err);
	if (rc == 0)
		rc = sim_catalogue_parse(w, w->cfg.catalogue, text, err);
	if (rc) {
		sim_world_free(w);
		return rc;
	}
	*out = w;
	return 0;
}

void sim_world_free(struct sim_world *w)
{
	const struct kerf_host *h;

	if (!w)
		return;
	h = w->host;
	for (size_t i = 0; i < w->n_instances; i++)
		sim_instance_free(h, w->instances[i]);
	h->free(h->ctx, w->instances);
	h->free(h->ctx, w->types);
	h->free(h->ctx, w->catalogue_text);
	sim_config_clear(h, &w->cfg);
	h->free(h->ctx, w);
}

const struct sim_type *sim_world_type(const struct sim_world *w, const char *name)
{
	for (size_t i = 0; i < w->n_types; i++)
		if (strcmp(w->types[i].name, name) == 0)
			return &w->types[i];
	return NULL;
}

/* ------------------------------------------------------------ hashing */

/* splitmix64's finaliser: a bijection on 64 bits with good avalanche. */
static uint64_t mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

/* Folds a string into h; the NUL is folded too so ("ab","c") differs from ("a","bc"). */
static uint64_t fold(uint64_t h, const char *s)
{
	do
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull; /* FNV-1a step */
	while (*s++);
	return h;
}

/* A seeded hash of one offering decision: `what` keeps the decisions independent. */
static uint64_t offer_hash(const struct sim_world *w, const char *what, const struct sim_type *t,
			   size_t zone, kerf_capacity_type ct)
{
	uint64_t h = mix((uint64_t)w->cfg.seed ^ 0xcbf29ce484222325ull);

	h = fold(h, what);
	h = fold(h, t->name);
	h = fold(h, w->cfg.zones[zone]);
	h = fold(h, kerf_capacity_type_name(ct));
	return mix(h);
}

/* ------------------------------------------------------------ offerings */

bool sim_offer_exists(const struct sim_type *t, kerf_capacity_type ct)
{
	switch (ct) {
	case KERF_CAPACITY_ON_DEMAND:
		return true;
	case KERF_CAPACITY_SPOT:
		return t->spot_estimate > 0;
	case KERF_CAPACITY_RESERVED:
		break;
	}
	return false;
}

kerf_price_t sim_offer_price(const struct sim_world *w, const struct sim_type *t, size_t zone,
			     kerf_capacity_type ct)
{
	/* Hundredths of a percent, so small variations still move the price. */
	int64_t span = w->cfg.spot_variation_percent * 100;
	int64_t bp;
	kerf_price_t p;

	if (ct != KERF_CAPACITY_SPOT)
		return t->on_demand;
	if (span == 0)
		return t->spot_estimate;
	bp = (int64_t)(offer_hash(w, "spot-price", t, zone, ct) % (uint64_t)(2 * span + 1)) - span;
	p = t->spot_estimate + t->spot_estimate * bp / 10000;
	return p > 0 ? p : 1;
}

static bool pattern_match(const struct sim_offer_pattern *p, const struct sim_type *t,
			  const char *zone, kerf_capacity_type ct)
{
	return fnmatch(p->type, t->name, 0) == 0 && fnmatch(p->zone, zone, 0) == 0 &&
	       fnmatch(p->capacity_type, kerf_capacity_type_name(ct), 0) == 0;
}

bool sim_offer_available(const struct sim_world *w, const struct sim_type *t, size_t zone,
			 kerf_capacity_type ct)
{
	const struct sim_config *cfg = &w->cfg;

	if (!sim_offer_exists(t, ct))
		return false;
	for (size_t i = 0; i < cfg->n_unavailable; i++)
		if (pattern_match(&cfg->unavailable[i], t, cfg->zones[zone], ct))
			return false;
	return cfg->ice_probability_percent <= 0 ||
	       (int64_t)(offer_hash(w, "ice", t, zone, ct) % 100) >= cfg->ice_probability_percent;
}

bool sim_offer_launch_fails(const struct sim_world *w, const struct sim_type *t, size_t zone,
			    kerf_capacity_type ct)
{
	const struct sim_config *cfg = &w->cfg;

	for (size_t i = 0; i < cfg->n_launch_failures; i++)
		if (pattern_match(&cfg->launch_failures[i], t, cfg->zones[zone], ct))
			return true;
	return false;
}

/* ------------------------------------------------------------ labels */

static void label_str(struct sim_label *l, const char *key, const char *value)
{
	l->key = key;
	l->value = value;
}

/* Karpenter writes numbers with fmt.Sprint; absent (-1) numbers are DoesNotExist. */
static void label_int(struct sim_label *l, const char *key, int64_t value)
{
	l->key = key;
	l->value = NULL;
	if (value >= 0) {
		snprintf(l->buf, sizeof(l->buf), "%" PRId64, value);
		l->value = l->buf;
	}
}

#define AWS "karpenter.k8s.aws/instance-"

size_t sim_type_labels(const struct sim_world *w, const struct sim_type *t,
		       struct sim_label out[SIM_MAX_LABELS])
{
	/* Karpenter labels GPUs and accelerators only for a single kind of device. */
	bool gpu = t->gpu_count > 0 && t->gpu_name;
	bool acc = t->accelerator_count > 0 && t->accelerator_name;
	size_t n = 0;

	label_str(&out[n++], SIM_L_INSTANCE_TYPE, t->name);
	label_str(&out[n++], SIM_L_ARCH, t->arch);
	/* Every AMI family the simulator knows is Linux. */
	label_str(&out[n++], SIM_L_OS, "linux");
	label_str(&out[n++], SIM_L_REGION, w->cfg.region);
	label_str(&out[n++], SIM_L_WINDOWS_BUILD, NULL);
	label_str(&out[n++], AWS "category", t->category);
	label_str(&out[n++], AWS "family", t->family);
	label_int(&out[n++], AWS "generation", t->generation);
	label_str(&out[n++], AWS "size", t->size);
	label_int(&out[n++], AWS "cpu", t->vcpu);
	label_str(&out[n++], AWS "cpu-manufacturer", t->cpu_manufacturer);
	label_int(&out[n++], AWS "memory", t->memory_mib);
	/* EC2 reports no hypervisor for bare metal and Karpenter labels it "". */
	label_str(&out[n++], AWS "hypervisor", t->hypervisor ? t->hypervisor : "");
	label_str(&out[n++], AWS "encryption-in-transit-supported",
		  t->encryption_in_transit > 0 ? "true" : "false");
	label_int(&out[n++], AWS "network-bandwidth", t->network_bandwidth_mbps);
	label_int(&out[n++], AWS "local-nvme", t->local_nvme_gb);
	label_str(&out[n++], AWS "gpu-name", gpu ? t->gpu_name : NULL);
	label_str(&out[n++], AWS "gpu-manufacturer", gpu ? t->gpu_manufacturer : NULL);
	label_int(&out[n++], AWS "gpu-count", gpu ? t->gpu_count : -1);
	label_int(&out[n++], AWS "gpu-memory", gpu ? t->gpu_memory_mib : -1);
	label_str(&out[n++], AWS "accelerator-name", acc ? t->accelerator_name : NULL);
	label_str(&out[n++], AWS "accelerator-manufacturer",
		  acc ? t->accelerator_manufacturer : NULL);
	label_int(&out[n++], AWS "accelerator-count", acc ? t->accelerator_count : -1);
	return n;
}

#undef AWS

uint32_t sim_type_classes(const struct sim_type *t)
{
	uint32_t c = 0;

	if ((t->gpu_count > 0 && t->gpu_name) || t->alloc_nvidia_gpu > 0 || t->alloc_amd_gpu > 0)
		c |= KERF_TYPE_GPU;
	if ((t->accelerator_count > 0 && t->accelerator_name) || t->alloc_neuron > 0)
		c |= KERF_TYPE_ACCELERATOR;
	if (t->size && strstr(t->size, "metal"))
		c |= KERF_TYPE_METAL;
	return c;
}

/* ------------------------------------------------------------ instances */

void sim_instance_free(const struct kerf_host *h, struct sim_instance *in)
{
	if (!in)
		return;
	h->free(h->ctx, in->provider_id);
	h->free(h->ctx, in->claim);
	h->free(h->ctx, in->image_id);
	kerf_labels_clear(&in->tags);
	h->free(h->ctx, in);
}

/* Launch order, the claim's name within one millisecond, and the ID to make it total. */
static int launch_cmp(const struct sim_instance *a, const struct sim_instance *b)
{
	int c;

	if (a->launch_ms != b->launch_ms)
		return a->launch_ms < b->launch_ms ? -1 : 1;
	c = strcmp(a->claim, b->claim);
	return c ? c : strcmp(a->provider_id, b->provider_id);
}

static bool id_taken(const struct sim_world *w, const char *provider_id)
{
	for (size_t i = 0; i < w->n_instances; i++)
		if (strcmp(w->instances[i]->provider_id, provider_id) == 0)
			return true;
	return false;
}

bool sim_world_add(struct sim_world *w, struct sim_instance *in)
{
	const struct kerf_host *h = w->host;
	size_t at = w->n_instances;

	if (id_taken(w, in->provider_id))
		return false;
	if (w->n_instances == w->cap_instances) {
		w->cap_instances = w->cap_instances ? 2 * w->cap_instances : 16;
		w->instances =
		    h->realloc(h->ctx, w->instances, w->cap_instances * sizeof(*w->instances));
	}
	/* Launches come in time order, so the place is nearly always the end. */
	while (at > 0 && launch_cmp(w->instances[at - 1], in) > 0)
		at--;
	memmove(&w->instances[at + 1], &w->instances[at],
		(w->n_instances - at) * sizeof(*w->instances));
	w->instances[at] = in;
	w->n_instances++;
	w->dirty = true;
	return true;
}

struct sim_instance *sim_world_launch(struct sim_world *w, const char *claim,
				      const struct sim_type *t, size_t zone, kerf_capacity_type ct,
				      int64_t now_ms)
{
	const struct kerf_host *h = w->host;
	struct sim_instance *in = h->calloc(h->ctx, 1, sizeof(*in));
	uint64_t seed = mix((uint64_t)w->cfg.seed);
	uint64_t id = fold(seed ^ 0x1d5ull, claim);
	char buf[128];

	/*
	 * A claim name launched again after its instance went hashes to that
	 * instance's ID, so the attempt number moves it on; so does the
	 * one-in-2^64 clash of two names.
	 */
	for (uint64_t attempt = 0;; attempt++) {
		snprintf(buf, sizeof(buf), "aws:///%s/i-0%016" PRIx64, w->cfg.zones[zone],
			 mix(id + attempt));
		if (!id_taken(w, buf))
			break;
	}
	in->provider_id = h->strdup(h->ctx, buf);
	in->claim = h->strdup(h->ctx, claim);
	/* One AMI per architecture, as an AMI alias resolves to. */
	snprintf(buf, sizeof(buf), "ami-0%016" PRIx64, mix(fold(seed, t->arch)));
	in->image_id = h->strdup(h->ctx, buf);
	in->type = t;
	in->capacity = t->capacity;
	in->allocatable = t->allocatable;
	in->zone = zone;
	in->capacity_type = ct;
	in->price = sim_offer_price(w, t, zone, ct);
	in->launch_ms = now_ms;
	sim_world_add(w, in);
	return in;
}

struct sim_instance *sim_world_find_claim(const struct sim_world *w, const char *claim,
					  int64_t now_ms)
{
	for (size_t i = 0; i < w->n_instances; i++) {
		struct sim_instance *in = w->instances[i];
		if (strcmp(in->claim, claim) == 0 && sim_instance_time(w, in, SIM_GONE) > now_ms)
			return in;
	}
	return NULL;
}

struct sim_instance *sim_world_find_id(const struct sim_world *w, const char *provider_id,
				       int64_t now_ms)
{
	for (size_t i = 0; i < w->n_instances; i++) {
		struct sim_instance *in = w->instances[i];
		if (strcmp(in->provider_id, provider_id) == 0 &&
		    sim_instance_time(w, in, SIM_GONE) > now_ms)
			return in;
	}
	return NULL;
}

/*
 * How much later than ready_delay this instance is Ready: a real batch's
 * nodes come up one by one (image pulls, CNI, kubelet start), and that
 * order decides where the scheduler puts pods first.
 */
static int64_t ready_lag(const struct sim_world *w, const struct sim_instance *in)
{
	if (w->cfg.ready_spread_ms <= 0)
		return 0;
	uint64_t h = mix(fold(mix((uint64_t)w->cfg.seed) ^ 0x7eadull, in->provider_id));
	return (int64_t)(h % ((uint64_t)w->cfg.ready_spread_ms + 1));
}

int64_t sim_instance_time(const struct sim_world *w, const struct sim_instance *in,
			  enum sim_milestone m)
{
	int64_t registered = in->launch_ms + w->cfg.launch_delay_ms;
	int64_t t = INT64_MAX;

	switch (m) {
	case SIM_LAUNCHED:
		return in->launch_ms;
	case SIM_REGISTERED:
		t = registered;
		break;
	case SIM_READY:
		t = registered + w->cfg.ready_delay_ms + ready_lag(w, in);
		break;
	case SIM_GONE:
		return in->deleted ? in->delete_ms + w->cfg.terminate_delay_ms : INT64_MAX;
	}
	/* An instance terminated first never gets there. */
	return in->deleted && in->delete_ms < t ? INT64_MAX : t;
}

const char *sim_instance_state(const struct sim_world *w, const struct sim_instance *in,
			       int64_t now_ms)
{
	if (sim_instance_time(w, in, SIM_GONE) <= now_ms)
		return "terminated";
	if (in->deleted)
		return "shutting-down";
	/* EC2 reports running from the moment the kubelet can register. */
	return now_ms >= in->launch_ms + w->cfg.launch_delay_ms ? "running" : "pending";
}

struct reached {
	const struct sim_instance *in;
	int64_t at;
};

static int reached_cmp(const void *a, const void *b)
{
	const struct reached *x = a, *y = b;
	int c;

	if (x->at != y->at)
		return x->at < y->at ? -1 : 1;
	c = strcmp(x->in->claim, y->in->claim);
	return c ? c : strcmp(x->in->provider_id, y->in->provider_id);
}

size_t sim_world_reached(const struct sim_world *w, enum sim_milestone m, int64_t after_ms,
			 int64_t by_ms,
			 void (*fn)(void *arg, const struct sim_instance *in, int64_t at_ms),
			 void *arg)
{
	const struct kerf_host *h = w->host;
	struct reached *r = NULL;
	size_t n = 0;

	for (size_t i = 0; i < w->n_instances; i++) {
		int64_t at = sim_instance_time(w, w->instances[i], m);
		if (at == INT64_MAX || at <= after_ms || at > by_ms)
			continue;
		if (!r)
			r = h->malloc(h->ctx, (w->n_instances - i) * sizeof(*r));
		r[n].in = w->instances[i];
		r[n++].at = at;
	}
	/* Node names follow registration order, so equal times must not follow launch calls. */
	if (n > 1)
		qsort(r, n, sizeof(*r), reached_cmp);
	for (size_t i = 0; fn && i < n; i++)
		fn(arg, r[i].in, r[i].at);
	h->free(h->ctx, r);
	return n;
}

/* ------------------------------------------------------ the cloud acting */

void sim_world_event(struct sim_world *w, const struct sim_instance *in,
		     kerf_instance_event_type type, int64_t at_ms, int64_t deadline_ms,
		     const char *reason)
{
	const struct kerf_host *h = w->host;
	struct kerf_instance_event *ev;

	if (!w->events.on_instance) {
		h->log(h->ctx, KERF_LOG_DEBUG,
		       "instance event for %s dropped: provider not started", in->provider_id);
		return;
	}
	ev = kerf_instance_event_new();
	ev->type = type;
	ev->provider_id = h->strdup(h->ctx, in->provider_id);
	ev->at = at_ms;
	ev->deadline = deadline_ms;
	ev->reason = h->strdup(h->ctx, reason);
	w->events.on_instance(w->events.ctx, ev);
	kerf_instance_event_free(ev);
}

static bool selected(const struct sim_world *w, const struct sim_instance *in,
		     const struct sim_selector *sel)
{
	const char *pool = kerf_labels_get(&in->tags, SIM_TAG_NODEPOOL);

	return (!sel->nodeclaim || strcmp(sel->nodeclaim, in->claim) == 0) &&
	       (!sel->nodepool || (pool && strcmp(sel->nodepool, pool) == 0)) &&
	       (!sel->instance_type || strcmp(sel->instance_type, in->type->name) == 0) &&
	       (!sel->zone || strcmp(sel->zone, w->cfg.zones[in->zone]) == 0) &&
	       (!sel->capacity_type ||
		strcmp(sel->capacity_type, kerf_capacity_type_name(in->capacity_type)) == 0);
}

static void terminate(struct sim_world *w, struct sim_instance *in, int64_t at_ms,
		      const char *reason)
{
	const struct kerf_host *h = w->host;

	in->deleted = true;
	in->delete_ms = at_ms;
	w->dirty = true;
	h->log(h->ctx, KERF_LOG_INFO, "the cloud terminates %s (%s, NodeClaim %s): %s",
	       in->provider_id, in->type->name, in->claim, reason);
	sim_world_event(w, in, KERF_INSTANCE_TERMINATED, at_ms, 0, reason);
}

size_t sim_world_interrupt(struct sim_world *w, const struct sim_selector *sel, int64_t at_ms)
{
	const struct kerf_host *h = w->host;
	size_t n = 0;

	for (size_t i = 0; i < w->n_instances && n < (size_t)sel->count; i++) {
		struct sim_instance *in = w->instances[i];

		if (in->deleted || in->interrupt_ms || in->launch_ms > at_ms ||
		    !selected(w, in, sel))
			continue;
		in->interrupt_ms = at_ms;
		w->dirty = true;
		n++;
		h->log(h->ctx, KERF_LOG_INFO, "the cloud interrupts %s (%s, NodeClaim %s)",
		       in->provider_id, in->type->name, in->claim);
		sim_world_event(w, in, KERF_INSTANCE_INTERRUPTED, at_ms,
				at_ms + SIM_INTERRUPT_NOTICE_MS,
				"Spot Instance Interruption Warning");
	}
	return n;
}

size_t sim_world_pick(const struct sim_world *w, const struct sim_selector *sel, int64_t at_ms,
		      const struct sim_instance **out)
{
	size_t n = 0;

	for (size_t i = 0; i < w->n_instances && n < (size_t)sel->count; i++) {
		const struct sim_instance *in = w->instances[i];

		if (!in->deleted && in->launch_ms <= at_ms && selected(w, in, sel))
			out[n++] = in;
	}
	return n;
}

size_t sim_world_terminate(struct sim_world *w, const struct sim_selector *sel, int64_t at_ms)
{
	size_t n = 0;

	for (size_t i = 0; i < w->n_instances && n < (size_t)sel->count; i++) {
		struct sim_instance *in = w->instances[i];

		if (in->deleted || in->launch_ms > at_ms || !selected(w, in, sel))
			continue;
		terminate(w, in, at_ms, "Instance terminated by the cloud");
		n++;
	}
	return n;
}

void sim_world_settle(struct sim_world *w, int64_t now_ms)
{
	for (size_t i = 0; i < w->n_instances; i++) {
		struct sim_instance *in = w->instances[i];
		int64_t deadline = in->interrupt_ms + SIM_INTERRUPT_NOTICE_MS;

		if (in->interrupt_ms && !in->deleted && deadline <= now_ms)
			terminate(w, in, deadline, "Spot Instance Termination");
	}
}
