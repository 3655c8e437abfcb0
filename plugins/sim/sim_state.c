/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sim_state.c - the lock every op holds, and the state file that lets the
 * simulated world outlive a kerfd killed at any moment.
 *
 * The file is JSON Lines: a header object, then one object per line for
 * each instance not yet gone, each NodeClaim and each node, so an error
 * names the line it is on.  Pods are not kept: the workloads, scenario and
 * trace make them again, and the epoch kept here makes the script go on
 * from where the run was rather than start over.  Nodes are kept by
 * instance, as kerf last wrote them (name, labels, taints, cordon), and
 * come back when their instance registers again.
 *
 * After every op that changed any of it, the whole file is written to a
 * temporary file, synced and renamed over the old one, so a crash leaves
 * either the old state or the new, never half of one.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include <kerf/kerf.h>

#include "sim.h"
#include "sim_cluster_int.h"

#define STATE_VERSION 1
/* Far above any simulated fleet's state; a file this large is not one. */
#define STATE_MAX_BYTES (256u * 1024 * 1024)

/* ------------------------------------------------------------ locking */

void sim_enter(struct sim *s)
{
	pthread_mutex_lock(&s->lock);
	sim_world_settle(s->world, s->host->wall_ms(s->host->ctx));
}

int sim_leave(struct sim *s, int rc, struct kerf_error *err)
{
	if (s->state_file && s->world->dirty) {
		struct kerf_error serr = KERF_ERROR_INIT;
		int src = sim_state_save(s, &serr);

		if (src) {
			s->host->log(s->host->ctx, KERF_LOG_ERROR, "%s", serr.message);
			if (rc == 0) {
				rc = src;
				if (err)
					*err = serr;
			}
		}
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

/* ------------------------------------------------------------ writing */

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *labels_json(const struct kerf_labels *l)
{
	json_t *o = json_object();

	for (size_t i = 0; i < l->n; i++)
		json_object_set_new(o, l->items[i]->key, json_string(l->items[i]->value));
	return o;
}

static json_t *taints_json(const struct kerf_taints *t)
{
	json_t *a = json_array();

	for (size_t i = 0; i < t->n; i++)
		json_array_append_new(a, json_pack("{s:o,s:o,s:s}", "key",
						   str_or_null(t->items[i]->key), "value",
						   str_or_null(t->items[i]->value), "effect",
						   kerf_effect_name(t->items[i]->effect)));
	return a;
}

static json_t *requirements_json(const struct kerf_requirements *r)
{
	json_t *a = json_array();

	for (size_t i = 0; i < r->n; i++) {
		const struct kerf_requirement *q = r->items[i];
		json_t *values = json_array();

		for (size_t j = 0; j < q->n_values; j++)
			json_array_append_new(values, json_string(q->values[j]));
		json_array_append_new(a, json_pack("{s:o,s:s,s:o,s:I}", "key", str_or_null(q->key),
						   "operator", kerf_operator_name(q->op),
						   "values", values, "min_values",
						   (json_int_t)q->min_values));
	}
	return a;
}

static json_t *resources_json(const struct kerf_resources *r)
{
	json_t *ext = json_object();

	for (uint32_t i = 0; i < r->n_ext && i < KERF_RESOURCES_EXT_MAX; i++)
		json_object_set_new(ext, r->ext[i].name, json_integer(r->ext[i].value));
	return json_pack("{s:I,s:I,s:I,s:I,s:I,s:o}", "cpu_millis", (json_int_t)r->cpu_millis,
			 "memory_bytes", (json_int_t)r->memory_bytes, "ephemeral_bytes",
			 (json_int_t)r->ephemeral_bytes, "pods", (json_int_t)r->pods, "present",
			 (json_int_t)r->present, "ext", ext);
}

static json_t *meta_json(const struct kerf_meta *m)
{
	json_t *fin = json_array();

	for (size_t i = 0; i < m->n_finalizers; i++)
		json_array_append_new(fin, json_string(m->finalizers[i]));
	return json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:I,s:I,s:o,s:o,s:o}", "api_version",
			 str_or_null(m->api_version), "kind", str_or_null(m->kind), "name",
			 str_or_null(m->name), "namespace", str_or_null(m->namespace_), "uid",
			 str_or_null(m->uid), "resource_version", str_or_null(m->resource_version),
			 "labels", labels_json(&m->labels), "annotations",
			 labels_json(&m->annotations), "creation_ms", (json_int_t)m->creation_ms,
			 "deletion_ms", (json_int_t)m->deletion_ms, "finalizers", fin, "owner_kind",
			 str_or_null(m->owner_kind), "owner_name", str_or_null(m->owner_name));
}

