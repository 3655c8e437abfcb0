/* SPDX-License-Identifier: Apache-2.0 */
/*
 * config.c - kerf.yaml loading and validation.
 *
 * The file is checked as a whole before anything starts, so a typo fails
 * at startup with file:line:column rather than as a surprise default hours
 * later.  Values of a mapping are reported at their key's position: that is
 * where the eye lands in an editor, and it is the only position a missing
 * or null value has.
 */
#include "cfg.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kerf/quantity.h>
#include <kerf/workload.h>

#include "decode.h"
#include "log.h"
#include "util.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------ messages */

static int cfg_fail(struct kerf_error *err, const struct yt_node *at, const char *path,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int cfg_fail(struct kerf_error *err, const struct yt_node *at, const char *path,
		    const char *fmt, ...)
{
	char msg[KERF_ERROR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (path && *path)
		return yt_error(err, KERF_E_CONFIG, at, "%s: %s", path, msg);
	return yt_error(err, KERF_E_CONFIG, at, "%s", msg);
}

static char *cfg_join(const char *parent, const char *key)
{
	struct strbuf sb;

	sb_init(&sb);
	if (parent && *parent)
		sb_printf(&sb, "%s.%s", parent, key);
	else
		sb_puts(&sb, key);
	return sb_detach(&sb);
}

/*
 * The candidate closest to word within two edits, or NULL.  A distance as
 * long as the word itself would "correct" any short word into anything.
 */
static const char *cfg_suggest(const char *word, const char *const *cands, size_t n)
{
	const char *best = NULL;
	size_t best_d = 3;

	for (size_t i = 0; i < n; i++) {
		size_t d = str_edit_distance(word, cands[i]);
		if (d < best_d && d < strlen(word)) {
			best = cands[i];
			best_d = d;
		}
	}
	return best;
}

static int cfg_unknown_key(struct kerf_error *err, const struct yt_node *key, const char *path,
			   const char *const *known, size_t n_known)
{
	const char *name = key->scalar;
	const char *hint = cfg_suggest(name, known, n_known);

	if (hint)
		return cfg_fail(err, key, path, "unknown key \"%s\" (did you mean \"%s\"?)", name,
				hint);
	return cfg_fail(err, key, path, "unknown key \"%s\"", name);
}

/* "a, b or c" (last = " or ") for messages listing the accepted values. */
static void cfg_list_words(struct strbuf *sb, const char *const *words, size_t n, const char *last)
{
	for (size_t i = 0; i < n; i++) {
		if (i)
			sb_puts(sb, i + 1 == n ? last : ", ");
		sb_puts(sb, words[i]);
	}
}

/* "invalid value "x" (did you mean "y"? expected a, b or c)" for a word not among words. */
static void cfg_bad_word(struct strbuf *msg, const char *word, const char *const *words, size_t n)
{
	const char *hint = cfg_suggest(word, words, n);

	sb_printf(msg, "invalid value \"%s\" (", word);
	if (hint)
		sb_printf(msg, "did you mean \"%s\"? ", hint);
	sb_puts(msg, "expected ");
	cfg_list_words(msg, words, n, " or ");
	sb_puts(msg, ")");
}

/* ------------------------------------------------------------ helpers */

bool cfg_plugin_name_valid(const char *name)
{
	if (!name || !*name)
		return false;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
			return false;
	return true;
}

/* A Kubernetes object name (RFC 1123 subdomain), which a NodePool name is. */
static bool cfg_k8s_name_valid(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > 253)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
		if (!alnum && ((c != '-' && c != '.') || i == 0 || i + 1 == len))
			return false;
	}
	return true;
}

static const char *const cfg_log_levels[] = {"error", "warn", "info", "debug", "trace"};

int cfg_log_level_parse(const char *name)
{
	for (size_t i = 0; name && i < N_ELEMS(cfg_log_levels); i++)
		if (strcmp(name, cfg_log_levels[i]) == 0)
			return (int)i;
	return -1;
}

const char *cfg_log_level_name(int level)
{
	if (level < 0 || (size_t)level >= N_ELEMS(cfg_log_levels))
		return "unknown";
	return cfg_log_levels[level];
}

/* Relative paths in kerf.yaml are relative to kerf.yaml, not to the cwd. */
static char *cfg_resolve(const char *dir, const char *p)
{
	struct strbuf sb;

	if (p[0] == '/' || strcmp(dir, ".") == 0)
		return xstrdup(p);
	sb_init(&sb);
	sb_printf(&sb, "%s%s%s", dir, str_ends_with(dir, "/") ? "" : "/", p);
	return sb_detach(&sb);
}

static char *cfg_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

/*
 * host:port with a decimal port 1..65535; the host may be empty (all
 * interfaces), a name, IPv4, or IPv6 in brackets.
 */
static bool cfg_address_valid(const char *a)
{
	const char *colon = strrchr(a, ':');
	const char *p;
	long port = 0;

	if (!colon || colon[1] == '\0')
		return false;
	for (p = colon + 1; *p; p++) {
		if (*p < '0' || *p > '9' || p - colon > 5)
			return false;
		port = port * 10 + (*p - '0');
	}
	if (port < 1 || port > 65535)
		return false;
	if (a[0] == '[')
		return colon > a + 1 && colon[-1] == ']' &&
		       !memchr(a + 1, ']', (size_t)(colon - a - 2));
	for (p = a; p < colon; p++)
		if (*p == ':' || *p == '[' || *p == ']' || *p == ' ' || *p == '/')
			return false;
	return true;
}

/* ----------------------------------------------------- packer selection */

void cfg_packer_weights_free(size_t n, struct cfg_packer_weight *w)
{
	for (size_t i = 0; i < n; i++)
		free(w[i].name);
	free(w);
}

static void cfg_trim(const char **s, const char **e)
{
	while (*s < *e && (**s == ' ' || **s == '\t'))
		(*s)++;
	while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t'))
		(*e)--;
}

int cfg_packer_spec_parse(const char *text, size_t *n_out, struct cfg_packer_weight **out,
			  struct kerf_error *err)
{
	struct cfg_packer_weight *w = NULL;
	size_t n = 0, cap = 0;
	const char *p = text;
	/* Several packers only make sense with a share for each. */
	bool weighted = strchr(text, '=') != NULL || strchr(text, ',') != NULL;

