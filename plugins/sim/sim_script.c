/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sim_script.c - what the simulated cluster is told to do, and when: the
 * scenario file and the CSV trace, read into one list of timed actions.
 *
 * A scenario is a YAML list of actions:
 *
 *   - at: 30s
 *     apply: web.yaml                  # Pods, Deployments, ... (kerf/workload.h)
 *   - at: 2m
 *     scale: {kind: Deployment, name: web, replicas: 10}
 *   - {at: 5m, delete: {kind: Deployment, name: web, namespace: default}}
 *   - {at: 6m, interrupt: {capacity_type: spot, count: 2}}
 *   - {at: 7m, terminate: {nodeclaim: default-x7k2p}}
 *   - {at: 8m, delete_nodepool: {name: default}}
 *
 * interrupt and terminate are the simulated cloud's (sim_world.h): they
 * pick the first `count` (default 1) live instances in launch order that
 * match every key given (nodeclaim, nodepool, instance_type, zone,
 * capacity_type), and interrupt them (a spot interruption notice, then
 * termination two minutes later unless kerf deleted them first) or
 * terminate them at once.
 *
 * delete_nodepool is `kubectl delete nodepool NAME` on a NodePool of
 * kerf.yaml's manifests (the core's, which the simulated cluster stands
 * for): the cluster reports the NodePool deleted, and what becomes of its
 * NodeClaims is kerf's to decide.
 *
 * The scenario is read with libkerf's YAML reader (kerf/doc.h), the one
 * kerf reads everything with, so its limits (nesting, size, aliases) and
 * its positioned errors hold here too.  Every value is taken as text, quoted
 * or not; an empty file is an empty scenario.
 *
 * A trace is CSV with a header naming its columns; arrival_s,
 * cpu_millicores, memory_mib, gpu and count are required, duration_s is
 * optional, other columns are ignored (the shared Alibaba trace has six
 * more).  A file without a header is read by position:
 * arrival_s,cpu_millicores,memory_mib,gpu,count[,duration_s].  Blank
 * lines and lines starting with # are skipped.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <kerf/kerf.h>

#include "sim_cluster.h"

/* Manifests, scenarios and traces larger than this are not what they claim to be. */
#define SCRIPT_MAX_BYTES (256u * 1024 * 1024)

/* ------------------------------------------------------------ actions */

static struct sim_action *script_push(const struct kerf_host *h, struct sim_script *s)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 16;
		s->items = h->realloc(h->ctx, s->items, s->cap * sizeof(*s->items));
	}
	memset(&s->items[s->n], 0, sizeof(s->items[s->n]));
	s->items[s->n].duration_ms = -1;
	return &s->items[s->n++];
}

static void action_clear(const struct kerf_host *h, struct sim_action *a)
{
	kerf_workload_list_free(a->apply);
	h->free(h->ctx, a->kind);
	h->free(h->ctx, a->namespace_);
	h->free(h->ctx, a->name);
	h->free(h->ctx, a->select.nodeclaim);
	h->free(h->ctx, a->select.nodepool);
	h->free(h->ctx, a->select.instance_type);
	h->free(h->ctx, a->select.zone);
	h->free(h->ctx, a->select.capacity_type);
}

void sim_script_clear(const struct kerf_host *h, struct sim_script *s)
{
	for (size_t i = 0; i < s->n; i++)
		action_clear(h, &s->items[i]);
	h->free(h->ctx, s->items);
	memset(s, 0, sizeof(*s));
}

/* Merge sort: qsort is not stable, and same-time actions must keep file order. */
static void sort_range(struct sim_action *a, struct sim_action *tmp, size_t n)
{
	size_t half = n / 2, i = 0, j = half, k = 0;

	if (n < 2)
		return;
	sort_range(a, tmp, half);
	sort_range(a + half, tmp, n - half);
	while (i < half && j < n)
		tmp[k++] = a[j].at_ms < a[i].at_ms ? a[j++] : a[i++];
	while (i < half)
		tmp[k++] = a[i++];
	while (j < n)
		tmp[k++] = a[j++];
	memcpy(a, tmp, n * sizeof(*a));
}