static json_t *claim_json(const struct kerf_nodeclaim *c)
{
	const struct kerf_node_class_ref *ref = c->node_class_ref;
	json_t *o = json_object();

	json_object_set_new(o, "meta", meta_json(c->meta));
	json_object_set_new(o, "nodepool", str_or_null(c->nodepool));
	json_object_set_new(o, "node_class_ref",
			    json_pack("{s:o,s:o,s:o}", "group", str_or_null(ref->group), "kind",
				      str_or_null(ref->kind), "name", str_or_null(ref->name)));
	json_object_set_new(o, "requirements", requirements_json(&c->requirements));
	json_object_set_new(o, "taints", taints_json(&c->taints));
	json_object_set_new(o, "startup_taints", taints_json(&c->startup_taints));
	json_object_set_new(o, "resource_requests", resources_json(&c->resource_requests));
	json_object_set_new(o, "expire_after_ms", json_integer(c->expire_after_ms));
	json_object_set_new(o, "termination_grace_period_ms",
			    json_integer(c->termination_grace_period_ms));
	json_object_set_new(o, "state", json_integer(c->state));
	json_object_set_new(o, "provider_id", str_or_null(c->provider_id));
	json_object_set_new(o, "node_name", str_or_null(c->node_name));
	json_object_set_new(o, "image_id", str_or_null(c->image_id));
	json_object_set_new(o, "capacity", resources_json(&c->capacity));
	json_object_set_new(o, "allocatable", resources_json(&c->allocatable));
	json_object_set_new(o, "launched_ms", json_integer(c->launched_ms));
	json_object_set_new(o, "registered_ms", json_integer(c->registered_ms));
	json_object_set_new(o, "initialized_ms", json_integer(c->initialized_ms));
	json_object_set_new(o, "last_pod_event_ms", json_integer(c->last_pod_event_ms));
	return json_pack("{s:o}", "nodeclaim", o);
}

static json_t *instance_json(const struct sim_world *w, const struct sim_instance *in)
{
	json_t *o = json_object();

	json_object_set_new(o, "provider_id", json_string(in->provider_id));
	json_object_set_new(o, "nodeclaim", json_string(in->claim));
	json_object_set_new(o, "instance_type", json_string(in->type->name));
	json_object_set_new(o, "zone", json_string(w->cfg.zones[in->zone]));
	json_object_set_new(o, "capacity_type",
			    json_string(kerf_capacity_type_name(in->capacity_type)));
	json_object_set_new(o, "price", json_integer(in->price));
	json_object_set_new(o, "capacity", resources_json(&in->capacity));
	json_object_set_new(o, "allocatable", resources_json(&in->allocatable));
	json_object_set_new(o, "image_id", json_string(in->image_id));
	json_object_set_new(o, "tags", labels_json(&in->tags));
	json_object_set_new(o, "launch_ms", json_integer(in->launch_ms));
	json_object_set_new(o, "deleted", json_boolean(in->deleted));
	json_object_set_new(o, "delete_ms", json_integer(in->delete_ms));
	json_object_set_new(o, "interrupt_ms", json_integer(in->interrupt_ms));
	return json_pack("{s:o}", "instance", o);
}