	if (!*text)
		return kerf_error_set(err, KERF_E_PARSE, "invalid packer selection \"\": empty");
	for (;;) {
		const char *end = strchr(p, ',');
		const char *s = p, *e = end ? end : p + strlen(p);
		const char *eq = memchr(s, '=', (size_t)(e - s));
		const char *ns = s, *ne = eq ? eq : e;
		unsigned weight = 100;
		char *name;

		cfg_trim(&ns, &ne);
		name = xstrndup(ns, (size_t)(ne - ns));
		if (!cfg_plugin_name_valid(name)) {
			kerf_error_set(err, KERF_E_PARSE,
				       "invalid packer selection \"%s\": \"%s\" is not a packer "
				       "name (lowercase letters, digits and '-')",
				       text, name);
			goto fail_name;
		}
		for (size_t i = 0; i < n; i++) {
			if (strcmp(w[i].name, name) == 0) {
				kerf_error_set(err, KERF_E_PARSE,
					       "invalid packer selection \"%s\": \"%s\" is listed "
					       "twice",
					       text, name);
				goto fail_name;
			}
		}
		if (weighted) {
			const char *ws = eq ? eq + 1 : e, *we = e;
			unsigned long v = 0;
			cfg_trim(&ws, &we);
			if (!eq || ws == we) {
				kerf_error_set(err, KERF_E_PARSE,
					       "invalid packer selection \"%s\": \"%s\" needs a "
					       "weight (name=weight)",
					       text, name);
				goto fail_name;
			}
			for (const char *q = ws; q < we; q++) {
				if (*q < '0' || *q > '9' || v > CFG_PACKER_WEIGHT_MAX) {
					v = 0;
					break;
				}
				v = v * 10 + (unsigned long)(*q - '0');
			}
			if (v < 1 || v > CFG_PACKER_WEIGHT_MAX) {
				kerf_error_set(err, KERF_E_PARSE,
					       "invalid packer selection \"%s\": the weight of "
					       "\"%s\" must be a whole number from 1 to %d",
					       text, name, CFG_PACKER_WEIGHT_MAX);
				goto fail_name;
			}
			weight = (unsigned)v;
		}
		xgrow(w, cap, n + 1);
		w[n].name = name;
		w[n].weight = weight;
		n++;
		if (!end)
			break;
		p = end + 1;
		continue;
	fail_name:
		free(name);
		cfg_packer_weights_free(n, w);
		return KERF_E_PARSE;
	}
	*n_out = n;
	*out = w;
	return 0;
}

/* ------------------------------------------------------ plugin sections */

/* The ABI 2.0 entry: a plugin's declared config_key_size covers at least this. */
#define CFG_KEY_2_0_SIZE KERF_OPS_END(struct kerf_config_key, values)

struct cfg_value {
	char *key;
	kerf_config_type type;
	bool set;
	char *str;
	int64_t num;
	bool b;
	size_t n;
	char **list; /* n + 1 entries, NULL-terminated */
};

struct cfg_section {
	char *plugin;
	size_t n;
	struct cfg_value *v;
};

void cfg_section_free(struct cfg_section *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++) {
		free(s->v[i].key);
		free(s->v[i].str);
		for (size_t j = 0; j < s->v[i].n; j++)
			free(s->v[i].list[j]);
		free(s->v[i].list);
	}
	free(s->v);
	free(s->plugin);
	free(s);
}

static const char *cfg_type_word(kerf_config_type t)
{
	switch (t) {
	case KERF_CFG_STRING:
		return "a string";
	case KERF_CFG_INT:
		return "an integer";
	case KERF_CFG_BOOL:
		return "true or false";
	case KERF_CFG_DURATION:
		return "a duration";
	case KERF_CFG_QUANTITY:
		return "a quantity";
	case KERF_CFG_STRING_LIST:
		return "a list";
	}
	return "a value";
}

static void cfg_value_clear(struct cfg_value *v)
{
	xfree(v->str);
	for (size_t j = 0; j < v->n; j++)
		free(v->list[j]);
	xfree(v->list);
	v->n = 0;
	v->set = false;
}

/* Parses scalar text into v (not lists); perr gets the reason on failure. */
static int cfg_value_from_text(struct cfg_value *v, const char *text, const struct yt_node *node,
			       struct kerf_error *perr)
{
	int rc;

	switch (v->type) {
	case KERF_CFG_STRING:
		v->str = xstrdup(text);
		break;
	case KERF_CFG_INT: {
		/* A default is text, so judge it as the plain scalar it stands for. */
		struct yt_node tmp = {
		    .type = YT_SCALAR, .scalar = (char *)text, .len = strlen(text), .plain = true};
		rc = yt_get_int64(node ? node : &tmp, &v->num);
		if (rc == KERF_E_RANGE)
			return kerf_error_set(perr, rc, "integer \"%s\" is out of range", text);
		if (rc)
			return kerf_error_set(perr, rc, "expected an integer, got \"%s\"", text);
		break;
	}
	case KERF_CFG_BOOL: {
		struct yt_node tmp = {
		    .type = YT_SCALAR, .scalar = (char *)text, .len = strlen(text), .plain = true};
		if (yt_get_bool(node ? node : &tmp, &v->b))
			return kerf_error_set(perr, KERF_E_INVALID,
					      "expected true or false, got \"%s\"", text);
		break;
	}
	case KERF_CFG_DURATION:
		rc = kerf_duration_parse(text, false, &v->num, perr);
		if (rc)
			return rc;
		break;
	case KERF_CFG_QUANTITY:
		rc = kerf_quantity_parse(text, 0, &v->num, perr);
		if (rc)
			return rc;
		break;
	case KERF_CFG_STRING_LIST:
		return kerf_error_set(perr, KERF_E_INTERNAL, "list parsed as a scalar");
	}
	v->set = true;
	return 0;
}

static void cfg_list_add(struct cfg_value *v, size_t *cap, char *item)
{
	xgrow(v->list, *cap, v->n + 2);
	v->list[v->n++] = item;
	v->list[v->n] = NULL;
}

/* The type's name in the docs' tables, for messages about a schema. */
static const char *cfg_type_name(kerf_config_type t)
{
	static const char *const names[] = {"string",	"int",	    "bool",
					    "duration", "quantity", "string list"};

	return (unsigned)t < N_ELEMS(names) ? names[t] : "unknown";
}

static bool cfg_type_is_number(kerf_config_type t)
{
	return t == KERF_CFG_INT || t == KERF_CFG_DURATION || t == KERF_CFG_QUANTITY;
}

static bool cfg_type_is_text(kerf_config_type t)
{
	return t == KERF_CFG_STRING || t == KERF_CFG_STRING_LIST;
}

/* A bound as kerf.yaml writes a value of type t: "42", "1m30s", "2Gi". */
static void cfg_number_text(kerf_config_type t, int64_t v, char *buf, size_t len)
{
	if (t == KERF_CFG_DURATION)
		kerf_duration_format(v, buf, len);
	else if (t == KERF_CFG_QUANTITY)
		kerf_quantity_format(v, 0, buf, len);
	else
		snprintf(buf, len, "%" PRId64, v);
}

/* A word of a string or list key against the key's values; the reason goes to perr. */
static int cfg_word_allowed(const struct kerf_config_key *k, const char *word,
			    struct kerf_error *perr)
{
	size_t n = 0;
	struct strbuf msg;
	int rc;

	if (!k->values)
		return 0;
	for (; k->values[n]; n++)
		if (strcmp(k->values[n], word) == 0)
			return 0;
	sb_init(&msg);
	cfg_bad_word(&msg, word, k->values, n);
	rc = kerf_error_set(perr, KERF_E_INVALID, "%s", msg.buf);
	sb_free(&msg);
	return rc;
}

/*
 * A parsed scalar against the key's range or values; `text` is the value
 * as written, for the message in perr.
 */
