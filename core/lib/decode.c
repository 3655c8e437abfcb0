/* SPDX-License-Identifier: Apache-2.0 */
/*
 * decode.c - the bottom layer of every reader of Kubernetes-style objects
 * (Karpenter manifests in the engine, workloads in libkerf, node classes in
 * providers): the diagnostics context with its field path, strict field
 * decoding, YAML scalar typing, ObjectMeta and the common object header.
 *
 * It knows no object kind: what a NodePool or a Pod means is decided by the
 * readers above it, which is what lets the same positioned diagnostics come
 * out of every reader.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <kerf/requirements.h>

#include "decode.h"

/* ------------------------------------------------------------- context */

void mf_ctx_init(struct mf_ctx *c, struct mf_diags *diags, const char *kind,
		 const struct yt_node *doc)
{
	memset(c, 0, sizeof(*c));
	c->diags = diags;
	c->kind = kind;
	c->doc = doc;
	c->first = diags ? diags->n : 0;
	sb_init(&c->path);
}

/* Puts this object's diagnostics in file order (stable: insertion sort). */
static void sort_diags(struct mf_ctx *c)
{
	struct mf_diag *d;

	if (!c->diags)
		return;
	d = c->diags->items;
	for (size_t i = c->first + 1; i < c->diags->n; i++) {
		struct mf_diag t = d[i];
		size_t j = i;
		while (j > c->first && (d[j - 1].line > t.line ||
					(d[j - 1].line == t.line && d[j - 1].column > t.column))) {
			d[j] = d[j - 1];
			j--;
		}
		d[j] = t;
	}
}

void mf_ctx_clear(struct mf_ctx *c)
{
	sort_diags(c);
	sb_free(&c->path);
	free(c->name);
	c->name = NULL;
}

static void diag_add(struct mf_diags *d, char *message, unsigned line, unsigned column)
{
	d->items = xrealloc(d->items, (d->n + 1) * sizeof(*d->items));
	d->items[d->n].message = message;
	d->items[d->n].line = line;
	d->items[d->n].column = column;
	d->items[d->n].code = KERF_E_CONFIG;
	d->n++;
}

void mf_error(struct mf_ctx *c, const struct yt_node *at, const char *fmt, ...)
{
	struct strbuf sb;
	va_list ap;

	if (!at)
		at = c->doc;
	c->nerr++;
	if (!c->diags)
		return;
	sb_init(&sb);
	sb_printf(&sb, "%s:%u:%u: ", at && at->file ? at->file : "<input>", at ? at->line : 0,
		  at ? at->column : 0);
	if (c->kind)
		sb_printf(&sb, "%s/%s: ", c->kind, c->name ? c->name : "(unnamed)");
	if (c->path.len)
		sb_printf(&sb, "%s: ", c->path.buf);
	va_start(ap, fmt);
	sb_vprintf(&sb, fmt, ap);
	va_end(ap);
	diag_add(c->diags, sb_detach(&sb), at ? at->line : 0, at ? at->column : 0);
}

size_t mf_push(struct mf_ctx *c, const char *field)
{
	size_t mark = c->path.len;

	if (c->path.len)
		sb_puts(&c->path, ".");
	sb_puts(&c->path, field);
	return mark;
}

size_t mf_push_index(struct mf_ctx *c, size_t i)
{
	size_t mark = c->path.len;

	sb_printf(&c->path, "[%zu]", i);
	return mark;
}

size_t mf_push_key(struct mf_ctx *c, const char *key)
{
	size_t mark = c->path.len;

	sb_printf(&c->path, "[%s]", key);
	return mark;
}

void mf_pop(struct mf_ctx *c, size_t mark)
{
	if (c->path.buf && mark <= c->path.len) {
		c->path.len = mark;
		c->path.buf[mark] = '\0';
	}
}

void mf_diags_clear(struct mf_diags *diags)
{
	if (!diags)
		return;
	for (size_t i = 0; i < diags->n; i++)
		free(diags->items[i].message);
	free(diags->items);
	memset(diags, 0, sizeof(*diags));
}

/* ------------------------------------------------------------- fields */