static json_t *node_json(const struct kerf_node *n)
{
	return json_pack("{s:{s:s,s:s,s:o,s:o,s:b}}", "node", "name", n->meta->name, "provider_id",
			 n->provider_id, "labels", labels_json(&n->meta->labels), "taints",
			 taints_json(&n->taints), "unschedulable", n->unschedulable);
}

/* Appends one line; takes j. */
static bool put_line(FILE *f, json_t *j)
{
	char *line = json_dumps(j, JSON_COMPACT);
	bool ok = line && fputs(line, f) >= 0 && fputc('\n', f) != EOF;

	free(line);
	json_decref(j);
	return ok;
}

static bool write_all(const struct sim *s, FILE *f)
{
	const struct sim_world *w = s->world;
	const struct sim_cluster *c = s->cluster;
	int64_t now = s->host->wall_ms(s->host->ctx);
	bool ok = put_line(f, json_pack("{s:i,s:I,s:I,s:I,s:I,s:I}", "kerf_sim_state",
					STATE_VERSION, "epoch_ms",
					(json_int_t)(c->resumed || c->started ? c->start_ms : 0),
					"uids", (json_int_t)c->uids, "resource_version",
					(json_int_t)c->resource_version, "node_seq",
					(json_int_t)c->node_seq, "cloud_next",
					(json_int_t)c->cloud_next));

	/* Gone instances stay out: nothing can ask about them any more. */
	for (size_t i = 0; ok && i < w->n_instances; i++)
		if (sim_instance_time(w, w->instances[i], SIM_GONE) > now)
			ok = put_line(f, instance_json(w, w->instances[i]));
	for (size_t i = 0; ok && i < c->n_claims; i++)
		ok = put_line(f, claim_json(c->claims[i]));
	for (size_t i = 0; ok && i < c->n_nodes; i++)
		if (c->nodes[i]->node->provider_id)
			ok = put_line(f, node_json(c->nodes[i]->node));
	for (size_t i = 0; ok && i < c->n_saved_nodes; i++)
		ok = put_line(f, node_json(c->saved_nodes[i]));
	return ok;
}

static int io_error(struct kerf_error *err, const char *what, const char *path)
{
	int e = errno;

	return kerf_error_set(err, KERF_E_IO, "sim: state file %s: %s: %s", path, what,
			      strerror(e));
}

/* Makes the rename itself durable. */
static void sync_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char dir[4096];
	int fd;

	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	fd = open(dir, O_RDONLY | O_DIRECTORY);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

int sim_state_save(struct sim *s, struct kerf_error *err)
{
	const struct kerf_host *h = s->host;
	size_t n = strlen(s->state_file) + 5;
	char *tmp = h->malloc(h->ctx, n);
	FILE *f;
	int rc = 0;

	snprintf(tmp, n, "%s.tmp", s->state_file);
	f = fopen(tmp, "w");
	if (!f) {
		rc = io_error(err, "cannot create the temporary file", tmp);
	} else {
		bool ok = write_all(s, f) && fflush(f) == 0 && fsync(fileno(f)) == 0;

		if (!ok)
			rc = io_error(err, "cannot write", tmp);
		if (fclose(f) != 0 && rc == 0)
			rc = io_error(err, "cannot write", tmp);
		if (rc == 0 && rename(tmp, s->state_file) != 0)
			rc = io_error(err, "cannot rename the temporary file over it",
				      s->state_file);
		if (rc)
			unlink(tmp);
	}
	h->free(h->ctx, tmp);
	if (rc == 0) {
		sync_dir(s->state_file);
		s->world->dirty = false;
	}
	return rc;
}

/* ------------------------------------------------------------ reading */

struct reader {
	const struct kerf_host *h;
	const char *path;
	unsigned line;
	struct kerf_error *err;
};