static int cfg_value_allowed(const struct kerf_config_key *k, const struct cfg_value *v,
			     const char *text, struct kerf_error *perr)
{
	char lo[48], hi[48];

	if (k->type == KERF_CFG_STRING)
		return cfg_word_allowed(k, v->str, perr);
	if (!cfg_type_is_number(k->type) ||
	    !((k->has_min && v->num < k->min) || (k->has_max && v->num > k->max)))
		return 0;
	cfg_number_text(k->type, k->min, lo, sizeof(lo));
	cfg_number_text(k->type, k->max, hi, sizeof(hi));
	if (k->has_min && k->has_max)
		return kerf_error_set(perr, KERF_E_RANGE, "must be from %s to %s, not \"%s\"", lo,
				      hi, text);
	if (k->has_min)
		return kerf_error_set(perr, KERF_E_RANGE, "must be at least %s, not \"%s\"", lo,
				      text);
	return kerf_error_set(perr, KERF_E_RANGE, "must be at most %s, not \"%s\"", hi, text);
}

static int cfg_schema_fail(struct kerf_error *err, const char *plugin, const char *key,
			   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int cfg_schema_fail(struct kerf_error *err, const char *plugin, const char *key,
			   const char *fmt, ...)
{
	char msg[KERF_ERROR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return kerf_error_set(err, KERF_E_INVALID, "plugin \"%s\": config schema: key \"%s\": %s",
			      plugin, key, msg);
}

/* The fields of one entry that only some types take, and how they combine. */
static int cfg_schema_entry(const struct kerf_config_key *k, const char *plugin,
			    struct kerf_error *err)
{
	if ((unsigned)k->type > KERF_CFG_STRING_LIST)
		return cfg_schema_fail(err, plugin, k->key, "unknown type %d", (int)k->type);
	if ((k->has_min || k->has_max) && !cfg_type_is_number(k->type))
		return cfg_schema_fail(err, plugin, k->key,
				       "min and max apply to int, duration and quantity keys, not "
				       "to %s keys",
				       cfg_type_name(k->type));
	if (k->has_min && k->has_max && k->min > k->max) {
		char lo[48], hi[48];
		cfg_number_text(k->type, k->min, lo, sizeof(lo));
		cfg_number_text(k->type, k->max, hi, sizeof(hi));
		return cfg_schema_fail(err, plugin, k->key, "min %s is above max %s", lo, hi);
	}
	if (k->path && !cfg_type_is_text(k->type))
		return cfg_schema_fail(err, plugin, k->key,
				       "path applies to string and string list keys, not to %s "
				       "keys",
				       cfg_type_name(k->type));
	if (k->values && !cfg_type_is_text(k->type))
		return cfg_schema_fail(err, plugin, k->key,
				       "values apply to string and string list keys, not to %s "
				       "keys",
				       cfg_type_name(k->type));
	if (k->values && !k->values[0])
		return cfg_schema_fail(err, plugin, k->key, "values is empty");
	if (k->secret && (k->type != KERF_CFG_STRING || k->path || k->values))
		return cfg_schema_fail(err, plugin, k->key,
				       "secret applies to string keys without path or values");
	/* A default is in the plugin's binary for anyone to read: no secret. */
	if (k->secret && k->default_value)
		return cfg_schema_fail(err, plugin, k->key, "a secret key has no default");
	return 0;
}

static int cfg_schema_default(struct cfg_value *v, const struct kerf_config_key *k,
			      const char *plugin, struct kerf_error *err)
{
	struct kerf_error perr;
	size_t cap = 0;

	kerf_error_clear(&perr);
	if (v->type != KERF_CFG_STRING_LIST) {
		if (cfg_value_from_text(v, k->default_value, NULL, &perr) ||
		    cfg_value_allowed(k, v, k->default_value, &perr))
			return cfg_schema_fail(err, plugin, k->key, "default \"%s\": %s",
					       k->default_value, perr.message);
		return 0;
	}
	cfg_list_add(v, &cap, NULL);
	v->n = 0;
	for (const char *p = k->default_value; *k->default_value;) {
		const char *end = strchr(p, ',');
		const char *s = p, *e = end ? end : p + strlen(p);
		cfg_trim(&s, &e);
		if (s == e)
			return cfg_schema_fail(err, plugin, k->key,
					       "default \"%s\" has an empty item",
					       k->default_value);
		cfg_list_add(v, &cap, xstrndup(s, (size_t)(e - s)));
		if (cfg_word_allowed(k, v->list[v->n - 1], &perr))
			return cfg_schema_fail(err, plugin, k->key, "default \"%s\": %s",
					       k->default_value, perr.message);
		if (!end)
			break;
		p = end + 1;
	}
	v->set = true;
	return 0;
}

static int cfg_schema_check(const struct kerf_config_key *schema, const char *plugin,
			    struct cfg_section *s, struct kerf_error *err)
{
	size_t n = 0;

	while (schema && schema[n].key)
		n++;
	s->v = xcalloc(n ? n : 1, sizeof(*s->v));
	for (size_t i = 0; i < n; i++) {
		const struct kerf_config_key *k = &schema[i];
		struct cfg_value *v = &s->v[i];
		int rc;

		if (!*k->key)
			return kerf_error_set(err, KERF_E_INVALID,
					      "plugin \"%s\": config schema: empty key name",
					      plugin);
		if ((rc = cfg_schema_entry(k, plugin, err)) != 0)
			return rc;
		for (size_t j = 0; j < i; j++)
			if (strcmp(schema[j].key, k->key) == 0)
				return kerf_error_set(err, KERF_E_INVALID,
						      "plugin \"%s\": config schema: key \"%s\" "
						      "is declared twice",
						      plugin, k->key);
		v->key = xstrdup(k->key);
		v->type = k->type;
		s->n++;
		if (k->default_value && (rc = cfg_schema_default(v, k, plugin, err)) != 0)
			return rc;
	}
	return 0;
}

int cfg_schema_copy(const char *plugin, const struct kerf_config_key *schema, size_t key_size,
		    struct kerf_config_key **out, struct kerf_error *err)
{
	struct kerf_config_key *copy = NULL;
	size_t n = 0, cap = 0;
	struct cfg_section *s;
	int rc;

	*out = NULL;
	if (!schema)
		return 0;
	if (key_size < CFG_KEY_2_0_SIZE)
		return kerf_error_set(err, KERF_E_INVALID,
				      "plugin \"%s\": config_key_size %zu is smaller than the %zu "
				      "bytes of an ABI 2.0 schema entry (declare the schema with "
				      "KERF_PLUGIN_SCHEMA)",
				      plugin, key_size, (size_t)CFG_KEY_2_0_SIZE);
	/* The plugin's stride, never more than the host knows of each entry. */
	for (;; n++) {
		xgrow(copy, cap, n + 1);
		memset(&copy[n], 0, sizeof(*copy));
		memcpy(&copy[n], (const char *)schema + n * key_size,
		       key_size < sizeof(*copy) ? key_size : sizeof(*copy));
		if (!copy[n].key)
			break;
	}
	s = xcalloc(1, sizeof(*s));
	s->plugin = xstrdup(plugin);
	rc = cfg_schema_check(copy, plugin, s, err);
	cfg_section_free(s);
	if (rc) {
		free(copy);
		return rc;
	}
	*out = copy;
	return 0;
}

static int cfg_section_value(struct cfg_value *v, const struct kerf_config_key *k,
			     const struct yt_pair *pair, const char *path, struct kerf_error *err)
{
	const struct yt_node *val = pair->value;
	struct kerf_error perr = KERF_ERROR_INIT;
	size_t cap = 0;

	cfg_value_clear(v);
	kerf_error_clear(&perr);
	if (v->type == KERF_CFG_STRING_LIST) {
		if (val->type != YT_SEQ)
			return cfg_fail(err, pair->key, path, "expected a list, got %s",
					yt_type_name(val));
		cfg_list_add(v, &cap, NULL);
		v->n = 0;
		for (size_t i = 0; i < val->n; i++) {
			const struct yt_node *it = val->items[i];
			const char *text = yt_scalar_str(it);
			int rc = 0;
			struct strbuf ip;
			sb_init(&ip);
			sb_printf(&ip, "%s[%zu]", path, i);
			if (!text || yt_is_null(it))
				rc = cfg_fail(err, it, ip.buf, "expected a string, got %s",
					      yt_type_name(it));
			else if (cfg_word_allowed(k, text, &perr))
				rc = cfg_fail(err, it, ip.buf, "%s", perr.message);
			sb_free(&ip);
			if (rc)
				return rc;
			cfg_list_add(v, &cap, xstrdup(text));
		}
		v->set = true;
		return 0;
	}

	const char *text = yt_scalar_str(val);
	if (val->type != YT_SCALAR)
		return cfg_fail(err, pair->key, path, "expected %s, got %s", cfg_type_word(v->type),
				yt_type_name(val));
	if (cfg_value_from_text(v, text, val, &perr) || cfg_value_allowed(k, v, text, &perr))
		return cfg_fail(err, pair->key, path, "%s", perr.message);
	return 0;
}

/* True when a schema key lies under `prefix` ("a.b" is under "a"). */
static bool cfg_section_has_group(const struct cfg_section *s, const char *prefix)
{
	size_t n = strlen(prefix);
	for (size_t k = 0; k < s->n; k++)
		if (strncmp(s->v[k].key, prefix, n) == 0 && s->v[k].key[n] == '.')
			return true;
	return false;
}

/*
 * The pairs of one mapping: `prefix` ("" at the top) names the group a
 * nested mapping stands for, so a schema key "leader_election.enabled" is
 * written either flat or as enabled: under leader_election:.
 */
static int cfg_section_fill_map(struct cfg_section *s, const struct yt_node *node,
				const struct kerf_config_key *schema, const char *prefix,
				const char *base, const char **known, bool *given,
				struct kerf_error *err)
{
	int rc = 0;

	for (size_t i = 0; i < node->n && rc == 0; i++) {
		const struct yt_pair *pair = &node->pairs[i];
		char *key = cfg_join(prefix, pair->key->scalar);
		size_t k;

		for (k = 0; k < s->n; k++)
			if (strcmp(s->v[k].key, key) == 0)
				break;
		if (k == s->n && pair->value->type == YT_MAP && cfg_section_has_group(s, key)) {
			rc = cfg_section_fill_map(s, pair->value, schema, key, base, known, given,
						  err);
			free(key);
			continue;
		}
		if (k == s->n) {
			if (s->n == 0)
				rc = cfg_fail(err, pair->key, base,
					      "unknown key \"%s\" (plugin \"%s\" takes no "
					      "configuration)",
					      key, s->plugin);
			else
				rc = cfg_unknown_key(err, pair->key, base, known, s->n);
			free(key);
			break;
		}
		free(key);
		char *path = cfg_join(base, s->v[k].key);
		if (yt_is_null(pair->value)) {
			if (schema[k].required)
				rc = cfg_fail(err, pair->key, path, "a value is required");
		} else {
			rc = cfg_section_value(&s->v[k], &schema[k], pair, path, err);
			given[k] = true;
		}
		free(path);
	}
	return rc;
}

static int cfg_section_fill(struct cfg_section *s, const struct yt_node *node,
			    const struct kerf_config_key *schema, const struct yt_node *fallback_at,
			    struct kerf_error *err)
{
	char *base = cfg_join("plugins", s->plugin);
	bool *given = xcalloc(s->n ? s->n : 1, sizeof(*given));
	const char **known = xcalloc(s->n ? s->n : 1, sizeof(*known));
	int rc = 0;

	for (size_t i = 0; i < s->n; i++)
		known[i] = s->v[i].key;
	if (node && !yt_is_null(node) && node->type != YT_MAP) {
		rc = cfg_fail(err, node, base, "expected a mapping, got %s", yt_type_name(node));
		goto out;
	}
	if (node && node->type == YT_MAP &&
	    (rc = cfg_section_fill_map(s, node, schema, "", base, known, given, err)) != 0)
		goto out;
	for (size_t k = 0; k < s->n; k++) {
		if (schema[k].required && !given[k]) {
			const struct yt_node *at =
			    node && node->type == YT_MAP ? node : fallback_at;
			rc = cfg_fail(err, at, base, "missing required key \"%s\"", s->v[k].key);
			goto out;
		}
	}
out:
	free(known);
	free(given);
	free(base);
	return rc;
}

/*
 * What the host does with valid values: paths resolved against dir (NULL:
 * left as they are), secrets registered with the log redaction.
 */
static void cfg_section_finish(struct cfg_section *s, const struct kerf_config_key *schema,
			       const char *dir)
{
	for (size_t i = 0; i < s->n; i++) {
		struct cfg_value *v = &s->v[i];

		if (!v->set)
			continue;
		if (schema[i].secret)
			log_register_secret(v->str);
		if (!schema[i].path || !dir)
			continue;
		if (v->str && *v->str) {
			char *r = cfg_resolve(dir, v->str);
			free(v->str);
			v->str = r;
		}
		for (size_t j = 0; j < v->n; j++) {
			char *r = *v->list[j] ? cfg_resolve(dir, v->list[j]) : xstrdup("");
			free(v->list[j]);
			v->list[j] = r;
		}
	}
}

static int cfg_section_build_at(const struct yt_node *node, const char *plugin_name,
				const struct kerf_config_key *schema,
				const struct yt_node *fallback_at, const char *dir,
				struct cfg_section **out, struct kerf_error *err)
{
	struct cfg_section *s;
	int rc;

	if (!plugin_name || !out)
		return kerf_error_set(err, KERF_E_INVALID, "cfg_section_build: NULL argument");
	s = xcalloc(1, sizeof(*s));
	s->plugin = xstrdup(plugin_name);
	rc = cfg_schema_check(schema, plugin_name, s, err);
	if (rc == 0)
		rc = cfg_section_fill(s, node, schema, fallback_at, err);
	if (rc) {
		cfg_section_free(s);
		return rc;
	}
	cfg_section_finish(s, schema, dir);
	*out = s;
	return 0;
}

int cfg_section_build(const struct yt_node *node, const char *plugin_name,
		      const struct kerf_config_key *schema, struct cfg_section **out,
		      struct kerf_error *err)
{
	return cfg_section_build_at(node, plugin_name, schema, NULL, NULL, out, err);
}

static int cfg_section_find(const struct cfg_section *s, const char *key, kerf_config_type type,
			    const struct cfg_value **out)
{
	if (!s || !key)
		return KERF_E_INVALID;
	for (size_t i = 0; i < s->n; i++) {
		if (strcmp(s->v[i].key, key) != 0)
			continue;
		if (s->v[i].type != type)
			return KERF_E_INVALID;
		if (!s->v[i].set)
			return KERF_E_NOTFOUND;
		*out = &s->v[i];
		return 0;
	}
	return KERF_E_INVALID;
}

int cfg_section_string(const struct cfg_section *s, const char *key, const char **out)
{
	const struct cfg_value *v;
	int rc = cfg_section_find(s, key, KERF_CFG_STRING, &v);
	if (rc == 0)
		*out = v->str;
	return rc;
}

int cfg_section_int(const struct cfg_section *s, const char *key, int64_t *out)
{
	const struct cfg_value *v;
	int rc = cfg_section_find(s, key, KERF_CFG_INT, &v);
	if (rc == 0)
		*out = v->num;
	return rc;
}

int cfg_section_bool(const struct cfg_section *s, const char *key, bool *out)
{
	const struct cfg_value *v;
	int rc = cfg_section_find(s, key, KERF_CFG_BOOL, &v);
	if (rc == 0)
		*out = v->b;
	return rc;
}

int cfg_section_duration(const struct cfg_section *s, const char *key, int64_t *out_ms)
{
	const struct cfg_value *v;
	int rc = cfg_section_find(s, key, KERF_CFG_DURATION, &v);
	if (rc == 0)
		*out_ms = v->num;
	return rc;
}

int cfg_section_quantity(const struct cfg_section *s, const char *key, int64_t *out)
{
	const struct cfg_value *v;
	int rc = cfg_section_find(s, key, KERF_CFG_QUANTITY, &v);
	if (rc == 0)
		*out = v->num;
	return rc;
}

int cfg_section_list(const struct cfg_section *s, const char *key, size_t *n,
		     const char *const **out)
{
	const struct cfg_value *v;
	int rc = cfg_section_find(s, key, KERF_CFG_STRING_LIST, &v);
	if (rc == 0) {
		*n = v->n;
		*out = (const char *const *)v->list;
	}
	return rc;
}

/* ------------------------------------------------------------ kerf.yaml */

struct cfg_loader {
	struct cfg *c;
	struct kerf_error *err;
	const struct yt_node *root;
	/* Keys whose cross-checks run after the whole file was read. */
	const struct yt_pair *default_packer;
	const struct yt_pair *packers;
	const struct yt_pair *plugins;
	const struct yt_pair *batch_idle;
	const struct yt_pair *batch_max;
};

void cfg_free(struct cfg *c)
{
	if (!c)
		return;
	free(c->path);
	free(c->dir);
	free(c->plugin_dir);
	free(c->cluster);
	free(c->provider);
	for (size_t i = 0; i < c->n_packers; i++)
		free(c->packers[i]);
	free(c->packers);
	free(c->default_packer);
	for (size_t i = 0; i < c->n_manifests; i++)
		free(c->manifests[i]);
	free(c->manifests);
	free(c->metrics_address);
	free(c->health_address);
	free(c->decision_log);
	for (size_t i = 0; i < c->n_nodepools; i++) {
		free(c->nodepools[i].name);
		free(c->nodepools[i].packer);
		free(c->nodepools[i].packer_shadow);
	}
	free(c->nodepools);
	yt_stream_free(c->yaml);
	free(c);
}

/*
 * A string value.  Null keeps the default (returns 1 so callers can tell),
 * except for required keys.
 */
static int cfg_string(struct cfg_loader *l, const struct yt_pair *pair, const char *path,
		      bool required, const char **out)
{
	const struct yt_node *v = pair->value;

	if (yt_is_null(v)) {
		if (required)
			return cfg_fail(l->err, pair->key, path, "a value is required");
		return 1;
	}
	if (v->type != YT_SCALAR)
		return cfg_fail(l->err, pair->key, path, "expected a string, got %s",
				yt_type_name(v));
	*out = v->scalar;
	return 0;
}

static int cfg_replace(struct cfg_loader *l, const struct yt_pair *pair, const char *path,
		       bool required, char **field)
{
	const char *s;
	int rc = cfg_string(l, pair, path, required, &s);

	if (rc == 0) {
		free(*field);
		*field = xstrdup(s);
	}
	return rc < 0 ? rc : 0;
}

static int cfg_plugin_name(struct cfg_loader *l, const struct yt_pair *pair, const char *path,
			   bool required, char **field)
{
	const char *s;
	int rc = cfg_string(l, pair, path, required, &s);

	if (rc)
		return rc < 0 ? rc : 0;
	if (!cfg_plugin_name_valid(s))
		return cfg_fail(l->err, pair->key, path,
				"invalid plugin name \"%s\" (lowercase letters, digits and '-')",
				s);
	free(*field);
	*field = xstrdup(s);
	return 0;
}

static int cfg_enum(struct cfg_loader *l, const struct yt_pair *pair, const char *path,
		    const char *const *words, size_t n, int *out)
{
	const char *s;
	int rc = cfg_string(l, pair, path, false, &s);
	struct strbuf msg;

	if (rc)
		return rc < 0 ? rc : 0;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(s, words[i]) == 0) {
			*out = (int)i;
			return 0;
		}
	}
	sb_init(&msg);
	cfg_bad_word(&msg, s, words, n);
	rc = cfg_fail(l->err, pair->key, path, "%s", msg.buf);
	sb_free(&msg);
	return rc;
}