void sim_script_sort(const struct kerf_host *h, struct sim_script *s)
{
	struct sim_action *tmp;

	if (s->n < 2)
		return;
	tmp = h->malloc(h->ctx, s->n * sizeof(*tmp));
	sort_range(s->items, tmp, s->n);
	h->free(h->ctx, tmp);
}

int64_t sim_script_end_ms(const struct sim_script *s)
{
	int64_t end = 0;

	for (size_t i = 0; i < s->n; i++) {
		const struct sim_action *a = &s->items[i];
		/* An interruption's termination at its deadline is part of the script. */
		int64_t done = a->at_ms + (a->type == SIM_ACT_INTERRUPT ? SIM_INTERRUPT_NOTICE_MS : 0);

		if (done > end)
			end = done;
	}
	return end;
}

int sim_workloads_load(const struct kerf_host *h, const char *path,
		       struct kerf_workload_list **out, struct kerf_error *err)
{
	char *text = NULL;
	size_t len = 0;
	int rc = h->read_file(h->ctx, path, SCRIPT_MAX_BYTES, &text, &len, err);

	if (rc)
		return rc;
	rc = kerf_workloads_parse(path, text, len, out, err);
	h->free(h->ctx, text);
	return rc;
}

/* ------------------------------------------------------- scenario actions */

struct sparser {
	const struct kerf_host *h;
	const char *path;
	struct kerf_error *err;
};

static int perr(struct sparser *p, const struct kerf_doc_node *at, const char *msg,
		const char *detail)
{
	unsigned line = kerf_doc_line(at), column = kerf_doc_column(at);
	int rc = kerf_error_set(p->err, KERF_E_PARSE, "%s:%u:%u: %s%s%s", p->path, line, column,
				msg, detail ? ": " : "", detail ? detail : "");

	if (p->err) {
		p->err->line = line;
		p->err->column = column;
	}
	return rc;
}

/* The value of key, also when it is null ("key:" alone), or NULL when absent. */
static const struct kerf_doc_node *get(const struct kerf_doc_node *map, const char *key)
{
	for (size_t i = 0; i < kerf_doc_size(map); i++)
		if (strcmp(kerf_doc_scalar(kerf_doc_key_at(map, i)), key) == 0)
			return kerf_doc_value_at(map, i);
	return NULL;
}

/* A mapping, or "key:" with nothing after it, which reads as an empty one. */
static bool is_map(const struct kerf_doc_node *n)
{
	const char *text = kerf_doc_scalar(n);

	if (kerf_doc_node_type(n) == KERF_DOC_MAP)
		return true;
	return n && kerf_doc_is_null(n) && text && !text[0];
}

static int check_keys(struct sparser *p, const struct kerf_doc_node *map, const char *what,
		      const char *const *keys)
{
	for (size_t i = 0; i < kerf_doc_size(map); i++) {
		const struct kerf_doc_node *key = kerf_doc_key_at(map, i);
		const char *name = kerf_doc_scalar(key);
		size_t k = 0;
		while (keys[k] && strcmp(keys[k], name) != 0)
			k++;
		if (!keys[k]) {
			char msg[160];
			snprintf(msg, sizeof(msg), "unknown key \"%s\" in %s", name, what);
			return perr(p, key, msg, NULL);
		}
	}
	return 0;
}