static int rerr(struct reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int rerr(struct reader *r, const char *fmt, ...)
{
	char msg[KERF_ERROR_MSG_MAX];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	rc = kerf_error_set(r->err, KERF_E_PARSE, "sim: state file %s:%u: %s", r->path, r->line,
			    msg);
	if (r->err)
		r->err->line = r->line;
	return rc;
}

/* A string member: *out borrowed from o, NULL when absent or null and !required. */
static int rd_str(struct reader *r, const json_t *o, const char *key, bool required,
		  const char **out)
{
	const json_t *v = json_object_get(o, key);

	*out = NULL;
	if ((!v || json_is_null(v)) && !required)
		return 0;
	if (!json_is_string(v))
		return rerr(r, "\"%s\": expected a string", key);
	*out = json_string_value(v);
	return 0;
}

static int rd_dup(struct reader *r, const json_t *o, const char *key, bool required, char **out)
{
	const char *s;
	int rc = rd_str(r, o, key, required, &s);

	if (rc == 0)
		*out = s ? r->h->strdup(r->h->ctx, s) : NULL;
	return rc;
}

static int rd_int(struct reader *r, const json_t *o, const char *key, int64_t min, int64_t max,
		  int64_t *out)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_integer(v))
		return rerr(r, "\"%s\": expected a whole number", key);
	if (json_integer_value(v) < min || json_integer_value(v) > max)
		return rerr(r, "\"%s\": %" JSON_INTEGER_FORMAT " is out of range", key,
			    json_integer_value(v));
	*out = json_integer_value(v);
	return 0;
}

static int rd_bool(struct reader *r, const json_t *o, const char *key, bool *out)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_boolean(v))
		return rerr(r, "\"%s\": expected true or false", key);
	*out = json_is_true(v);
	return 0;
}

static int rd_labels(struct reader *r, const json_t *o, const char *key, struct kerf_labels *l)
{
	const json_t *v = json_object_get(o, key), *x;
	const char *k;

	if (!json_is_object(v))
		return rerr(r, "\"%s\": expected an object of strings", key);
	json_object_foreach((json_t *)v, k, x) {
		if (!json_is_string(x))
			return rerr(r, "\"%s\".\"%s\": expected a string", key, k);
		if (kerf_labels_set(l, k, json_string_value(x)) != 0)
			return rerr(r, "\"%s\".\"%s\": cannot be set", key, k);
	}
	return 0;
}

static int rd_taints(struct reader *r, const json_t *o, const char *key, struct kerf_taints *t)
{
	const json_t *v = json_object_get(o, key), *x;
	size_t i;

	if (!json_is_array(v))
		return rerr(r, "\"%s\": expected a list of taints", key);
	json_array_foreach(v, i, x) {
		struct kerf_taint *tt = kerf_taints_append(t);
		const char *effect;
		int rc, e;

		if (!json_is_object(x))
			return rerr(r, "\"%s\"[%zu]: expected a taint", key, i);
		if ((rc = rd_dup(r, x, "key", false, &tt->key)) ||
		    (rc = rd_dup(r, x, "value", false, &tt->value)) ||
		    (rc = rd_str(r, x, "effect", true, &effect)))
			return rc;
		for (e = KERF_EFFECT_NO_SCHEDULE; e <= KERF_EFFECT_NO_EXECUTE; e++)
			if (strcmp(effect, kerf_effect_name((kerf_taint_effect)e)) == 0)
				break;
		if (e > KERF_EFFECT_NO_EXECUTE)
			return rerr(r, "\"%s\"[%zu]: unknown effect \"%s\"", key, i, effect);
		tt->effect = (kerf_taint_effect)e;
	}
	return 0;
}

static int rd_requirements(struct reader *r, const json_t *o, const char *key,
			   struct kerf_requirements *reqs)
{
	const json_t *v = json_object_get(o, key), *x;
	size_t i;

