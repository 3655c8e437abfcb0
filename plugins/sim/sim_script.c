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
 *
 * interrupt and terminate are the simulated cloud's (sim_world.h): they
 * pick the first `count` (default 1) live instances in launch order that
 * match every key given (nodeclaim, nodepool, instance_type, zone,
 * capacity_type), and interrupt them (a spot interruption notice, then
 * termination two minutes later unless kerf deleted them first) or
 * terminate them at once.
 *
 * Plugins read YAML only through the host's config getters and libkerf's
 * workload parser, neither of which can hold a list of actions, so the
 * scenario is read by a small parser of its own for exactly this shape:
 * block sequences and mappings, flow mappings, plain and quoted scalars and
 * comments.  Anything else (anchors, block scalars, flow sequences, tabs
 * in indentation) is refused with its position rather than misread.
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

/* --------------------------------------------------------- scenario YAML */

struct snode;

struct spair {
	char *key;
	struct snode *value;
	unsigned line, column;
};

/* A scalar (scalar != NULL), a mapping (pairs) or a sequence (items). */
struct snode {
	char *scalar;
	size_t n_pairs;
	struct spair *pairs;
	size_t n_items;
	struct snode **items;
	unsigned line, column;
};

/* One significant line: indentation, and the text after it with comments cut. */
struct sline {
	unsigned no;
	unsigned indent;
	char *text; /* points into the file text, NUL-terminated in place */
};

struct sparser {
	const struct kerf_host *h;
	const char *path;
	struct kerf_error *err;
	size_t n_lines;
	struct sline *lines;
	size_t at; /* next line */
};

static int perr(struct sparser *p, unsigned line, unsigned column, const char *msg,
		const char *detail)
{
	int rc = kerf_error_set(p->err, KERF_E_PARSE, "%s:%u:%u: %s%s%s", p->path, line, column,
				msg, detail ? ": " : "", detail ? detail : "");

	if (p->err) {
		p->err->line = line;
		p->err->column = column;
	}
	return rc;
}

static void snode_free(const struct kerf_host *h, struct snode *n)
{
	if (!n)
		return;
	h->free(h->ctx, n->scalar);
	for (size_t i = 0; i < n->n_pairs; i++) {
		h->free(h->ctx, n->pairs[i].key);
		snode_free(h, n->pairs[i].value);
	}
	h->free(h->ctx, n->pairs);
	for (size_t i = 0; i < n->n_items; i++)
		snode_free(h, n->items[i]);
	h->free(h->ctx, n->items);
	h->free(h->ctx, n);
}

static struct snode *snode_new(struct sparser *p, unsigned line, unsigned column)
{
	struct snode *n = p->h->calloc(p->h->ctx, 1, sizeof(*n));

	n->line = line;
	n->column = column;
	return n;
}