/* Values are read as text, quoted or not: "30s", 10 and spot alike. */
static int want_scalar(struct sparser *p, const struct kerf_doc_node *map, const char *key,
		       const char *what, bool required, const char **out)
{
	const struct kerf_doc_node *v = get(map, key);
	const char *text = kerf_doc_scalar(v);
	char msg[160];

	*out = NULL;
	if (!v && !required)
		return 0;
	if (!v) {
		snprintf(msg, sizeof(msg), "%s: missing \"%s\"", what, key);
		return perr(p, map, msg, NULL);
	}
	if (!text || !text[0]) {
		snprintf(msg, sizeof(msg), "%s.%s: expected a value", what, key);
		return perr(p, v, msg, NULL);
	}
	*out = text;
	return 0;
}

/* Workload kinds a scale or delete may name, as kerf/workload.h reads them. */
static bool workload_kind(const char *k)
{
	static const char *const kinds[] = {"Pod",	   "Deployment", "ReplicaSet",
					    "StatefulSet", "DaemonSet",	 "Job"};

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(k, kinds[i]) == 0)
			return true;
	return false;
}

/* {kind, name, namespace[, replicas]} of a scale or delete. */
static int read_target(struct sparser *p, const struct kerf_doc_node *n, const char *what,
		       bool scale, struct sim_action *a)
{
	static const char *const scale_keys[] = {"kind", "name", "namespace", "replicas", NULL};
	static const char *const delete_keys[] = {"kind", "name", "namespace", NULL};
	const char *kind, *name, *ns, *replicas;
	int rc;

	if (!is_map(n))
		return perr(p, n, what, "expected a mapping {kind, name, ...}");
	if ((rc = check_keys(p, n, what, scale ? scale_keys : delete_keys)) ||
	    (rc = want_scalar(p, n, "kind", what, true, &kind)) ||
	    (rc = want_scalar(p, n, "name", what, true, &name)) ||
	    (rc = want_scalar(p, n, "namespace", what, false, &ns)) ||
	    (rc = want_scalar(p, n, "replicas", what, scale, &replicas)))
		return rc;
	if (!workload_kind(kind) ||
	    (scale && (strcmp(kind, "Pod") == 0 || strcmp(kind, "DaemonSet") == 0))) {
		return perr(p, get(n, "kind"),
			    scale ? "scale: kind must be Deployment, ReplicaSet, StatefulSet or Job"
				  : "delete: kind must be Pod, Deployment, ReplicaSet, "
				    "StatefulSet, DaemonSet or Job",
			    kind);
	}
	if (scale) {
		struct kerf_error cerr = KERF_ERROR_INIT;
		char *end;
		long long v;

		errno = 0;
		v = strtoll(replicas, &end, 10);
		if (!isdigit((unsigned char)*replicas) || *end)
			return perr(p, get(n, "replicas"),
				    "scale.replicas: expected a whole number from 0", replicas);
		/* Every replica becomes a pod: past the per-workload limit, refuse rather than run
		 * out of memory. */
		if (errno == ERANGE || kerf_pod_count_check(v, 0, "scale.replicas", &cerr))
			return perr(p, get(n, "replicas"),
				    errno == ERANGE ? "scale.replicas: too large" : cerr.message,
				    NULL);
		a->replicas = (int32_t)v;
	}
	a->kind = p->h->strdup(p->h->ctx, kind);
	a->name = p->h->strdup(p->h->ctx, name);
	a->namespace_ = p->h->strdup(p->h->ctx, ns ? ns : "default");
	return 0;
}

static char *opt_dup(struct sparser *p, const char *s)
{
	return s ? p->h->strdup(p->h->ctx, s) : NULL;
}

/* The instances an interrupt or terminate picks (struct sim_selector). */
static int read_selector(struct sparser *p, const struct kerf_doc_node *n, const char *what,
			 struct sim_action *a)
{
	static const char *const keys[] = {"nodeclaim",	    "nodepool", "instance_type", "zone",
					   "capacity_type", "count",	NULL};
	const char *claim, *pool, *type, *zone, *ct, *count;
	struct sim_selector *sel = &a->select;
	char msg[160];
	int rc;