static int cfg_duration(struct cfg_loader *l, const struct yt_pair *pair, const char *path,
			int64_t *out)
{
	const char *s = NULL;
	struct kerf_error perr;
	int rc = cfg_string(l, pair, path, false, &s);

	if (rc)
		return rc < 0 ? rc : 0;
	kerf_error_clear(&perr);
	if (kerf_duration_parse(s, false, out, &perr))
		return cfg_fail(l->err, pair->key, path, "%s", perr.message);
	return 0;
}

/* A whole number in [lo, hi], written as YAML's plain integer. */
static int cfg_count(struct cfg_loader *l, const struct yt_pair *pair, const char *path,
		     int64_t lo, int64_t hi, int64_t *out)
{
	const char *s;
	int rc = cfg_string(l, pair, path, false, &s);
	int64_t v = 0;
	size_t i = 0;

	if (rc)
		return rc < 0 ? rc : 0;
	for (; s[i] >= '0' && s[i] <= '9' && v <= hi; i++)
		v = v * 10 + (s[i] - '0');
	if (i == 0 || s[i] || v < lo || v > hi)
		return cfg_fail(l->err, pair->key, path,
				"expected a whole number from %lld to %lld, got \"%s\"",
				(long long)lo, (long long)hi, s);
	*out = v;
	return 0;
}