const struct yt_node *mf_child(const struct yt_node *map, const char *key)
{
	const struct yt_node *v;

	if (!map || map->type != YT_MAP)
		return NULL;
	v = yt_map_get(map, key);
	if (!v || (v->type == YT_SCALAR && yt_is_null(v)))
		return NULL;
	return v;
}

const char *mf_suggest(const char *name, const char *const *known)
{
	const char *best = NULL;
	size_t best_d = 9, len = strlen(name);
	size_t limit = len >= 10 ? 3 : (len >= 4 ? 2 : 1);

	for (size_t i = 0; known[i]; i++) {
		size_t d;
		if (strcasecmp(name, known[i]) == 0)
			return known[i];
		d = str_edit_distance(name, known[i]);
		if (d < best_d) {
			best_d = d;
			best = known[i];
		}
	}
	return best_d <= limit ? best : NULL;
}

bool mf_known_fields(struct mf_ctx *c, const struct yt_node *map, const char *const *known)
{
	bool ok = true;

	if (!map || map->type != YT_MAP)
		return true;
	for (size_t i = 0; i < map->n; i++) {
		const char *k = map->pairs[i].key->scalar;
		const char *s;
		bool found = false;
		size_t m;

		for (size_t j = 0; known[j] && !found; j++)
			found = strcmp(k, known[j]) == 0;
		if (found)
			continue;
		ok = false;
		m = mf_push(c, k);
		s = mf_suggest(k, known);
		if (s)
			mf_error(c, map->pairs[i].key,
				 "unknown field \"%s\" (did you mean \"%s\"?)", k, s);
		else
			mf_error(c, map->pairs[i].key, "unknown field \"%s\"", k);
		mf_pop(c, m);
	}
	return ok;
}

void mf_missing(struct mf_ctx *c, const struct yt_node *map, const char *field)
{
	size_t m = mf_push(c, field);

	mf_error(c, map, "required field is missing");
	mf_pop(c, m);
}

/* ------------------------------------------------------------- scalars */

enum scalar_kind {
	SK_STRING,
	SK_NULL,
	SK_BOOL,
	SK_INT,
	SK_FLOAT,
};

static const char *const yaml_true[] = {"y",	"Y",	"yes", "Yes", "YES", "true",
					"True", "TRUE", "on",  "On",  "ON",  NULL};
static const char *const yaml_false[] = {"n",	  "N",	   "no",  "No",	 "NO",	"false",
					 "False", "FALSE", "off", "Off", "OFF", NULL};

static int str_in(const char *s, const char *const *list)
{
	for (size_t i = 0; list[i]; i++) {
		if (strcmp(s, list[i]) == 0)
			return 1;
	}
	return 0;
}

/* [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? and .inf/.nan */
static bool looks_float(const char *s)
{
	static const char *const special[] = {".inf", ".Inf", ".INF", ".nan", ".NaN", ".NAN", NULL};
	size_t a = 0, b = 0;

	if (*s == '+' || *s == '-')
		s++;
	if (str_in(s, special))
		return true;
	while (*s >= '0' && *s <= '9') {
		s++;
		a++;
	}
	if (*s == '.') {
		s++;
		while (*s >= '0' && *s <= '9') {
			s++;
			b++;
		}
	}
	if (a == 0 && b == 0)
		return false;
	if (*s == 'e' || *s == 'E') {
		size_t e = 0;
		s++;
		if (*s == '+' || *s == '-')
			s++;
		while (*s >= '0' && *s <= '9') {
			s++;
			e++;
		}
		if (e == 0)
			return false;
	}
	return *s == '\0';
}