	if (!is_map(n))
		return perr(p, n, what,
			    "expected a mapping {nodeclaim, nodepool, instance_type, zone, "
			    "capacity_type, count}; {} picks any instance");
	if ((rc = check_keys(p, n, what, keys)) ||
	    (rc = want_scalar(p, n, "nodeclaim", what, false, &claim)) ||
	    (rc = want_scalar(p, n, "nodepool", what, false, &pool)) ||
	    (rc = want_scalar(p, n, "instance_type", what, false, &type)) ||
	    (rc = want_scalar(p, n, "zone", what, false, &zone)) ||
	    (rc = want_scalar(p, n, "capacity_type", what, false, &ct)) ||
	    (rc = want_scalar(p, n, "count", what, false, &count)))
		return rc;
	if (ct && strcmp(ct, "spot") != 0 && strcmp(ct, "on-demand") != 0 &&
	    strcmp(ct, "reserved") != 0) {
		snprintf(msg, sizeof(msg), "%s.capacity_type: expected spot, on-demand or reserved",
			 what);
		return perr(p, get(n, "capacity_type"), msg, ct);
	}
	sel->count = 1;
	if (count) {
		char *end;
		long long c;

		errno = 0;
		c = strtoll(count, &end, 10);
		if (errno || *end || end == count || c < 1 || c > INT32_MAX) {
			snprintf(msg, sizeof(msg), "%s.count: expected a whole number from 1",
				 what);
			return perr(p, get(n, "count"), msg, count);
		}
		sel->count = (int32_t)c;
	}
	sel->nodeclaim = opt_dup(p, claim);
	sel->nodepool = opt_dup(p, pool);
	sel->instance_type = opt_dup(p, type);
	sel->zone = opt_dup(p, zone);
	sel->capacity_type = opt_dup(p, ct);
	return 0;
}

/* The apply path, relative to the scenario's directory unless absolute. */
static char *resolve(struct sparser *p, const char *file)
{
	const char *slash = strrchr(p->path, '/');
	size_t dir = slash ? (size_t)(slash - p->path) + 1 : 0, n = strlen(file);
	char *out;

	if (file[0] == '/' || dir == 0)
		return p->h->strdup(p->h->ctx, file);
	out = p->h->malloc(p->h->ctx, dir + n + 1);
	memcpy(out, p->path, dir);
	memcpy(out + dir, file, n + 1);
	return out;
}

/*
 * The workloads an apply adds.  A file holding none is an error: the action
 * would silently do nothing, which is never what its author meant.
 */
static int read_apply(struct sparser *p, const struct kerf_doc_node *v, const char *apply,
		      struct sim_action *a)
{
	char *path = resolve(p, apply);
	int rc;

	a->type = SIM_ACT_APPLY;
	rc = sim_workloads_load(p->h, path, &a->apply, p->err);
	if (rc == 0 && a->apply->n == 0) {
		char msg[KERF_ERROR_MSG_MAX];
		snprintf(msg, sizeof(msg),
			 "%s holds no Pod, Deployment, ReplicaSet, StatefulSet, DaemonSet or Job",
			 path);
		rc = perr(p, v, "apply", msg);
	} else if (rc && p->err) {
		/* Both positions: the action's, and the problem's in the manifest. */
		char msg[KERF_ERROR_MSG_MAX];
		snprintf(msg, sizeof(msg), "%s", p->err->message);
		perr(p, v, "apply", msg);
		p->err->code = rc;
	}
	p->h->free(p->h->ctx, path);
	return rc;
}

/* {name} of a delete_nodepool. */
static int read_pool(struct sparser *p, const struct kerf_doc_node *n, struct sim_action *a)
{
	static const char *const keys[] = {"name", NULL};
	const char *name;
	int rc;

	if (!is_map(n))
		return perr(p, n, "delete_nodepool", "expected a mapping {name}");
	if ((rc = check_keys(p, n, "delete_nodepool", keys)) ||
	    (rc = want_scalar(p, n, "name", "delete_nodepool", true, &name)))
		return rc;
	a->type = SIM_ACT_DELETE_NODEPOOL;
	a->name = p->h->strdup(p->h->ctx, name);
	return 0;
}