	if (!json_is_array(v))
		return rerr(r, "\"%s\": expected a list of requirements", key);
	json_array_foreach(v, i, x) {
		struct kerf_requirement *q = kerf_requirements_append(reqs);
		const json_t *values = json_object_get(x, "values"), *y;
		const char *op;
		int64_t min_values;
		size_t j;
		int rc, k;

		if ((rc = rd_dup(r, x, "key", false, &q->key)) ||
		    (rc = rd_str(r, x, "operator", true, &op)) ||
		    (rc = rd_int(r, x, "min_values", 0, INT32_MAX, &min_values)))
			return rc;
		for (k = KERF_OP_IN; k <= KERF_OP_LTE; k++)
			if (strcmp(op, kerf_operator_name((kerf_operator)k)) == 0)
				break;
		if (k > KERF_OP_LTE)
			return rerr(r, "\"%s\"[%zu]: unknown operator \"%s\"", key, i, op);
		q->op = (kerf_operator)k;
		q->min_values = (int32_t)min_values;
		if (!json_is_array(values))
			return rerr(r, "\"%s\"[%zu].\"values\": expected a list", key, i);
		json_array_foreach(values, j, y) {
			if (!json_is_string(y))
				return rerr(r, "\"%s\"[%zu].\"values\"[%zu]: expected a string",
					    key, i, j);
			kerf_requirement_add_value(q, json_string_value(y));
		}
	}
	return 0;
}

static int rd_resources(struct reader *r, const json_t *o, const char *key,
			struct kerf_resources *res)
{
	const json_t *v = json_object_get(o, key), *ext, *x;
	int64_t present;
	const char *name;
	int rc;

	if (!json_is_object(v))
		return rerr(r, "\"%s\": expected resources", key);
	kerf_resources_init(res);
	if ((rc = rd_int(r, v, "cpu_millis", 0, INT64_MAX, &res->cpu_millis)) ||
	    (rc = rd_int(r, v, "memory_bytes", 0, INT64_MAX, &res->memory_bytes)) ||
	    (rc = rd_int(r, v, "ephemeral_bytes", 0, INT64_MAX, &res->ephemeral_bytes)) ||
	    (rc = rd_int(r, v, "pods", 0, INT64_MAX, &res->pods)) ||
	    (rc = rd_int(r, v, "present", 0, UINT32_MAX, &present)))
		return rc;
	res->present = (uint32_t)present;
	ext = json_object_get(v, "ext");
	if (!json_is_object(ext))
		return rerr(r, "\"%s\".\"ext\": expected an object of whole numbers", key);
	json_object_foreach((json_t *)ext, name, x) {
		if (res->n_ext == KERF_RESOURCES_EXT_MAX || strlen(name) >= KERF_RESOURCE_NAME_MAX)
			return rerr(r, "\"%s\".\"ext\": too many resources or \"%s\" too long", key,
				    name);
		if (!json_is_integer(x))
			return rerr(r, "\"%s\".\"ext\".\"%s\": expected a whole number", key, name);
		snprintf(res->ext[res->n_ext].name, KERF_RESOURCE_NAME_MAX, "%s", name);
		res->ext[res->n_ext++].value = json_integer_value(x);
	}
	return 0;
}

static int rd_meta(struct reader *r, const json_t *o, struct kerf_meta *m)
{
	const json_t *v = json_object_get(o, "meta"), *fin, *x;
	size_t i;
	int rc;

	if (!json_is_object(v))
		return rerr(r, "\"meta\": expected an object");
	if ((rc = rd_dup(r, v, "api_version", false, &m->api_version)) ||
	    (rc = rd_dup(r, v, "kind", false, &m->kind)) ||
	    (rc = rd_dup(r, v, "name", true, &m->name)) ||
	    (rc = rd_dup(r, v, "namespace", false, &m->namespace_)) ||
	    (rc = rd_dup(r, v, "uid", false, &m->uid)) ||
	    (rc = rd_dup(r, v, "resource_version", false, &m->resource_version)) ||
	    (rc = rd_labels(r, v, "labels", &m->labels)) ||
	    (rc = rd_labels(r, v, "annotations", &m->annotations)) ||
	    (rc = rd_int(r, v, "creation_ms", 0, INT64_MAX, &m->creation_ms)) ||
	    (rc = rd_int(r, v, "deletion_ms", 0, INT64_MAX, &m->deletion_ms)) ||
	    (rc = rd_dup(r, v, "owner_kind", false, &m->owner_kind)) ||
	    (rc = rd_dup(r, v, "owner_name", false, &m->owner_name)))
		return rc;
	fin = json_object_get(v, "finalizers");
	if (!json_is_array(fin))
		return rerr(r, "\"meta\".\"finalizers\": expected a list");
	m->finalizers = r->h->calloc(r->h->ctx, json_array_size(fin) + 1, sizeof(char *));
	json_array_foreach(fin, i, x) {
		if (!json_is_string(x))
			return rerr(r, "\"meta\".\"finalizers\"[%zu]: expected a string", i);
		m->finalizers[m->n_finalizers++] = r->h->strdup(r->h->ctx, json_string_value(x));
	}
	return 0;
}