static char *dup_range(struct sparser *p, const char *s, size_t n)
{
	char *d = p->h->malloc(p->h->ctx, n + 1);

	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

/*
 * Splits the text into significant lines.  A '#' starts a comment at the
 * start of a line or after a blank, outside quotes; the caller's quoted
 * scalars never span lines, so tracking quotes per line is enough.
 */
static int split_lines(struct sparser *p, char *text)
{
	size_t cap = 0;
	unsigned no = 0;

	for (char *s = text; s && *s;) {
		char *nl = strchr(s, '\n'), *c;
		char quote = 0;
		unsigned indent = 0;

		if (nl)
			*nl = '\0';
		no++;
		while (s[indent] == ' ')
			indent++;
		for (c = s + indent; *c; c++) {
			if (quote) {
				if (*c == '\\' && quote == '"' && c[1])
					c++;
				else if (*c == quote)
					quote = 0;
			} else if (*c == '"' || *c == '\'') {
				quote = *c;
			} else if (*c == '#' && (c == s + indent || c[-1] == ' ')) {
				*c = '\0';
				break;
			}
		}
		for (c = s + strlen(s); c > s + indent && (c[-1] == ' ' || c[-1] == '\r'); c--)
			c[-1] = '\0';
		if (s[indent] == '\t')
			return perr(p, no, indent + 1, "tab in indentation", "indent with spaces");
		if (s[indent] && !(no == 1 && strcmp(s, "---") == 0)) {
			if (p->n_lines == cap) {
				cap = cap ? 2 * cap : 32;
				p->lines = p->h->realloc(p->h->ctx, p->lines, cap * sizeof(*p->lines));
			}
			p->lines[p->n_lines++] = (struct sline){no, indent, s + indent};
		}
		s = nl ? nl + 1 : NULL;
	}
	return 0;
}

/* A quoted scalar at *s (which is the quote); *s moves past the closing quote. */
static int parse_quoted(struct sparser *p, const char **s, unsigned line, unsigned column,
			char **out)
{
	char q = **s;
	const char *c = *s + 1;
	size_t n = 0;
	char *buf = p->h->malloc(p->h->ctx, strlen(c) + 1);

	for (;; c++) {
		if (!*c) {
			p->h->free(p->h->ctx, buf);
			return perr(p, line, column, "unterminated quoted string", NULL);
		}
		if (*c == q && q == '\'' && c[1] == '\'') {
			buf[n++] = *c++;
		} else if (*c == q) {
			break;
		} else if (q == '"' && *c == '\\') {
			c++;
			switch (*c) {
			case 'n':
				buf[n++] = '\n';
				break;
			case 't':
				buf[n++] = '\t';
				break;
			case '"':
			case '\\':
			case '/':
				buf[n++] = *c;
				break;
			default:
				p->h->free(p->h->ctx, buf);
				return perr(p, line, column, "unsupported escape in a quoted string",
					    NULL);
			}
		} else {
			buf[n++] = *c;
		}
	}
	buf[n] = '\0';
	*s = c + 1;
	*out = buf;
	return 0;
}

/* YAML indicators that would start something this parser does not read. */
static bool unsupported_start(char c)
{
	return c && strchr("[]&*!|>%@`", c) != NULL;
}

static int parse_flow_map(struct sparser *p, const char **s, const char *line_start,
			  unsigned line, struct snode **out);

static unsigned col_of(const char *line_start, const char *s, unsigned indent)
{
	return indent + 1 + (unsigned)(s - line_start);
}

static void skip_blanks(const char **s)
{
	while (**s == ' ')
		(*s)++;
}

/* A flow scalar: quoted, or plain up to one of `stops` (trailing blanks cut). */
static int parse_flow_scalar(struct sparser *p, const char **s, const char *stops,
			     unsigned line, unsigned column, char **out)
{
	const char *b = *s, *e;

	if (**s == '"' || **s == '\'')
		return parse_quoted(p, s, line, column, out);
	if (unsupported_start(**s))
		return perr(p, line, column, "unsupported YAML in a scenario", *s);
	while (**s && !strchr(stops, **s))
		(*s)++;
	for (e = *s; e > b && e[-1] == ' '; e--)
		;
	*out = dup_range(p, b, (size_t)(e - b));
	return 0;
}

static int add_pair(struct sparser *p, struct snode *map, char *key, struct snode *value,
		    unsigned line, unsigned column)
{
	for (size_t i = 0; i < map->n_pairs; i++) {
		if (strcmp(map->pairs[i].key, key) == 0) {
			int rc = perr(p, line, column, "duplicate key", key);
			p->h->free(p->h->ctx, key);
			snode_free(p->h, value);
			return rc;
		}
	}
	map->pairs =
	    p->h->realloc(p->h->ctx, map->pairs, (map->n_pairs + 1) * sizeof(*map->pairs));
	map->pairs[map->n_pairs++] = (struct spair){key, value, line, column};
	return 0;
}

/* A flow value: a nested flow mapping or a scalar, ended by ',' or '}'. */
static int parse_flow_value(struct sparser *p, const char **s, const char *ls, unsigned line,
			    unsigned indent, struct snode **out)
{
	unsigned column = col_of(ls, *s, indent);
	struct snode *v;
	int rc;

	if (**s == '{')
		return parse_flow_map(p, s, ls, line, out);
	v = snode_new(p, line, column);
	rc = parse_flow_scalar(p, s, ",}", line, column, &v->scalar);
	if (rc) {
		snode_free(p->h, v);
		return rc;
	}
	*out = v;
	return 0;
}

/* `{key: value, ...}` on one line; *s is at the '{' and moves past the '}'. */
static int parse_flow_map(struct sparser *p, const char **s, const char *ls, unsigned line,
			  struct snode **out)
{
	unsigned indent = p->lines[p->at - 1].indent;
	struct snode *map = snode_new(p, line, col_of(ls, *s, indent));
	int rc = 0;

	(*s)++;
	skip_blanks(s);
	while (rc == 0 && **s != '}') {
		unsigned kcol = col_of(ls, *s, indent);
		struct snode *value = NULL;
		char *key = NULL;

		if (!**s) {
			rc = perr(p, line, kcol, "unterminated flow mapping", "missing '}'");
			break;
		}
		rc = parse_flow_scalar(p, s, ":,}", line, kcol, &key);
		if (rc)
			break;
		skip_blanks(s);
		if (**s != ':') {
			p->h->free(p->h->ctx, key);
			rc = perr(p, line, col_of(ls, *s, indent), "expected ':' after a key",
				  NULL);
			break;
		}
		(*s)++;
		skip_blanks(s);
		rc = parse_flow_value(p, s, ls, line, indent, &value);
		if (rc == 0)
			rc = add_pair(p, map, key, value, line, kcol);
		else
			p->h->free(p->h->ctx, key);
		skip_blanks(s);
		if (rc == 0 && **s == ',') {
			(*s)++;
			skip_blanks(s);
		} else if (rc == 0 && !**s) {
			rc = perr(p, line, col_of(ls, *s, indent), "unterminated flow mapping",
				  "missing '}'");
		} else if (rc == 0 && **s != '}') {
			rc = perr(p, line, col_of(ls, *s, indent), "expected ',' or '}'", NULL);
		}
	}
	if (rc) {
		snode_free(p->h, map);
		return rc;
	}
	(*s)++;
	*out = map;
	return 0;
}

static int parse_block(struct sparser *p, unsigned indent, struct snode **out);

/*
 * The value after "key:" (or after "- "), starting at s on line ln.  An
 * empty value opens a block nested on the following, deeper lines.
 */
static int parse_inline_value(struct sparser *p, const struct sline *ln, const char *s,
			      unsigned min_indent, struct snode **out)
{
	unsigned column = col_of(ln->text, s, ln->indent);
	const char *end;
	struct snode *v;
	int rc;

	if (!*s) {
		if (p->at < p->n_lines && p->lines[p->at].indent > min_indent)
			return parse_block(p, p->lines[p->at].indent, out);
		/* A key without a value is null, as in YAML. */
		*out = snode_new(p, ln->no, column);
		return 0;
	}
	if (*s == '{') {
		rc = parse_flow_map(p, &s, ln->text, ln->no, out);
		skip_blanks(&s);
		if (rc == 0 && *s) {
			snode_free(p->h, *out);
			return perr(p, ln->no, col_of(ln->text, s, ln->indent),
				    "unexpected text after a flow mapping", s);
		}
		return rc;
	}
	v = snode_new(p, ln->no, column);
	end = s;
	rc = parse_flow_scalar(p, &end, "", ln->no, column, &v->scalar);
	if (rc == 0 && *end) {
		rc = perr(p, ln->no, col_of(ln->text, end, ln->indent),
			  "unexpected text after a quoted string", end);
	}
	if (rc == 0 && strstr(v->scalar, ": ")) {
		rc = perr(p, ln->no, column, "a mapping here must be on its own lines or in {}",
			  v->scalar);
	}
	if (rc) {
		snode_free(p->h, v);
		return rc;
	}
	*out = v;
	return 0;
}

/* "key: rest" starting at s; rest points after the ": " (or at the end). */
static int split_key(struct sparser *p, const struct sline *ln, const char *s, char **key,
		     const char **rest)
{
	unsigned column = col_of(ln->text, s, ln->indent);
	const char *c = s;

	if (*s == '"' || *s == '\'') {
		int rc = parse_quoted(p, &c, ln->no, column, key);
		if (rc)
			return rc;
	} else {
		if (unsupported_start(*s) || *s == '{' || *s == '-')
			return perr(p, ln->no, column, "unsupported YAML in a scenario", s);
		while (*c && !(*c == ':' && (c[1] == ' ' || c[1] == '\0')))
			c++;
		*key = dup_range(p, s, (size_t)(c - s));
	}
	if (*c != ':' || (c[1] != ' ' && c[1] != '\0')) {
		p->h->free(p->h->ctx, *key);
		return perr(p, ln->no, column, "expected \"key: value\"", s);
	}
	c++;
	skip_blanks(&c);
	*rest = c;
	return 0;
}

/* A block mapping whose first "key: value" is at s on the line just consumed. */
static int parse_block_map(struct sparser *p, const struct sline *first, const char *s,
			   unsigned indent, struct snode **out)
{
	struct snode *map = snode_new(p, first->no, col_of(first->text, s, first->indent));
	const struct sline *ln = first;
	int rc;

	for (;;) {
		unsigned kcol = col_of(ln->text, s, ln->indent);
		struct snode *value = NULL;
		const char *rest = NULL;
		char *key;

		rc = split_key(p, ln, s, &key, &rest);
		if (rc)
			break;
		rc = parse_inline_value(p, ln, rest, indent, &value);
		if (rc) {
			p->h->free(p->h->ctx, key);
			break;
		}
		if ((rc = add_pair(p, map, key, value, ln->no, kcol)) != 0)
			break;
		if (p->at >= p->n_lines || p->lines[p->at].indent < indent)
			break;
		ln = &p->lines[p->at++];
		if (ln->indent > indent) {
			rc = perr(p, ln->no, ln->indent + 1, "unexpected indentation", NULL);
			break;
		}
		s = ln->text;
		if (s[0] == '-' && (s[1] == ' ' || !s[1])) {
			/* A list item at the mapping's own indentation belongs to its parent. */
			p->at--;
			break;
		}
	}
	if (rc) {
		snode_free(p->h, map);
		return rc;
	}
	*out = map;
	return 0;
}

/* A block sequence of "- item" lines at indent. */
static int parse_block_seq(struct sparser *p, unsigned indent, struct snode **out)
{
	const struct sline *first = &p->lines[p->at];
	struct snode *seq = snode_new(p, first->no, indent + 1);
	int rc = 0;

	while (rc == 0 && p->at < p->n_lines && p->lines[p->at].indent == indent) {
		const struct sline *ln = &p->lines[p->at];
		const char *s = ln->text;
		struct snode *item = NULL;

		if (!(s[0] == '-' && (s[1] == ' ' || !s[1]))) {
			rc = perr(p, ln->no, indent + 1, "expected a list item (\"- \")", s);
			break;
		}
		p->at++;
		s++;
		skip_blanks(&s);
		if (*s && *s != '{' && *s != '"' && *s != '\'' && strstr(s, ": "))
			rc = parse_block_map(p, ln, s, col_of(ln->text, s, ln->indent) - 1,
					     &item);
		else if (*s && *s != '{' && *s != '"' && *s != '\'' &&
			 s[strlen(s) - 1] == ':')
			rc = parse_block_map(p, ln, s, col_of(ln->text, s, ln->indent) - 1,
					     &item);
		else
			rc = parse_inline_value(p, ln, s, indent, &item);
		if (rc)
			break;
		seq->items =
		    p->h->realloc(p->h->ctx, seq->items, (seq->n_items + 1) * sizeof(*seq->items));
		seq->items[seq->n_items++] = item;
	}
	if (rc == 0 && p->at < p->n_lines && p->lines[p->at].indent > indent)
		rc = perr(p, p->lines[p->at].no, p->lines[p->at].indent + 1,
			  "unexpected indentation", NULL);
	if (rc) {
		snode_free(p->h, seq);
		return rc;
	}
	*out = seq;
	return 0;
}

/* The block (sequence or mapping) starting on the next line, at indent. */
static int parse_block(struct sparser *p, unsigned indent, struct snode **out)
{
	const struct sline *ln = &p->lines[p->at];

	if (ln->text[0] == '-' && (ln->text[1] == ' ' || !ln->text[1]))
		return parse_block_seq(p, indent, out);
	p->at++;
	return parse_block_map(p, ln, ln->text, indent, out);
}

/* ------------------------------------------------------- scenario actions */

static const struct snode *get(const struct snode *map, const char *key)
{
	for (size_t i = 0; i < map->n_pairs; i++)
		if (strcmp(map->pairs[i].key, key) == 0)
			return map->pairs[i].value;
	return NULL;
}

static bool is_map(const struct snode *n)
{
	return n && !n->scalar && n->n_items == 0;
}

static int check_keys(struct sparser *p, const struct snode *map, const char *what,
		      const char *const *keys)
{
	for (size_t i = 0; i < map->n_pairs; i++) {
		size_t k = 0;
		while (keys[k] && strcmp(keys[k], map->pairs[i].key) != 0)
			k++;
		if (!keys[k]) {
			char msg[160];
			snprintf(msg, sizeof(msg), "unknown key \"%s\" in %s", map->pairs[i].key,
				 what);
			return perr(p, map->pairs[i].line, map->pairs[i].column, msg, NULL);
		}
	}
	return 0;
}

static int want_scalar(struct sparser *p, const struct snode *map, const char *key,
		       const char *what, bool required, const char **out)
{
	const struct snode *v = get(map, key);
	char msg[160];

	*out = NULL;
	if (!v && !required)
		return 0;
	if (!v) {
		snprintf(msg, sizeof(msg), "%s: missing \"%s\"", what, key);
		return perr(p, map->line, map->column, msg, NULL);
	}
	if (!v->scalar || !v->scalar[0]) {
		snprintf(msg, sizeof(msg), "%s.%s: expected a value", what, key);
		return perr(p, v->line, v->column, msg, NULL);
	}
	*out = v->scalar;
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
static int read_target(struct sparser *p, const struct snode *n, const char *what, bool scale,
		       struct sim_action *a)
{
	static const char *const scale_keys[] = {"kind", "name", "namespace", "replicas", NULL};
	static const char *const delete_keys[] = {"kind", "name", "namespace", NULL};
	const char *kind, *name, *ns, *replicas;
	int rc;

	if (!is_map(n))
		return perr(p, n->line, n->column, what, "expected a mapping {kind, name, ...}");
	if ((rc = check_keys(p, n, what, scale ? scale_keys : delete_keys)) ||
	    (rc = want_scalar(p, n, "kind", what, true, &kind)) ||
	    (rc = want_scalar(p, n, "name", what, true, &name)) ||
	    (rc = want_scalar(p, n, "namespace", what, false, &ns)) ||
	    (rc = want_scalar(p, n, "replicas", what, scale, &replicas)))
		return rc;
	if (!workload_kind(kind) || (scale && (strcmp(kind, "Pod") == 0 ||
					       strcmp(kind, "DaemonSet") == 0))) {
		const struct snode *k = get(n, "kind");
		return perr(p, k->line, k->column,
			    scale ? "scale: kind must be Deployment, ReplicaSet, StatefulSet or Job"
				  : "delete: kind must be Pod, Deployment, ReplicaSet, "
				    "StatefulSet, DaemonSet or Job",
			    kind);
	}
	if (scale) {
		const struct snode *r = get(n, "replicas");
		char *end;
		long long v;

		errno = 0;
		v = strtoll(replicas, &end, 10);
		if (errno || *end || end == replicas || v < 0 || v > INT32_MAX)
			return perr(p, r->line, r->column,
				    "scale.replicas: expected a whole number from 0", replicas);
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
static int read_selector(struct sparser *p, const struct snode *n, const char *what,
			 struct sim_action *a)
{
	static const char *const keys[] = {"nodeclaim",	    "nodepool", "instance_type", "zone",
					   "capacity_type", "count",	NULL};
	const char *claim, *pool, *type, *zone, *ct, *count;
	struct sim_selector *sel = &a->select;
	char msg[160];
	int rc;

	if (!is_map(n))
		return perr(p, n->line, n->column, what,
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
		const struct snode *v = get(n, "capacity_type");
		snprintf(msg, sizeof(msg), "%s.capacity_type: expected spot, on-demand or reserved",
			 what);
		return perr(p, v->line, v->column, msg, ct);
	}
	sel->count = 1;
	if (count) {
		const struct snode *v = get(n, "count");
		char *end;
		long long c;

		errno = 0;
		c = strtoll(count, &end, 10);
		if (errno || *end || end == count || c < 1 || c > INT32_MAX) {
			snprintf(msg, sizeof(msg), "%s.count: expected a whole number from 1", what);
			return perr(p, v->line, v->column, msg, count);
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

static int read_action(struct sparser *p, const struct snode *item, struct sim_script *s)
{
	static const char *const keys[] = {"at",	"apply",	   "scale",
					   "delete",	"interrupt",	   "terminate",
					   "delete_nodeclaim", "delete_node", NULL};
	const struct snode *scale, *del, *intr, *term, *at_node, *del_claim, *del_node;
	const char *at, *apply;
	struct kerf_error derr = KERF_ERROR_INIT;
	struct sim_action *a;
	int64_t at_ms;
	int rc, n_ops;

	if (!is_map(item))
		return perr(p, item->line, item->column,
			    "expected an action {at, apply | scale | delete | interrupt | "
			    "terminate}",
			    NULL);
	if ((rc = check_keys(p, item, "an action", keys)) ||
	    (rc = want_scalar(p, item, "at", "action", true, &at)) ||
	    (rc = want_scalar(p, item, "apply", "action", false, &apply)))
		return rc;
	at_node = get(item, "at");
	kerf_error_clear(&derr);
	if (kerf_duration_parse(at, false, &at_ms, &derr) != 0)
		return perr(p, at_node->line, at_node->column, "at: invalid duration",
			    derr.message);
	scale = get(item, "scale");
	del = get(item, "delete");
	intr = get(item, "interrupt");
	term = get(item, "terminate");
	del_claim = get(item, "delete_nodeclaim");
	del_node = get(item, "delete_node");
	n_ops = (apply != NULL) + (scale != NULL) + (del != NULL) + (intr != NULL) + (term != NULL) +
		(del_claim != NULL) + (del_node != NULL);
	if (n_ops != 1)
		return perr(p, item->line, item->column,
			    n_ops ? "an action has exactly one of apply, scale, delete, interrupt "
				    "and terminate"
				  : "an action needs one of apply, scale, delete, interrupt and "
				    "terminate",
			    NULL);
	a = script_push(p->h, s);
	a->at_ms = at_ms;
	if (apply) {
		char *path = resolve(p, apply);
		const struct snode *v = get(item, "apply");

		a->type = SIM_ACT_APPLY;
		rc = sim_workloads_load(p->h, path, &a->apply, p->err);
		p->h->free(p->h->ctx, path);
		if (rc && p->err) {
			/* Both positions: the action's, and the problem's in the manifest. */
			char msg[KERF_ERROR_MSG_MAX];
			snprintf(msg, sizeof(msg), "%s", p->err->message);
			perr(p, v->line, v->column, "apply", msg);
			p->err->code = rc;
		}
		return rc;
	}
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
	struct sparser p = {h, path, err, 0, NULL, 0};
	struct snode *root = NULL;
	char *text = NULL;
	size_t len = 0;
	int rc = h->read_file(h->ctx, path, SCRIPT_MAX_BYTES, &text, &len, err);

	if (rc)
		return rc;
	if (strlen(text) != len)
		rc = perr(&p, 1, 1, "not a text file", "it holds a NUL byte");
	if (rc == 0)
		rc = split_lines(&p, text);
	if (rc == 0 && p.n_lines) {
		if (p.lines[0].indent != 0)
			rc = perr(&p, p.lines[0].no, p.lines[0].indent + 1,
				  "unexpected indentation", NULL);
		else
			rc = parse_block(&p, 0, &root);
	}
	if (rc == 0 && root && p.at < p.n_lines)
		rc = perr(&p, p.lines[p.at].no, p.lines[p.at].indent + 1,
			  "unexpected text after the list of actions", p.lines[p.at].text);
	if (rc == 0 && root && (root->scalar || root->n_pairs))
		rc = perr(&p, root->line, root->column, "a scenario is a list of actions",
			  "start each with \"- at: ...\"");
	for (size_t i = 0; rc == 0 && root && i < root->n_items; i++)
		rc = read_action(&p, root->items[i], s);
	snode_free(h, root);
	h->free(h->ctx, p.lines);
	h->free(h->ctx, text);
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
			ok = parse_count(text, c == COL_COUNT ? INT32_MAX : INT64_MAX / (1 << 20),
					 &v[c]);
		if (!ok) {
			snprintf(msg, sizeof(msg), "%s: \"%.64s\" is not a non-negative number",
				 col_names[c], text);
			return terr(t, line, msg);
		}
	}
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