static int cfg_address(struct cfg_loader *l, const struct yt_pair *pair, const char *path,
		       char **field)
{
	const char *s;
	int rc = cfg_string(l, pair, path, false, &s);

	if (rc)
		return rc < 0 ? rc : 0;
	if (*s && !cfg_address_valid(s))
		return cfg_fail(l->err, pair->key, path,
				"invalid address \"%s\" (expected host:port, \":port\" or \"\" to "
				"disable)",
				s);
	free(*field);
	*field = xstrdup(s);
	return 0;
}

/*
 * A list of non-empty strings without repeats.  `names` asks for plugin
 * names.  Null leaves *items alone.
 */
static int cfg_string_list(struct cfg_loader *l, const struct yt_pair *pair, const char *path,
			   bool names, size_t *n, char ***items)
{
	const struct yt_node *v = pair->value;
	char **out = NULL;
	size_t cap = 0, cnt = 0;
	int rc = 0;

	if (yt_is_null(v))
		return 0;
	if (v->type != YT_SEQ)
		return cfg_fail(l->err, pair->key, path, "expected a list, got %s",
				yt_type_name(v));
	for (size_t i = 0; i < v->n && rc == 0; i++) {
		const struct yt_node *it = v->items[i];
		const char *s = yt_scalar_str(it);
		struct strbuf ip;

		sb_init(&ip);
		sb_printf(&ip, "%s[%zu]", path, i);
		if (it->type != YT_SCALAR || yt_is_null(it))
			rc = cfg_fail(l->err, it, ip.buf, "expected a string, got %s",
				      yt_type_name(it));
		else if (!*s)
			rc = cfg_fail(l->err, it, ip.buf, "must not be empty");
		else if (names && !cfg_plugin_name_valid(s))
			rc = cfg_fail(l->err, it, ip.buf,
				      "invalid plugin name \"%s\" (lowercase letters, digits and "
				      "'-')",
				      s);
		for (size_t j = 0; rc == 0 && j < cnt; j++)
			if (strcmp(out[j], s) == 0)
				rc = cfg_fail(l->err, it, ip.buf, "\"%s\" is listed twice", s);
		sb_free(&ip);
		if (rc == 0) {
			xgrow(out, cap, cnt + 1);
			out[cnt++] = xstrdup(s);
		}
	}
	if (rc) {
		for (size_t i = 0; i < cnt; i++)
			free(out[i]);
		free(out);
		return rc;
	}
	for (size_t i = 0; i < *n; i++)
		free((*items)[i]);
	free(*items);
	*n = cnt;
	*items = out;
	return 0;
}

