/* SPDX-License-Identifier: Apache-2.0 */
/*
 * taints.c - taint/toleration matching and the kubectl taint syntax.
 */
#include <stdlib.h>
#include <string.h>

#include <kerf/requirements.h>
#include <kerf/taints.h>

/* Kubernetes does not distinguish an unset value from an empty one. */
static const char *str_or_empty(const char *s)
{
	return s ? s : "";
}

static char *dup_n(const char *s, size_t n)
{
	char *p = malloc(n + 1);

	if (p) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

bool kerf_toleration_tolerates(const struct kerf_toleration *tol, const struct kerf_taint *taint)
{
	if (!tol || !taint)
		return false;
	if (tol->effect != KERF_EFFECT_ANY && tol->effect != taint->effect)
		return false;
	if (tol->key && tol->key[0] && strcmp(tol->key, str_or_empty(taint->key)) != 0)
		return false;
	switch (tol->op) {
	case KERF_TOLERATION_EXISTS:
		return true;
	case KERF_TOLERATION_EQUAL:
		return strcmp(str_or_empty(tol->value), str_or_empty(taint->value)) == 0;
	}
	return false;
}

bool kerf_tolerations_tolerate(const struct kerf_tolerations *tols, const struct kerf_taint *taint)
{
	if (!tols)
		return false;
	for (size_t i = 0; i < tols->n; i++) {
		if (kerf_toleration_tolerates(tols->items[i], taint))
			return true;
	}
	return false;
}

bool kerf_tolerations_tolerate_all(const struct kerf_tolerations *tols,
				   const struct kerf_taints *taints, bool ignore_prefer_no_schedule,
				   const struct kerf_taint **first_untolerated)
{
	if (first_untolerated)
		*first_untolerated = NULL;
	if (!taints)
		return true;
	for (size_t i = 0; i < taints->n; i++) {
		const struct kerf_taint *t = taints->items[i];
		if (ignore_prefer_no_schedule && t->effect == KERF_EFFECT_PREFER_NO_SCHEDULE)
			continue;
		if (kerf_tolerations_tolerate(tols, t))
			continue;
		if (first_untolerated)
			*first_untolerated = t;
		return false;
	}
	return true;
}

static const struct {
	const char *name;
	kerf_taint_effect effect;
} effects[] = {
    {"NoSchedule", KERF_EFFECT_NO_SCHEDULE},
    {"PreferNoSchedule", KERF_EFFECT_PREFER_NO_SCHEDULE},
    {"NoExecute", KERF_EFFECT_NO_EXECUTE},
};

int kerf_taint_parse(const char *text, struct kerf_taint **out, struct kerf_error *err)
{
	const char *colon, *eq, *effect_name;
	size_t klen;
	char why[256];
	char *key = NULL, *value = NULL;
	bool found = false;
	kerf_taint_effect effect = KERF_EFFECT_ANY;

	if (!text || !out)
		return kerf_error_set(err, KERF_E_INVALID, "kerf_taint_parse: NULL argument");
	*out = NULL;
	/* Neither keys nor values may hold ':', so the last one starts the effect. */
	colon = strrchr(text, ':');
	if (!colon)
		return kerf_error_set(err, KERF_E_PARSE,
				      "invalid taint \"%s\": expected key[=value]:effect", text);
	effect_name = colon + 1;
	for (size_t i = 0; i < sizeof(effects) / sizeof(effects[0]); i++) {
		if (strcmp(effect_name, effects[i].name) == 0) {
			effect = effects[i].effect;
			found = true;
			break;
		}
	}
	if (!found)
		return kerf_error_set(err, KERF_E_PARSE,
				      "invalid taint \"%s\": unknown effect \"%s\" (want "
				      "NoSchedule, PreferNoSchedule or NoExecute)",
				      text, effect_name);
	eq = memchr(text, '=', (size_t)(colon - text));
	klen = (size_t)((eq ? eq : colon) - text);
	key = dup_n(text, klen);
	if (!key)
		return kerf_error_set(err, KERF_E_NOMEM, "out of memory");
	if (!kerf_label_key_valid(key, why, sizeof(why))) {
		free(key);
		return kerf_error_set(err, KERF_E_PARSE, "invalid taint \"%s\": %s", text, why);
	}
	if (eq && eq + 1 < colon) {
		value = dup_n(eq + 1, (size_t)(colon - eq - 1));
		if (!value) {
			free(key);
			return kerf_error_set(err, KERF_E_NOMEM, "out of memory");
		}
		if (!kerf_label_value_valid(value, why, sizeof(why))) {
			free(key);
			free(value);
			return kerf_error_set(err, KERF_E_PARSE, "invalid taint \"%s\": %s", text,
					      why);
		}
	}
	*out = kerf_taint_new();
	(*out)->key = key;
	(*out)->value = value;
	(*out)->effect = effect;
	return 0;
}

int kerf_taint_format(const struct kerf_taint *t, char *buf, size_t len)
{
	int n;

	if (!buf || len == 0)
		return KERF_E_RANGE;
	if (!t) {
		buf[0] = '\0';
		return KERF_E_INVALID;
	}
	n = snprintf(buf, len, "%s%s%s%s%s", str_or_empty(t->key), t->value && *t->value ? "=" : "",
		     str_or_empty(t->value), t->effect != KERF_EFFECT_ANY ? ":" : "",
		     kerf_effect_name(t->effect));
	if (n < 0 || (size_t)n >= len)
		return KERF_E_RANGE;
	return n;
}

bool kerf_taint_match(const struct kerf_taint *a, const struct kerf_taint *b)
{
	if (!a || !b)
		return false;
	return a->effect == b->effect && strcmp(str_or_empty(a->key), str_or_empty(b->key)) == 0;
}

bool kerf_taint_equal(const struct kerf_taint *a, const struct kerf_taint *b)
{
	return kerf_taint_match(a, b) &&
	       strcmp(str_or_empty(a->value), str_or_empty(b->value)) == 0;
}

bool kerf_taints_contains(const struct kerf_taints *t, const struct kerf_taint *taint)
{
	if (!t)
		return false;
	for (size_t i = 0; i < t->n; i++) {
		if (kerf_taint_equal(t->items[i], taint))
			return true;
	}
	return false;
}

const struct kerf_taint *kerf_taints_find(const struct kerf_taints *t, const char *key,
					  kerf_taint_effect effect)
{
	if (!t || !key)
		return NULL;
	for (size_t i = 0; i < t->n; i++) {
		const struct kerf_taint *it = t->items[i];
		if (it->effect == effect && strcmp(str_or_empty(it->key), key) == 0)
			return it;
	}
	return NULL;
}

int kerf_taints_add(struct kerf_taints *t, const struct kerf_taint *taint)
{
	char *key, *value = NULL;
	struct kerf_taint *slot = NULL;

	if (!t || !taint || !taint->key || !taint->key[0])
		return KERF_E_INVALID;
	key = dup_n(taint->key, strlen(taint->key));
	if (taint->value && taint->value[0])
		value = dup_n(taint->value, strlen(taint->value));
	if (!key || (taint->value && taint->value[0] && !value)) {
		free(key);
		free(value);
		return KERF_E_NOMEM;
	}
	for (size_t i = 0; i < t->n; i++) {
		if (kerf_taint_match(t->items[i], taint)) {
			slot = t->items[i];
			free(slot->key);
			free(slot->value);
			break;
		}
	}
	if (!slot) {
		struct kerf_taint **items = realloc(t->items, (t->n + 1) * sizeof(*items));
		slot = items ? calloc(1, sizeof(*slot)) : NULL;
		if (!slot) {
			if (items)
				t->items = items;
			free(key);
			free(value);
			return KERF_E_NOMEM;
		}
		t->items = items;
		t->items[t->n++] = slot;
	}
	slot->key = key;
	slot->value = value;
	slot->effect = taint->effect;
	return 0;
}