/* Integer text as YAML 1.1 (go-yaml v2, which Kubernetes uses) reads it, or false. */
static bool yaml_int(const char *s, int64_t *out)
{
	bool neg = false;
	uint64_t v = 0;
	int base = 10;
	const char *p = s;

	if (*p == '+' || *p == '-') {
		neg = *p == '-';
		p++;
	}
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	} else if (p[0] == '0' && (p[1] == 'b' || p[1] == 'B')) {
		base = 2;
		p += 2;
	} else if (p[0] == '0' && p[1] != '\0') {
		base = 8;
		p++;
	}
	if (!*p || *p == '_')
		return false;
	for (; *p; p++) {
		int d;
		if (*p == '_')
			continue;
		if (*p >= '0' && *p <= '9')
			d = *p - '0';
		else if (*p >= 'a' && *p <= 'f')
			d = *p - 'a' + 10;
		else if (*p >= 'A' && *p <= 'F')
			d = *p - 'A' + 10;
		else
			return false;
		if (d >= base)
			return false;
		if (v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
			return false;
		v = v * (uint64_t)base + (uint64_t)d;
	}
	if (neg ? v > (uint64_t)INT64_MAX + 1 : v > (uint64_t)INT64_MAX)
		return false;
	if (out)
		*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return true;
}

static enum scalar_kind scalar_kind(const struct yt_node *n)
{
	if (!n->plain)
		return SK_STRING;
	if (yt_is_null(n))
		return SK_NULL;
	if (str_in(n->scalar, yaml_true) || str_in(n->scalar, yaml_false))
		return SK_BOOL;
	if (yaml_int(n->scalar, NULL))
		return SK_INT;
	if (looks_float(n->scalar))
		return SK_FLOAT;
	return SK_STRING;
}

static const char *kind_name(const struct yt_node *n)
{
	if (n->type != YT_SCALAR)
		return yt_type_name(n);
	switch (scalar_kind(n)) {
	case SK_NULL:
		return "null";
	case SK_BOOL:
		return "a boolean";
	case SK_INT:
		return "an integer";
	case SK_FLOAT:
		return "a number";
	case SK_STRING:
		break;
	}
	return "a string";
}

bool mf_is_map(struct mf_ctx *c, const struct yt_node *n)
{
	if (n->type == YT_MAP)
		return true;
	mf_error(c, n, "must be a mapping, not %s", kind_name(n));
	return false;
}

bool mf_is_seq(struct mf_ctx *c, const struct yt_node *n)
{
	if (n->type == YT_SEQ)
		return true;
	mf_error(c, n, "must be a list, not %s", kind_name(n));
	return false;
}

const char *mf_str(struct mf_ctx *c, const struct yt_node *n)
{
	if (n->type == YT_SCALAR && scalar_kind(n) == SK_STRING)
		return n->scalar;
	if (n->type == YT_SCALAR)
		mf_error(c, n, "must be a string, not %s (quote it: \"%s\")", kind_name(n),
			 n->scalar);
	else
		mf_error(c, n, "must be a string, not %s", kind_name(n));
	return NULL;
}

bool mf_int(struct mf_ctx *c, const struct yt_node *n, int64_t *out)
{
	if (n->type == YT_SCALAR && scalar_kind(n) == SK_INT && yaml_int(n->scalar, out))
		return true;
	mf_error(c, n, "must be an integer, not %s", kind_name(n));
	return false;
}

bool mf_bool(struct mf_ctx *c, const struct yt_node *n, bool *out)
{
	if (n->type == YT_SCALAR && scalar_kind(n) == SK_BOOL) {
		*out = str_in(n->scalar, yaml_true);
		return true;
	}
	mf_error(c, n, "must be a boolean, not %s", kind_name(n));
	return false;
}

const char *mf_quantity_text(struct mf_ctx *c, const struct yt_node *n)
{
	if (n->type == YT_SCALAR) {
		enum scalar_kind k = scalar_kind(n);
		if (k == SK_STRING || k == SK_INT || k == SK_FLOAT)
			return n->scalar;
	}
	mf_error(c, n, "must be a quantity (a number or a string), not %s", kind_name(n));
	return NULL;
}

bool mf_string_map(struct mf_ctx *c, const struct yt_node *n, struct kerf_labels *out)
{
	bool ok = true;

	if (!mf_is_map(c, n))
		return false;
	for (size_t i = 0; i < n->n; i++) {
		const struct yt_node *v = n->pairs[i].value;
		size_t m = mf_push_key(c, n->pairs[i].key->scalar);
		const char *s = NULL;

		if (v->type == YT_SCALAR && yt_is_null(v) && v->plain)
			s = "";
		else
			s = mf_str(c, v);
		if (!s)
			ok = false;
		else if (kerf_labels_set(out, n->pairs[i].key->scalar, s) != 0)
			mf_error(c, v, "out of memory");
		mf_pop(c, m);
	}
	return ok;
}