static const char *const cfg_settings_keys[] = {
    "batch_idle_duration", "batch_max_duration", "log_level", "log_format",
    "metrics_address",	   "health_address",	 "clock",     "decision_log",
    "launch_parallelism",  "max_pods_per_workload", "max_pods", "virtual_start",
    "max_nodepools",
};

static int cfg_settings(struct cfg_loader *l, const struct yt_pair *sp)
{
	static const char *const formats[] = {"text", "json"};
	static const char *const clocks[] = {"real", "virtual"};
	const struct yt_node *map = sp->value;
	struct cfg *c = l->c;
	int rc = 0;

	if (yt_is_null(map))
		return 0;
	if (map->type != YT_MAP)
		return cfg_fail(l->err, sp->key, "settings", "expected a mapping, got %s",
				yt_type_name(map));
	for (size_t i = 0; i < map->n && rc == 0; i++) {
		const struct yt_pair *p = &map->pairs[i];
		const char *k = p->key->scalar;
		char *path = cfg_join("settings", k);

		if (strcmp(k, "batch_idle_duration") == 0) {
			rc = cfg_duration(l, p, path, &c->batch_idle_ms);
			l->batch_idle = p;
		} else if (strcmp(k, "batch_max_duration") == 0) {
			rc = cfg_duration(l, p, path, &c->batch_max_ms);
			l->batch_max = p;
		} else if (strcmp(k, "log_level") == 0) {
			rc = cfg_enum(l, p, path, cfg_log_levels, N_ELEMS(cfg_log_levels),
				      &c->log_level);
		} else if (strcmp(k, "log_format") == 0) {
			rc = cfg_enum(l, p, path, formats, N_ELEMS(formats), &c->log_json);
		} else if (strcmp(k, "metrics_address") == 0) {
			rc = cfg_address(l, p, path, &c->metrics_address);
		} else if (strcmp(k, "health_address") == 0) {
			rc = cfg_address(l, p, path, &c->health_address);
		} else if (strcmp(k, "launch_parallelism") == 0) {
			rc = cfg_count(l, p, path, 1, CFG_MAX_LAUNCH_PARALLELISM,
				       &c->launch_parallelism);
		} else if (strcmp(k, "max_pods_per_workload") == 0) {
			rc = cfg_count(l, p, path, 1, INT32_MAX, &c->max_pods_per_workload);
		} else if (strcmp(k, "max_pods") == 0) {
			rc = cfg_count(l, p, path, 1, INT32_MAX, &c->max_pods);
		} else if (strcmp(k, "max_nodepools") == 0) {
			rc = cfg_count(l, p, path, 1, INT32_MAX, &c->max_nodepools);
		} else if (strcmp(k, "clock") == 0) {
			rc = cfg_enum(l, p, path, clocks, N_ELEMS(clocks), &c->virtual_clock);
		} else if (strcmp(k, "virtual_start") == 0) {
			const char *s;
			rc = cfg_string(l, p, path, true, &s);
			if (rc == 0 && !mf_parse_time(s, &c->virtual_start_ms))
				rc = cfg_fail(l->err, p->value, path,
					      "expected an RFC 3339 time such as "
					      "2026-01-05T08:00:00Z, got \"%s\"",
					      s);
		} else if (strcmp(k, "decision_log") == 0) {
			const char *s;
			rc = cfg_string(l, p, path, false, &s);
			if (rc == 0) {
				free(c->decision_log);
				c->decision_log = *s ? cfg_resolve(c->dir, s) : xstrdup("");
			}
			rc = rc < 0 ? rc : 0;
		} else {
			rc = cfg_unknown_key(l->err, p->key, "settings", cfg_settings_keys,
					     N_ELEMS(cfg_settings_keys));
		}
		free(path);
	}
	return rc;
}