static int rd_claim(struct reader *r, struct sim_cluster *c, const json_t *o)
{
	struct kerf_nodeclaim *nc = kerf_nodeclaim_new();
	struct kerf_node_class_ref *ref = nc->node_class_ref;
	const json_t *jref = json_object_get(o, "node_class_ref");
	int64_t state = 0;
	int rc;

	if (!json_is_object(jref)) {
		rc = rerr(r, "\"node_class_ref\": expected an object");
	} else if ((rc = rd_meta(r, o, nc->meta)) ||
		   (rc = rd_dup(r, o, "nodepool", false, &nc->nodepool)) ||
		   (rc = rd_dup(r, jref, "group", false, &ref->group)) ||
		   (rc = rd_dup(r, jref, "kind", false, &ref->kind)) ||
		   (rc = rd_dup(r, jref, "name", false, &ref->name)) ||
		   (rc = rd_requirements(r, o, "requirements", &nc->requirements)) ||
		   (rc = rd_taints(r, o, "taints", &nc->taints)) ||
		   (rc = rd_taints(r, o, "startup_taints", &nc->startup_taints)) ||
		   (rc = rd_resources(r, o, "resource_requests", &nc->resource_requests)) ||
		   (rc = rd_int(r, o, "expire_after_ms", -1, INT64_MAX, &nc->expire_after_ms)) ||
		   (rc = rd_int(r, o, "termination_grace_period_ms", -1, INT64_MAX,
				&nc->termination_grace_period_ms)) ||
		   (rc = rd_int(r, o, "state", KERF_CLAIM_PENDING, KERF_CLAIM_DELETING, &state)) ||
		   (rc = rd_dup(r, o, "provider_id", false, &nc->provider_id)) ||
		   (rc = rd_dup(r, o, "node_name", false, &nc->node_name)) ||
		   (rc = rd_dup(r, o, "image_id", false, &nc->image_id)) ||
		   (rc = rd_resources(r, o, "capacity", &nc->capacity)) ||
		   (rc = rd_resources(r, o, "allocatable", &nc->allocatable)) ||
		   (rc = rd_int(r, o, "launched_ms", 0, INT64_MAX, &nc->launched_ms)) ||
		   (rc = rd_int(r, o, "registered_ms", 0, INT64_MAX, &nc->registered_ms)) ||
		   (rc = rd_int(r, o, "initialized_ms", 0, INT64_MAX, &nc->initialized_ms)) ||
		   (rc = rd_int(r, o, "last_pod_event_ms", 0, INT64_MAX,
				&nc->last_pod_event_ms))) {
		/* rc and the message are set */
	} else if (simc_find_claim(c, nc->meta->name, NULL)) {
		rc = rerr(r, "NodeClaim %s is listed twice", nc->meta->name);
	}
	if (rc) {
		kerf_nodeclaim_free(nc);
		return rc;
	}
	nc->state = (kerf_claim_state)state;
	PUSH(r->h, c->claims, c->n_claims, c->cap_claims, nc);
	return 0;
}

static int zone_index(const struct sim_world *w, const char *zone, size_t *out)
{
	for (size_t i = 0; i < w->cfg.n_zones; i++) {
		if (strcmp(w->cfg.zones[i], zone) == 0) {
			*out = i;
			return 0;
		}
	}
	return -1;
}