/* ---------------------------------------------------------------- time */

static bool digits(const char *s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

bool mf_parse_time(const char *s, int64_t *out_ms)
{
	int y, mo, d, h, mi, se, ms = 0, oh = 0, om = 0, sign = 0;
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	const char *p;

	if (strlen(s) < 20 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) ||
	    s[7] != '-' || !digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') ||
	    !digits(s + 11, 2, &h) || s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' ||
	    !digits(s + 17, 2, &se))
		return false;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || se > 60)
		return false;
	p = s + 19;
	if (*p == '.') {
		int nd = 0;
		p++;
		if (*p < '0' || *p > '9')
			return false;
		while (*p >= '0' && *p <= '9') {
			if (nd < 3)
				ms = ms * 10 + (*p - '0');
			nd++;
			p++;
		}
		for (; nd < 3; nd++)
			ms *= 10;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p == '-' ? -1 : 1;
		if (!digits(p + 1, 2, &oh) || p[3] != ':' || !digits(p + 4, 2, &om) || oh > 23 ||
		    om > 59)
			return false;
		p += 6;
	} else {
		return false;
	}
	if (*p)
		return false;
	*out_ms = ((days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se) -
		   sign * (oh * 3600 + om * 60)) *
		      1000 +
		  ms;
	return true;
}

/* ------------------------------------------------------------ metadata */

static void parse_owner_refs(struct mf_ctx *c, const struct yt_node *n, struct kerf_meta *meta)
{
	static const char *const fields[] = {
	    "apiVersion", "kind", "name", "uid", "controller", "blockOwnerDeletion", NULL};
	static const char *const required[] = {"apiVersion", "kind", "name", "uid", NULL};

	if (!mf_is_seq(c, n))
		return;
	for (size_t i = 0; i < n->n; i++) {
		const struct yt_node *it = n->items[i], *v;
		size_t mi = mf_push_index(c, i);
		bool controller = false, b;

		if (mf_is_map(c, it)) {
			mf_known_fields(c, it, fields);
			for (size_t f = 0; required[f]; f++) {
				size_t m;
				if (!(v = mf_child(it, required[f]))) {
					mf_missing(c, it, required[f]);
					continue;
				}
				m = mf_push(c, required[f]);
				mf_str(c, v);
				mf_pop(c, m);
			}
			if ((v = mf_child(it, "blockOwnerDeletion")) != NULL) {
				size_t m = mf_push(c, "blockOwnerDeletion");
				mf_bool(c, v, &b);
				mf_pop(c, m);
			}
			if ((v = mf_child(it, "controller")) != NULL) {
				size_t m = mf_push(c, "controller");
				mf_bool(c, v, &controller);
				mf_pop(c, m);
			}
			if (controller && !meta->owner_kind) {
				const struct yt_node *k = mf_child(it, "kind");
				const struct yt_node *nm = mf_child(it, "name");
				if (k && nm && k->type == YT_SCALAR && nm->type == YT_SCALAR) {
					meta->owner_kind = xstrdup(k->scalar);
					meta->owner_name = xstrdup(nm->scalar);
				}
			}
		}
		mf_pop(c, mi);
	}
}

void mf_check_label_syntax(struct mf_ctx *c, const struct yt_node *map, bool values)
{
	char why[256];

	if (!map || map->type != YT_MAP)
		return;
	for (size_t i = 0; i < map->n; i++) {
		const struct yt_node *k = map->pairs[i].key, *v = map->pairs[i].value;
		size_t m = mf_push_key(c, k->scalar);
		if (!kerf_label_key_valid(k->scalar, why, sizeof(why)))
			mf_error(c, k, "%s", why);
		else if (values && v->type == YT_SCALAR &&
			 !kerf_label_value_valid(v->scalar, why, sizeof(why)))
			mf_error(c, v, "%s", why);
		mf_pop(c, m);
	}
}