static int read_action(struct sparser *p, const struct kerf_doc_node *item, struct sim_script *s)
{
	static const char *const keys[] = {"at",	"apply",	   "scale",
					   "delete",	"interrupt",	   "terminate",
					   "delete_nodeclaim", "delete_node", "delete_nodepool",
					   NULL};
	const struct kerf_doc_node *scale, *del, *intr, *term, *del_claim, *del_node, *del_pool;
	const char *at, *apply;
	struct kerf_error derr = KERF_ERROR_INIT;
	struct sim_action *a;
	int64_t at_ms;
	int rc, n_ops;

	if (!is_map(item))
		return perr(p, item,
			    "expected an action {at, apply | scale | delete | interrupt | "
			    "terminate}",
			    NULL);
	if ((rc = check_keys(p, item, "an action", keys)) ||
	    (rc = want_scalar(p, item, "at", "action", true, &at)) ||
	    (rc = want_scalar(p, item, "apply", "action", false, &apply)))
		return rc;
	kerf_error_clear(&derr);
	if (kerf_duration_parse(at, false, &at_ms, &derr) != 0)
		return perr(p, get(item, "at"), "at: invalid duration", derr.message);
	scale = get(item, "scale");
	del = get(item, "delete");
	intr = get(item, "interrupt");
	term = get(item, "terminate");
	del_claim = get(item, "delete_nodeclaim");
	del_node = get(item, "delete_node");
	del_pool = get(item, "delete_nodepool");
	n_ops = (apply != NULL) + (scale != NULL) + (del != NULL) + (intr != NULL) + (term != NULL) +
		(del_claim != NULL) + (del_node != NULL) + (del_pool != NULL);
	if (n_ops != 1)
		return perr(p, item,
			    n_ops ? "an action has exactly one of apply, scale, delete, interrupt "
				    "and terminate"
				  : "an action needs one of apply, scale, delete, interrupt and "
				    "terminate",
			    NULL);
	a = script_push(p->h, s);
	a->at_ms = at_ms;
	if (apply)
		return read_apply(p, get(item, "apply"), apply, a);
	if (del_pool)
		return read_pool(p, del_pool, a);
	if (del_claim || del_node) {
		a->type = del_claim ? SIM_ACT_DELETE_NODECLAIM : SIM_ACT_DELETE_NODE;
		return read_selector(p, del_claim ? del_claim : del_node,
				     del_claim ? "delete_nodeclaim" : "delete_node", a);
	}
	if (intr || term) {
		a->type = intr ? SIM_ACT_INTERRUPT : SIM_ACT_TERMINATE;
		return read_selector(p, intr ? intr : term, intr ? "interrupt" : "terminate", a);
	}
	a->type = scale ? SIM_ACT_SCALE : SIM_ACT_DELETE;
	return read_target(p, scale ? scale : del, scale ? "scale" : "delete", scale != NULL, a);
}

int sim_scenario_load(const struct kerf_host *h, const char *path, struct sim_script *s,
		      struct kerf_error *err)
{
	struct sparser p = {h, path, err};
	struct kerf_doc *doc = NULL;
	const struct kerf_doc_node *root;
	char *text = NULL;
	size_t len = 0;
	int rc = h->read_file(h->ctx, path, SCRIPT_MAX_BYTES, &text, &len, err);

	if (rc)
		return rc;
	rc = kerf_doc_parse_optional(path, text, len, &doc, err);
	h->free(h->ctx, text);
	if (rc || !doc)
		return rc;
	root = kerf_doc_root(doc);
	if (kerf_doc_node_type(root) != KERF_DOC_SEQ)
		rc = perr(&p, root, "a scenario is a list of actions",
			  "start each with \"- at: ...\"");
	for (size_t i = 0; rc == 0 && i < kerf_doc_size(root); i++)
		rc = read_action(&p, kerf_doc_item(root, i), s);
	kerf_doc_free(doc);
	return rc;
}