static int rd_instance(struct reader *r, struct sim_world *w, const json_t *o)
{
	const struct kerf_host *h = r->h;
	struct sim_instance *in = h->calloc(h->ctx, 1, sizeof(*in));
	const char *type, *zone, *ct;
	int64_t price;
	int rc;

	if ((rc = rd_dup(r, o, "provider_id", true, &in->provider_id)) ||
	    (rc = rd_dup(r, o, "nodeclaim", true, &in->claim)) ||
	    (rc = rd_dup(r, o, "image_id", true, &in->image_id)) ||
	    (rc = rd_str(r, o, "instance_type", true, &type)) ||
	    (rc = rd_str(r, o, "zone", true, &zone)) ||
	    (rc = rd_str(r, o, "capacity_type", true, &ct)) ||
	    (rc = rd_int(r, o, "price", 0, INT64_MAX, &price)) ||
	    (rc = rd_labels(r, o, "tags", &in->tags)) ||
	    (rc = rd_int(r, o, "launch_ms", 0, INT64_MAX, &in->launch_ms)) ||
	    (rc = rd_bool(r, o, "deleted", &in->deleted)) ||
	    (rc = rd_int(r, o, "delete_ms", 0, INT64_MAX, &in->delete_ms)) ||
	    (rc = rd_int(r, o, "interrupt_ms", 0, INT64_MAX, &in->interrupt_ms))) {
		/* rc and the message are set */
	} else if (!(in->type = sim_world_type(w, type))) {
		rc = rerr(r, "instance %s: instance type \"%s\" is not in the catalogue",
			  in->provider_id, type);
	} else if (zone_index(w, zone, &in->zone) != 0) {
		rc = rerr(r, "instance %s: zone \"%s\" is not configured", in->provider_id, zone);
	} else if ((rc = rd_resources(r, o, "capacity", &in->capacity)) ||
		   (rc = rd_resources(r, o, "allocatable", &in->allocatable))) {
		/* rc and the message are set */
	} else if (strcmp(ct, "spot") == 0 || strcmp(ct, "on-demand") == 0) {
		in->capacity_type = ct[0] == 's' ? KERF_CAPACITY_SPOT : KERF_CAPACITY_ON_DEMAND;
		in->price = price;
		if (!sim_world_add(w, in))
			rc = rerr(r, "instance %s is listed twice", in->provider_id);
		else
			return 0;
	} else {
		rc = rerr(r, "instance %s: unknown capacity type \"%s\"", in->provider_id, ct);
	}
	sim_instance_free(h, in);
	return rc;
}

static int rd_node(struct reader *r, struct sim_cluster *c, const json_t *o)
{
	struct kerf_node *n = kerf_node_new();
	int rc;

	if ((rc = rd_dup(r, o, "name", true, &n->meta->name)) ||
	    (rc = rd_dup(r, o, "provider_id", true, &n->provider_id)) ||
	    (rc = rd_labels(r, o, "labels", &n->meta->labels)) ||
	    (rc = rd_taints(r, o, "taints", &n->taints)) ||
	    (rc = rd_bool(r, o, "unschedulable", &n->unschedulable))) {
		kerf_node_free(n);
		return rc;
	}
	PUSH(r->h, c->saved_nodes, c->n_saved_nodes, c->cap_saved_nodes, n);
	return 0;
}