void mf_parse_metadata(struct mf_ctx *c, const struct yt_node *doc, struct kerf_meta *meta,
		       unsigned flags)
{
	static const char *const fields[] = {"name",
					     "generateName",
					     "namespace",
					     "selfLink",
					     "uid",
					     "resourceVersion",
					     "generation",
					     "creationTimestamp",
					     "deletionTimestamp",
					     "deletionGracePeriodSeconds",
					     "labels",
					     "annotations",
					     "ownerReferences",
					     "finalizers",
					     "managedFields",
					     NULL};
	const struct yt_node *md = mf_child(doc, "metadata"), *v;
	size_t m0, m;
	const char *s;
	int64_t i64;

	if (!md) {
		if (!(flags & MF_HDR_TEMPLATE))
			mf_missing(c, doc, "metadata");
		return;
	}
	m0 = mf_push(c, "metadata");
	if (!mf_is_map(c, md)) {
		mf_pop(c, m0);
		return;
	}
	mf_known_fields(c, md, fields);
	if (!(v = mf_child(md, "name"))) {
		const struct yt_node *g = mf_child(md, "generateName");
		/* The API server names the object from generateName on create. */
		if (g && g->type == YT_SCALAR && (flags & MF_HDR_GENERATE_NAME))
			meta->name = xstrdup(g->scalar);
		else if (!(flags & MF_HDR_TEMPLATE))
			mf_missing(c, md, "name");
	} else {
		m = mf_push(c, "name");
		if ((s = mf_str(c, v)) != NULL) {
			meta->name = xstrdup(s);
			if (!mf_dns_subdomain(s))
				mf_error(c, v,
					 "\"%s\" is not a valid name: a lowercase RFC 1123 "
					 "subdomain of at most 253 characters ([a-z0-9.-], "
					 "alphanumeric at both ends) is required",
					 s);
		}
		mf_pop(c, m);
	}
	static const char *const strs[] = {"generateName", "namespace",	      "selfLink",
					   "uid",	   "resourceVersion", NULL};
	for (size_t f = 0; strs[f]; f++) {
		if (!(v = mf_child(md, strs[f])))
			continue;
		m = mf_push(c, strs[f]);
		if ((s = mf_str(c, v)) != NULL) {
			if (strcmp(strs[f], "namespace") == 0)
				meta->namespace_ = xstrdup(s);
			else if (strcmp(strs[f], "uid") == 0)
				meta->uid = xstrdup(s);
			else if (strcmp(strs[f], "resourceVersion") == 0)
				meta->resource_version = xstrdup(s);
		}
		mf_pop(c, m);
	}
	static const char *const ints[] = {"generation", "deletionGracePeriodSeconds", NULL};
	for (size_t f = 0; ints[f]; f++) {
		if (!(v = mf_child(md, ints[f])))
			continue;
		m = mf_push(c, ints[f]);
		mf_int(c, v, &i64);
		mf_pop(c, m);
	}
	static const char *const times[] = {"creationTimestamp", "deletionTimestamp", NULL};
	for (size_t f = 0; times[f]; f++) {
		if (!(v = mf_child(md, times[f])))
			continue;
		m = mf_push(c, times[f]);
		if ((s = mf_str(c, v)) != NULL) {
			if (!mf_parse_time(s, f == 0 ? &meta->creation_ms : &meta->deletion_ms))
				mf_error(c, v, "\"%s\" is not an RFC 3339 date-time", s);
		}
		mf_pop(c, m);
	}
	if ((v = mf_child(md, "labels")) != NULL) {
		m = mf_push(c, "labels");
		if (mf_string_map(c, v, &meta->labels))
			mf_check_label_syntax(c, v, true);
		mf_pop(c, m);
	}
	if ((v = mf_child(md, "annotations")) != NULL) {
		m = mf_push(c, "annotations");
		if (mf_string_map(c, v, &meta->annotations))
			mf_check_label_syntax(c, v, false);
		mf_pop(c, m);
	}
	if ((v = mf_child(md, "finalizers")) != NULL) {
		m = mf_push(c, "finalizers");
		if (mf_is_seq(c, v)) {
			meta->finalizers = xcalloc(v->n ? v->n : 1, sizeof(char *));
			for (size_t i = 0; i < v->n; i++) {
				size_t mi = mf_push_index(c, i);
				if ((s = mf_str(c, v->items[i])) != NULL)
					meta->finalizers[meta->n_finalizers++] = xstrdup(s);
				mf_pop(c, mi);
			}
		}
		mf_pop(c, m);
	}
	if ((v = mf_child(md, "ownerReferences")) != NULL) {
		m = mf_push(c, "ownerReferences");
		parse_owner_refs(c, v, meta);
		mf_pop(c, m);
	}
	if ((v = mf_child(md, "managedFields")) != NULL) {
		m = mf_push(c, "managedFields");
		mf_is_seq(c, v);
		mf_pop(c, m);
	}
	mf_pop(c, m0);
}