/* ------------------------------------------------------------- trace CSV */

enum { COL_ARRIVAL, COL_CPU, COL_MEMORY, COL_GPU, COL_COUNT, COL_DURATION, N_COLS };

static const char *const col_names[N_COLS] = {"arrival_s", "cpu_millicores", "memory_mib",
					      "gpu",	   "count",	     "duration_s"};

struct trace {
	const struct kerf_host *h;
	const char *path;
	struct kerf_error *err;
	int col[N_COLS]; /* field index, -1 when absent */
	int64_t scale;
};

static int terr(struct trace *t, unsigned line, const char *msg)
{
	int rc = kerf_error_set(t->err, KERF_E_PARSE, "%s:%u: %s", t->path, line, msg);

	if (t->err)
		t->err->line = line;
	return rc;
}

/* Splits one line at commas in place; no quoting (the traces never quote). */
static size_t split_fields(char *line, char **fields, size_t max)
{
	size_t n = 0;

	for (char *s = line;; s++) {
		if (n < max)
			fields[n] = s;
		n++;
		s = strchr(s, ',');
		if (!s)
			break;
		*s = '\0';
	}
	return n;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ')
		s++;
	for (e = s + strlen(s); e > s && (e[-1] == ' ' || e[-1] == '\r'); e--)
		;
	*e = '\0';
	return s;
}

/* Non-negative seconds with up to three decimals ("12", "0.25") to milliseconds. */
static bool parse_seconds(const char *s, int64_t *ms)
{
	int64_t whole = 0, frac = 0;
	int digits = 0;
	const char *c = s;

	if (!isdigit((unsigned char)*c))
		return false;
	for (; isdigit((unsigned char)*c); c++) {
		if (whole > (INT64_MAX / 1000 - 9) / 10)
			return false;
		whole = whole * 10 + (*c - '0');
	}
	if (*c == '.') {
		for (c++; isdigit((unsigned char)*c); c++)
			if (digits < 3) {
				frac = frac * 10 + (*c - '0');
				digits++;
			}
	}
	if (*c)
		return false;
	while (digits++ < 3)
		frac *= 10;
	*ms = whole * 1000 + frac;
	return true;
}

static bool parse_count(const char *s, int64_t max, int64_t *out)
{
	char *end;
	long long v;

	if (!isdigit((unsigned char)*s))
		return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || v > max)
		return false;
	*out = v;
	return true;
}

/* The header's column positions; false when the first line is data. */
static int read_header(struct trace *t, char **f, size_t n, bool *header)
{
	for (int c = 0; c < N_COLS; c++)
		t->col[c] = -1;
	*header = !isdigit((unsigned char)*trim(f[0]));
	if (!*header) {
		for (int c = 0; c < N_COLS; c++)
			t->col[c] = (size_t)c < n ? c : -1;
		return 0;
	}
	for (size_t i = 0; i < n && i < 64; i++)
		for (int c = 0; c < N_COLS; c++)
			if (strcmp(trim(f[i]), col_names[c]) == 0)
				t->col[c] = (int)i;
	for (int c = 0; c < COL_DURATION; c++) {
		if (t->col[c] < 0) {
			char msg[160];
			snprintf(msg, sizeof(msg),
				 "header has no column \"%s\" (arrival_s, cpu_millicores, "
				 "memory_mib, gpu and count are needed)",
				 col_names[c]);
			return terr(t, 1, msg);
		}
	}
	return 0;
}

#define MAX_FIELDS 64