static int rd_header(struct reader *r, struct sim_cluster *c, const json_t *o)
{
	int64_t version, epoch, uids, rv, seq, cloud_next;
	int rc;

	if (!json_object_get(o, "kerf_sim_state"))
		return rerr(r, "not a sim state file: the first line has no \"kerf_sim_state\"");
	if ((rc = rd_int(r, o, "kerf_sim_state", 0, INT32_MAX, &version)) != 0)
		return rc;
	if (version != STATE_VERSION)
		return rerr(r, "version %" PRId64 " is not %d", version, STATE_VERSION);
	if ((rc = rd_int(r, o, "epoch_ms", 0, INT64_MAX, &epoch)) ||
	    (rc = rd_int(r, o, "uids", 0, INT64_MAX, &uids)) ||
	    (rc = rd_int(r, o, "resource_version", 0, INT64_MAX, &rv)) ||
	    (rc = rd_int(r, o, "node_seq", 0, INT64_MAX, &seq)) ||
	    (rc = rd_int(r, o, "cloud_next", 0, INT64_MAX, &cloud_next)))
		return rc;
	c->resumed = epoch != 0;
	c->start_ms = epoch;
	c->uids = (uint64_t)uids;
	c->resource_version = (uint64_t)rv;
	c->node_seq = (uint64_t)seq;
	c->cloud_next = (size_t)cloud_next;
	return 0;
}

static int rd_line(struct reader *r, struct sim *s, char *text)
{
	json_error_t jerr;
	json_t *o = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
	const json_t *v;
	int rc;

	if (!o)
		return rerr(r, "column %d: %s", jerr.column, jerr.text);
	if (!json_is_object(o))
		rc = rerr(r, "expected an object");
	else if (r->line == 1)
		rc = rd_header(r, s->cluster, o);
	else if (json_object_size(o) != 1)
		rc = rerr(r, "expected one of {\"instance\": ...}, {\"nodeclaim\": ...}, "
			     "{\"node\": ...}");
	else if (json_is_object(v = json_object_get(o, "instance")))
		rc = rd_instance(r, s->world, v);
	else if (json_is_object(v = json_object_get(o, "nodeclaim")))
		rc = rd_claim(r, s->cluster, v);
	else if (json_is_object(v = json_object_get(o, "node")))
		rc = rd_node(r, s->cluster, v);
	else
		rc = rerr(r, "expected one of {\"instance\": ...}, {\"nodeclaim\": ...}, "
			     "{\"node\": ...}");
	json_decref(o);
	return rc;
}

int sim_state_load(struct sim *s, struct kerf_error *err)
{
	const struct kerf_host *h = s->host;
	struct reader r = {h, s->state_file, 0, err};
	struct stat st;
	char *text = NULL, *line, *next;
	size_t len = 0;
	int rc;

	if (stat(s->state_file, &st) != 0) {
		if (errno == ENOENT)
			return 0;
		return io_error(err, "cannot read", s->state_file);
	}
	rc = h->read_file(h->ctx, s->state_file, STATE_MAX_BYTES, &text, &len, err);
	if (rc)
		return rc;
	if (strlen(text) != len)
		rc = kerf_error_set(err, KERF_E_PARSE, "sim: state file %s: not a text file",
				    s->state_file);
	for (line = text; rc == 0 && line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		/* The newline that ends the last line. */
		if (!*line && (!next || !*next))
			break;
		r.line++;
		rc = *line ? rd_line(&r, s, line) : rerr(&r, "empty line");
	}
	if (rc == 0 && r.line == 0)
		rc = kerf_error_set(err, KERF_E_PARSE, "sim: state file %s: empty",
				    s->state_file);
	h->free(h->ctx, text);
	if (rc == 0)
		h->log(h->ctx, KERF_LOG_INFO,
		       "state file %s: %zu instances, %zu NodeClaims, %zu nodes, epoch %" PRId64,
		       s->state_file, s->world->n_instances, s->cluster->n_claims,
		       s->cluster->n_saved_nodes, s->cluster->start_ms);
	/* What was read is what the file says. */
	s->world->dirty = false;
	return rc;
}

struct kerf_node *simc_take_saved_node(struct sim_cluster *c, const char *provider_id)
{
	for (size_t i = 0; i < c->n_saved_nodes; i++) {
		struct kerf_node *n = c->saved_nodes[i];

		if (strcmp(n->provider_id, provider_id) == 0) {
			memmove(&c->saved_nodes[i], &c->saved_nodes[i + 1],
				(c->n_saved_nodes - i - 1) * sizeof(*c->saved_nodes));
			c->n_saved_nodes--;
			return n;
		}
	}
	return NULL;
}