bool mf_parse_header(struct mf_ctx *c, const struct yt_node *doc, struct kerf_meta *meta,
		     unsigned flags)
{
	static const char *const fields[] = {"apiVersion", "kind",   "metadata",
					     "spec",	   "status", NULL};
	const struct yt_node *md, *nm, *ns, *v;

	if (!doc || doc->type != YT_MAP) {
		if (doc)
			mf_error(c, doc, "a manifest must be a mapping, not %s", kind_name(doc));
		else
			c->nerr++;
		return false;
	}
	md = mf_child(doc, "metadata");
	nm = md ? mf_child(md, "name") : NULL;
	if (!nm && md && (flags & MF_HDR_GENERATE_NAME))
		nm = mf_child(md, "generateName");
	if (nm && nm->type == YT_SCALAR) {
		if (flags & MF_HDR_NAMESPACED) {
			struct strbuf sb;
			ns = mf_child(md, "namespace");
			sb_init(&sb);
			sb_printf(&sb, "%s/%s",
				  ns && ns->type == YT_SCALAR ? ns->scalar : "default", nm->scalar);
			c->name = sb_detach(&sb);
		} else {
			c->name = xstrdup(nm->scalar);
		}
	}
	mf_known_fields(c, doc, fields);
	if ((v = mf_child(doc, "apiVersion")) != NULL) {
		size_t m = mf_push(c, "apiVersion");
		const char *s = mf_str(c, v);
		if (s)
			meta->api_version = xstrdup(s);
		mf_pop(c, m);
	}
	if ((v = mf_child(doc, "kind")) != NULL) {
		size_t m = mf_push(c, "kind");
		const char *s = mf_str(c, v);
		if (s)
			meta->kind = xstrdup(s);
		mf_pop(c, m);
	}
	mf_parse_metadata(c, doc, meta, flags);
	return true;
}

/* ------------------------------------------------------------ patterns */

bool mf_dns_subdomain(const char *s)
{
	size_t n = strlen(s);

	return n <= 253 && str_dns_subdomain(s, n);
}

/* ----------------------------------------------------------- conditions */

void mf_check_conditions(struct mf_ctx *c, const struct yt_node *n, bool reason_required)
{
	static const char *const fields[] = {"lastTransitionTime",
					     "message",
					     "observedGeneration",
					     "reason",
					     "status",
					     "type",
					     NULL};

	if (!mf_is_seq(c, n))
		return;
	for (size_t i = 0; i < n->n; i++) {
		const struct yt_node *it = n->items[i], *v;
		size_t mi = mf_push_index(c, i), m;
		const char *s;
		int64_t ms;

		if (!mf_is_map(c, it)) {
			mf_pop(c, mi);
			continue;
		}
		mf_known_fields(c, it, fields);
		for (size_t f = 0; fields[f]; f++) {
			bool required = strcmp(fields[f], "observedGeneration") != 0 &&
					(reason_required || (strcmp(fields[f], "message") != 0 &&
							     strcmp(fields[f], "reason") != 0));
			if (!(v = mf_child(it, fields[f]))) {
				if (required)
					mf_missing(c, it, fields[f]);
				continue;
			}
			m = mf_push(c, fields[f]);
			if (strcmp(fields[f], "observedGeneration") == 0) {
				if (mf_int(c, v, &ms) && ms < 0)
					mf_error(c, v, "must be at least 0");
			} else if ((s = mf_str(c, v)) != NULL) {
				if (strcmp(fields[f], "lastTransitionTime") == 0 &&
				    !mf_parse_time(s, &ms))
					mf_error(c, v, "\"%s\" is not an RFC 3339 date-time", s);
				else if (strcmp(fields[f], "status") == 0 && strcmp(s, "True") &&
					 strcmp(s, "False") && strcmp(s, "Unknown"))
					mf_error(c, v,
						 "unsupported value \"%s\": supported values: "
						 "\"True\", \"False\", \"Unknown\"",
						 s);
				else if (strcmp(fields[f], "type") == 0 && !*s)
					mf_error(c, v, "must not be empty");
			}
			mf_pop(c, m);
		}
		mf_pop(c, mi);
	}
}