static int read_row(struct trace *t, char **f, size_t n, unsigned line, size_t row,
		    struct sim_script *s)
{
	int64_t v[N_COLS] = {0};
	struct kerf_error cerr = KERF_ERROR_INIT;
	struct sim_action *a;

	for (int c = 0; c < N_COLS; c++) {
		char msg[200];
		const char *text;
		bool ok;

		if (t->col[c] < 0 || (size_t)t->col[c] >= n) {
			if (c != COL_DURATION) {
				snprintf(msg, sizeof(msg), "missing column \"%s\"", col_names[c]);
				return terr(t, line, msg);
			}
			v[c] = -1;
			continue;
		}
		text = trim(f[t->col[c]]);
		if (c == COL_DURATION && !*text) {
			v[c] = -1;
			continue;
		}
		if (c == COL_ARRIVAL || c == COL_DURATION)
			ok = parse_seconds(text, &v[c]);
		else
			ok = parse_count(text, c == COL_COUNT ? INT64_MAX : INT64_MAX / (1 << 20),
					 &v[c]);
		if (!ok) {
			snprintf(msg, sizeof(msg), "%s: \"%.64s\" is not a non-negative number",
				 col_names[c], text);
			return terr(t, line, msg);
		}
	}
	/* A row's count becomes that many pods: the per-workload limit bounds it. */
	if (kerf_pod_count_check(v[COL_COUNT], 0, "count", &cerr))
		return terr(t, line, cerr.message);
	a = script_push(t->h, s);
	a->type = SIM_ACT_TRACE;
	a->at_ms = v[COL_ARRIVAL] / t->scale;
	a->row = row;
	a->cpu_millis = v[COL_CPU];
	a->memory_mib = v[COL_MEMORY];
	a->gpu = v[COL_GPU];
	a->replicas = (int32_t)v[COL_COUNT];
	a->duration_ms = v[COL_DURATION] < 0 ? -1 : v[COL_DURATION] / t->scale;
	return 0;
}

/*
 * The rows are C strings, so a NUL byte would end the file there and every
 * later row would be dropped without a word: refuse the file instead.
 */
static int trace_check_nul(struct trace *t, const char *text, size_t len)
{
	const char *nul = memchr(text, '\0', len), *bol = text;
	unsigned line = 1;
	int rc;

	if (!nul)
		return 0;
	for (const char *c = text; c < nul; c++)
		if (*c == '\n') {
			line++;
			bol = c + 1;
		}
	rc = kerf_error_set(t->err, KERF_E_PARSE, "%s:%u:%zu: a NUL byte (is this a text file?)",
			    t->path, line, (size_t)(nul - bol) + 1);
	if (t->err) {
		t->err->line = line;
		t->err->column = (unsigned)(nul - bol) + 1;
	}
	return rc;
}

int sim_trace_load(const struct kerf_host *h, const char *path, int64_t time_scale,
		   struct sim_script *s, struct kerf_error *err)
{
	struct trace t = {h, path, err, {0}, time_scale};
	char *text = NULL, *line, *next;
	size_t len = 0, row = 0;
	unsigned no = 0;
	bool first = true;
	int rc = h->read_file(h->ctx, path, SCRIPT_MAX_BYTES, &text, &len, err);

	if (rc)
		return rc;
	rc = trace_check_nul(&t, text, len);
	for (line = text; rc == 0 && line && *line; line = next) {
		char *f[MAX_FIELDS];
		size_t n;
		bool header;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		no++;
		/* Generated traces carry their provenance and licence in # lines above the data. */
		line = trim(line);
		if (!*line || *line == '#')
			continue;
		n = split_fields(line, f, MAX_FIELDS);
		if (n > MAX_FIELDS)
			n = MAX_FIELDS;
		if (first) {
			first = false;
			rc = read_header(&t, f, n, &header);
			if (rc || header)
				continue;
		}
		rc = read_row(&t, f, n, no, row++, s);
	}
	h->free(h->ctx, text);
	return rc;
}