static int cfg_nodepool(struct cfg_loader *l, const struct yt_pair *np, struct cfg_nodepool *out)
{
	static const char *const keys[] = {"packer", "packer_shadow", "consolidation"};
	const struct yt_node *map = np->value;
	char *base = cfg_join("nodepools", np->key->scalar);
	int rc = 0;

	out->name = xstrdup(np->key->scalar);
	if (!yt_scalar_str(np->key) || !cfg_k8s_name_valid(np->key->scalar)) {
		rc = cfg_fail(l->err, np->key, "nodepools",
			      "\"%s\" is not a valid NodePool name (lowercase letters, digits, "
			      "'-' and '.')",
			      np->key->scalar);
		goto out;
	}
	if (yt_is_null(map))
		goto out;
	if (map->type != YT_MAP) {
		rc = cfg_fail(l->err, np->key, base, "expected a mapping, got %s",
			      yt_type_name(map));
		goto out;
	}
	out->node = map;
	for (size_t i = 0; i < map->n && rc == 0; i++) {
		const struct yt_pair *p = &map->pairs[i];
		const char *k = p->key->scalar;
		char *path = cfg_join(base, k);

		if (strcmp(k, "packer") == 0) {
			rc = cfg_replace(l, p, path, false, &out->packer);
			if (rc == 0 && out->packer) {
				struct cfg_packer_weight *w;
				size_t n;
				struct kerf_error perr;
				kerf_error_clear(&perr);
				if (cfg_packer_spec_parse(out->packer, &n, &w, &perr))
					rc = cfg_fail(l->err, p->key, path, "%s", perr.message);
				else
					cfg_packer_weights_free(n, w);
			}
		} else if (strcmp(k, "packer_shadow") == 0) {
			rc = cfg_plugin_name(l, p, path, false, &out->packer_shadow);
		} else if (strcmp(k, "consolidation") == 0) {
			const char *v = yt_scalar_str(p->value);
			if (v && strcmp(v, "karpenter") == 0)
				out->consolidation_karpenter = true;
			else if (!v || strcmp(v, "packing") != 0)
				rc = cfg_fail(l->err, p->value, path,
					      "expected karpenter or packing, got \"%s\"",
					      v ? v : yt_type_name(p->value));
		} else {
			rc = cfg_unknown_key(l->err, p->key, base, keys, N_ELEMS(keys));
		}
		free(path);
	}
out:
	free(base);
	return rc;
}

static int cfg_nodepools(struct cfg_loader *l, const struct yt_pair *pair)
{
	const struct yt_node *map = pair->value;
	struct cfg *c = l->c;

	if (yt_is_null(map))
		return 0;
	if (map->type != YT_MAP)
		return cfg_fail(l->err, pair->key, "nodepools", "expected a mapping, got %s",
				yt_type_name(map));
	c->nodepools = xcalloc(map->n ? map->n : 1, sizeof(*c->nodepools));
	for (size_t i = 0; i < map->n; i++) {
		int rc = cfg_nodepool(l, &map->pairs[i], &c->nodepools[c->n_nodepools++]);
		if (rc)
			return rc;
	}
	return 0;
}

static const char *const cfg_top_keys[] = {
    "plugin_dir", "cluster",  "provider", "packers",   "default_packer",
    "manifests",  "settings", "plugins",  "nodepools",
};

static int cfg_top(struct cfg_loader *l)
{
	struct cfg *c = l->c;
	const struct yt_node *root = l->root;
	int rc = 0;

	for (size_t i = 0; i < root->n && rc == 0; i++) {
		const struct yt_pair *p = &root->pairs[i];
		const char *k = p->key->scalar;

		if (strcmp(k, "plugin_dir") == 0) {
			const char *s;
			rc = cfg_string(l, p, k, false, &s);
			if (rc == 0 && !*s)
				rc = cfg_fail(l->err, p->key, k, "must not be empty");
			if (rc == 0)
				c->plugin_dir = cfg_resolve(c->dir, s);
			rc = rc < 0 ? rc : 0;
		} else if (strcmp(k, "cluster") == 0) {
			rc = cfg_plugin_name(l, p, k, true, &c->cluster);
		} else if (strcmp(k, "provider") == 0) {
			rc = cfg_plugin_name(l, p, k, true, &c->provider);
		} else if (strcmp(k, "packers") == 0) {
			l->packers = p;
			rc = cfg_string_list(l, p, k, true, &c->n_packers, &c->packers);
			if (rc == 0 && !yt_is_null(p->value) && c->n_packers == 0)
				rc = cfg_fail(l->err, p->key, k, "must name at least one packer");
		} else if (strcmp(k, "default_packer") == 0) {
			l->default_packer = p;
			rc = cfg_plugin_name(l, p, k, false, &c->default_packer);
		} else if (strcmp(k, "manifests") == 0) {
			rc = cfg_string_list(l, p, k, false, &c->n_manifests, &c->manifests);
			for (size_t j = 0; rc == 0 && j < c->n_manifests; j++) {
				char *r = cfg_resolve(c->dir, c->manifests[j]);
				free(c->manifests[j]);
				c->manifests[j] = r;
			}
		} else if (strcmp(k, "settings") == 0) {
			rc = cfg_settings(l, p);
		} else if (strcmp(k, "plugins") == 0) {
			l->plugins = p;
			if (!yt_is_null(p->value) && p->value->type != YT_MAP)
				rc = cfg_fail(l->err, p->key, k, "expected a mapping, got %s",
					      yt_type_name(p->value));
		} else if (strcmp(k, "nodepools") == 0) {
			rc = cfg_nodepools(l, p);
		} else {
			rc = cfg_unknown_key(l->err, p->key, "", cfg_top_keys,
					     N_ELEMS(cfg_top_keys));
		}
	}
	return rc;
}

static bool cfg_has_packer(const struct cfg *c, const char *name)
{
	for (size_t i = 0; i < c->n_packers; i++)
		if (strcmp(c->packers[i], name) == 0)
			return true;
	return false;
}

static int cfg_not_loaded(struct cfg_loader *l, const struct yt_node *at, const char *path,
			  const char *name)
{
	struct strbuf sb;
	const char *hint = cfg_suggest(name, (const char *const *)l->c->packers, l->c->n_packers);
	int rc;

	sb_init(&sb);
	cfg_list_words(&sb, (const char *const *)l->c->packers, l->c->n_packers, ", ");
	if (hint)
		rc = cfg_fail(l->err, at, path,
			      "packer \"%s\" is not in packers (did you mean \"%s\"? packers: %s)",
			      name, hint, sb.buf);
	else
		rc = cfg_fail(l->err, at, path, "packer \"%s\" is not in packers (packers: %s)",
			      name, sb.buf);
	sb_free(&sb);
	return rc;
}