/* ------------------------------------------------------- optional fields */

/* A string field of map into *out (copied); reports type errors. */
const struct yt_node *mf_get_string(struct mf_ctx *c, const struct yt_node *map, const char *field,
				    char **out)
{
	const struct yt_node *v = mf_child(map, field);
	const char *s;
	size_t m;

	if (!v)
		return NULL;
	m = mf_push(c, field);
	if ((s = mf_str(c, v)) != NULL && out) {
		free(*out);
		*out = xstrdup(s);
	}
	mf_pop(c, m);
	return v;
}

/* An integer field within [lo, hi]; returns true when present and valid. */
bool mf_get_int(struct mf_ctx *c, const struct yt_node *map, const char *field, int64_t lo,
		int64_t hi, int64_t *out)
{
	const struct yt_node *v = mf_child(map, field);
	bool ok = false;
	int64_t x;
	size_t m;

	if (!v)
		return false;
	m = mf_push(c, field);
	if (mf_int(c, v, &x)) {
		if (x < lo || x > hi) {
			if (x < lo && (hi == INT32_MAX || hi == INT64_MAX))
				mf_error(c, v, "%s (%lld) must be at least %lld", field,
					 (long long)x, (long long)lo);
			else if (x > hi && (hi == INT32_MAX || hi == INT64_MAX))
				mf_error(c, v, "%s (%lld) must be at most %lld", field,
					 (long long)x, (long long)hi);
			else
				mf_error(c, v, "%s (%lld) must be between %lld and %lld", field,
					 (long long)x, (long long)lo, (long long)hi);
		} else {
			*out = x;
			ok = true;
		}
	}
	mf_pop(c, m);
	return ok;
}

bool mf_get_bool(struct mf_ctx *c, const struct yt_node *map, const char *field, bool *out)
{
	const struct yt_node *v = mf_child(map, field);
	bool ok;
	size_t m;

	if (!v)
		return false;
	m = mf_push(c, field);
	ok = mf_bool(c, v, out);
	mf_pop(c, m);
	return ok;
}

/* A string enum field; returns the node when present. */
const struct yt_node *mf_get_enum(struct mf_ctx *c, const struct yt_node *map, const char *field,
				  const char *const *allowed, char **out)
{
	const struct yt_node *v = mf_child(map, field);
	const char *s;
	size_t m;

	if (!v)
		return NULL;
	m = mf_push(c, field);
	if ((s = mf_str(c, v)) != NULL) {
		bool ok = false;
		for (size_t i = 0; allowed[i] && !ok; i++)
			ok = strcmp(s, allowed[i]) == 0;
		if (ok) {
			if (out) {
				free(*out);
				*out = xstrdup(s);
			}
		} else {
			struct strbuf sb;
			sb_init(&sb);
			for (size_t i = 0; allowed[i]; i++)
				sb_printf(&sb, "%s\"%s\"", i ? ", " : "", allowed[i]);
			mf_error(c, v, "unsupported value \"%s\": supported values: %s", s, sb.buf);
			sb_free(&sb);
		}
	}
	mf_pop(c, m);
	return v;
}