/* Checks that need the whole file: required keys and references between keys. */
static int cfg_cross_check(struct cfg_loader *l)
{
	struct cfg *c = l->c;
	int rc;

	if (!yt_map_pair(l->root, "cluster"))
		return cfg_fail(l->err, l->root, "", "missing required key \"cluster\"");
	if (!yt_map_pair(l->root, "provider"))
		return cfg_fail(l->err, l->root, "", "missing required key \"provider\"");
	if (c->n_packers == 0) {
		c->packers = xcalloc(1, sizeof(*c->packers));
		c->packers[0] = xstrdup(CFG_DEFAULT_PACKER);
		c->n_packers = 1;
	}
	if (!c->default_packer) {
		c->default_packer = xstrdup(c->packers[0]);
	} else if (!cfg_has_packer(c, c->default_packer)) {
		return cfg_not_loaded(l, l->default_packer->key, "default_packer",
				      c->default_packer);
	}
	if (c->batch_max_ms < c->batch_idle_ms) {
		char idle[32], max[32];
		kerf_duration_format(c->batch_idle_ms, idle, sizeof(idle));
		kerf_duration_format(c->batch_max_ms, max, sizeof(max));
		/* Blame whichever of the two the file set; the other is a default. */
		if (l->batch_max)
			return cfg_fail(l->err, l->batch_max->key, "settings.batch_max_duration",
					"%s is shorter than settings.batch_idle_duration (%s)", max,
					idle);
		return cfg_fail(l->err, l->batch_idle->key, "settings.batch_idle_duration",
				"%s is longer than settings.batch_max_duration (%s)", idle, max);
	}
	if (c->batch_max_ms == 0)
		return cfg_fail(l->err, l->batch_max->key, "settings.batch_max_duration",
				"must be longer than 0s");

	for (size_t i = 0; i < c->n_nodepools; i++) {
		const struct cfg_nodepool *np = &c->nodepools[i];
		char *base = cfg_join("nodepools", np->name);
		rc = 0;
		if (np->packer) {
			const struct yt_pair *p = yt_map_pair(np->node, "packer");
			char *path = cfg_join(base, "packer");
			struct cfg_packer_weight *w;
			size_t n;
			cfg_packer_spec_parse(np->packer, &n, &w, NULL);
			for (size_t j = 0; rc == 0 && j < n; j++)
				if (!cfg_has_packer(c, w[j].name))
					rc = cfg_not_loaded(l, p->key, path, w[j].name);
			cfg_packer_weights_free(n, w);
			free(path);
		}
		if (rc == 0 && np->packer_shadow && !cfg_has_packer(c, np->packer_shadow)) {
			const struct yt_pair *p = yt_map_pair(np->node, "packer_shadow");
			char *path = cfg_join(base, "packer_shadow");
			rc = cfg_not_loaded(l, p->key, path, np->packer_shadow);
			free(path);
		}
		free(base);
		if (rc)
			return rc;
	}

	if (l->plugins && l->plugins->value->type == YT_MAP) {
		const struct yt_node *map = l->plugins->value;
		for (size_t i = 0; i < map->n; i++) {
			const struct yt_pair *p = &map->pairs[i];
			const char *name = p->key->scalar;
			char *path = cfg_join("plugins", name);
			rc = 0;
			if (!yt_is_null(p->value) && p->value->type != YT_MAP) {
				rc = cfg_fail(l->err, p->key, path, "expected a mapping, got %s",
					      yt_type_name(p->value));
			} else if (strcmp(name, c->cluster) != 0 &&
				   strcmp(name, c->provider) != 0 && !cfg_has_packer(c, name)) {
				const char **cands = xcalloc(c->n_packers + 2, sizeof(*cands));
				cands[0] = c->cluster;
				cands[1] = c->provider;
				for (size_t j = 0; j < c->n_packers; j++)
					cands[j + 2] = c->packers[j];
				const char *hint = cfg_suggest(name, cands, c->n_packers + 2);
				if (hint)
					rc = cfg_fail(
					    l->err, p->key, "plugins",
					    "plugin \"%s\" is not the cluster, the provider "
					    "or a packer (did you mean \"%s\"?)",
					    name, hint);
				else
					rc = cfg_fail(
					    l->err, p->key, "plugins",
					    "plugin \"%s\" is not the cluster, the provider "
					    "or a packer",
					    name);
				free(cands);
			}
			free(path);
			if (rc)
				return rc;
		}
	}
	return 0;
}

static int cfg_load_stream(const char *name, struct yt_stream *ys, struct cfg **out,
			   struct kerf_error *err)
{
	struct cfg_loader l;
	struct cfg *c;
	int rc;

	if (ys->n == 0 || (ys->n == 1 && !ys->docs[0].root)) {
		yt_stream_free(ys);
		return yt_error_at(err, KERF_E_CONFIG, name, 1, 1,
				   "empty configuration (cluster and provider are required)");
	}
	if (ys->n > 1) {
		rc = yt_error_at(err, KERF_E_CONFIG, name, ys->docs[1].line, 1,
				 "expected one YAML document, found %zu", ys->n);
		yt_stream_free(ys);
		return rc;
	}

	c = xcalloc(1, sizeof(*c));
	c->yaml = ys;
	c->path = xstrdup(name);
	c->dir = cfg_dirname(name);
	c->batch_idle_ms = CFG_DEFAULT_BATCH_IDLE_MS;
	c->batch_max_ms = CFG_DEFAULT_BATCH_MAX_MS;
	c->launch_parallelism = CFG_DEFAULT_LAUNCH_PARALLELISM;
	c->max_pods_per_workload = KERF_WORKLOAD_MAX_PODS;
	c->max_pods = KERF_SIM_MAX_PODS;
	c->max_nodepools = CFG_DEFAULT_MAX_NODEPOOLS;
	c->log_level = KERF_LOG_INFO;
	c->metrics_address = xstrdup(CFG_DEFAULT_METRICS_ADDRESS);
	c->health_address = xstrdup(CFG_DEFAULT_HEALTH_ADDRESS);
	c->decision_log = xstrdup("");

	memset(&l, 0, sizeof(l));
	l.c = c;
	l.err = err;
	l.root = ys->docs[0].root;
	if (l.root->type != YT_MAP)
		rc = cfg_fail(err, l.root, "", "expected a mapping at the top level, got %s",
			      yt_type_name(l.root));
	else
		rc = cfg_top(&l);
	if (rc == 0)
		rc = cfg_cross_check(&l);
	if (rc) {
		cfg_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

int cfg_load_file(const char *path, struct cfg **out, struct kerf_error *err)
{
	struct yt_stream *ys;
	int rc;

	if (!path || !out)
		return kerf_error_set(err, KERF_E_INVALID, "cfg_load_file: NULL argument");
	rc = yt_parse_file(path, &ys, err);
	if (rc)
		return rc;
	return cfg_load_stream(path, ys, out, err);
}

int cfg_load_string(const char *name, const char *text, struct cfg **out, struct kerf_error *err)
{
	struct yt_stream *ys;
	int rc;

	if (!text || !out)
		return kerf_error_set(err, KERF_E_INVALID, "cfg_load_string: NULL argument");
	if (!name)
		name = "kerf.yaml";
	rc = yt_parse_string(name, text, strlen(text), &ys, err);
	if (rc)
		return rc;
	return cfg_load_stream(name, ys, out, err);
}

const struct yt_node *cfg_plugin_node(const struct cfg *c, const char *plugin_name)
{
	const struct yt_node *root = c && c->yaml->n ? c->yaml->docs[0].root : NULL;
	const struct yt_node *v = yt_map_get(yt_map_get(root, "plugins"), plugin_name);

	return v && v->type == YT_MAP ? v : NULL;
}

int cfg_plugin_section(const struct cfg *c, const char *plugin_name,
		       const struct kerf_config_key *schema, struct cfg_section **out,
		       struct kerf_error *err)
{
	const struct yt_node *root = c->yaml->docs[0].root;
	const struct yt_pair *plugins = yt_map_pair(root, "plugins");
	const struct yt_pair *own = plugins ? yt_map_pair(plugins->value, plugin_name) : NULL;
	const struct yt_node *at = own ? own->key : plugins ? plugins->key : root;

	return cfg_section_build_at(own ? own->value : NULL, plugin_name, schema, at, c->dir, out,
				    err);
}

const struct cfg_nodepool *cfg_nodepool_find(const struct cfg *c, const char *name)
{
	for (size_t i = 0; c && name && i < c->n_nodepools; i++)
		if (strcmp(c->nodepools[i].name, name) == 0)
			return &c->nodepools[i];
	return NULL;
}
