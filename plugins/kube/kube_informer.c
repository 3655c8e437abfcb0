/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kube_informer.c - a cache of the cluster like client-go's informers: per
 * resource, one thread lists (in pages of `page_size`, following
 * `continue`), then watches from the list's resourceVersion with
 * bookmarks and a server-side timeout, and watches again from the last
 * resourceVersion it saw when a stream ends or breaks.
 *
 * When the server no longer has that resourceVersion (410 Gone, on the
 * watch request or as an ERROR event in the stream) the thread lists
 * again and hands the host the differences against its cache: ADDED for
 * objects it did not have, MODIFIED for those whose resourceVersion
 * changed, DELETED for those no longer listed (deletions missed while
 * disconnected).  A relist delivers nothing for an unchanged object, and
 * a watch event older than what the cache holds is dropped, so no event
 * is lost or repeated across reconnects.
 *
 * Each object goes through the host's one decoder (kube_decode); an
 * object kerf cannot read is logged with the field at fault and left out
 * of the cache, as if it did not exist, rather than stopping the stream.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube.h"

#define WATCH_LINE_MAX ((size_t)16 << 20)
#define BACKOFF_MIN_MS 250
#define BACKOFF_MAX_MS 30000

/* --------------------------------------------------------------- cache */

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

void kube_cache_init(struct kube_cache *c)
{
	memset(c, 0, sizeof(*c));
}

void kube_entry_free(struct kube_entry *e, kerf_object_kind kind)
{
	if (!e)
		return;
	free(e->key);
	free(e->resource_version);
	kube_object_free(kind, e->object);
	free(e);
}

void kube_cache_clear(struct kube_cache *c, kerf_object_kind kind)
{
	for (size_t i = 0; i < c->n_buckets; i++)
		for (struct kube_entry *e = c->buckets[i], *next; e; e = next) {
			next = e->next;
			kube_entry_free(e, kind);
		}
	free(c->buckets);
	memset(c, 0, sizeof(*c));
}

struct kube_entry *kube_cache_get(const struct kube_cache *c, const char *key)
{
	if (!c->n_buckets)
		return NULL;
	for (struct kube_entry *e = c->buckets[hash_str(key) % c->n_buckets]; e; e = e->next)
		if (strcmp(e->key, key) == 0)
			return e;
	return NULL;
}

static void cache_grow(struct kube_cache *c)
{
	size_t nb = c->n_buckets ? c->n_buckets * 2 : 64;
	struct kube_entry **b = calloc(nb, sizeof(*b));
	if (!b)
		abort();
	for (size_t i = 0; i < c->n_buckets; i++)
		for (struct kube_entry *e = c->buckets[i], *next; e; e = next) {
			next = e->next;
			size_t k = hash_str(e->key) % nb;
			e->next = b[k];
			b[k] = e;
		}
	free(c->buckets);
	c->buckets = b;
	c->n_buckets = nb;
}

struct kube_entry *kube_cache_put(struct kube_cache *c, kerf_object_kind kind, char *key, char *rv,
				  void *object)
{
	struct kube_entry *e = kube_cache_get(c, key);
	if (e) {
		free(key);
		free(e->resource_version);
		kube_object_free(kind, e->object);
	} else {
		if (c->n + 1 > c->n_buckets)
			cache_grow(c);
		e = calloc(1, sizeof(*e));
		if (!e)
			abort();
		e->key = key;
		size_t k = hash_str(key) % c->n_buckets;
		e->next = c->buckets[k];
		c->buckets[k] = e;
		c->n++;
	}
	e->resource_version = rv;
	e->object = object;
	return e;
}

struct kube_entry *kube_cache_take(struct kube_cache *c, const char *key)
{
	if (!c->n_buckets)
		return NULL;
	for (struct kube_entry **p = &c->buckets[hash_str(key) % c->n_buckets]; *p;
	     p = &(*p)->next) {
		if (strcmp((*p)->key, key) == 0) {
			struct kube_entry *e = *p;
			*p = e->next;
			e->next = NULL;
			c->n--;
			return e;
		}
	}
	return NULL;
}

/* ------------------------------------------------------------- helpers */

static char *xstrdup(const char *s)
{
	char *d = strdup(s);
	if (!d)
		abort();
	return d;
}

static const char *rv_of(const json_t *obj)
{
	return json_string_value(
	    json_object_get(json_object_get(obj, "metadata"), "resourceVersion"));
}

/* resourceVersions are opaque, but the API server's are integers: order them so when they are. */
static bool rv_older(const char *a, const char *b)
{
	char *ea, *eb;
	unsigned long long x = strtoull(a, &ea, 10), y = strtoull(b, &eb, 10);
	if (*a && *b && !*ea && !*eb)
		return x < y;
	return false;
}

/*
 * Pods are most of a cluster, and the host keeps its own copy of each: the
 * cache holds only their key and resourceVersion (what relisting and
 * ordering need), and a deletion hands the host the pod's namespace and
 * name, all it looks a deleted pod up by.  The other kinds keep their
 * decoded object, which the writes read labels and uids from.
 */
static bool keeps_objects(const struct kube_informer *in)
{
	return in->res.kind != KERF_OBJ_POD;
}

/* Delivers DELETED for an entry taken out of the cache, and frees it. */
static void deliver_gone(struct kube_informer *in, struct kube_entry *e)
{
	struct kube *k = in->k;
	if (e->object) {
		kube_deliver(k, KERF_EVENT_DELETED, in->res.kind, e->object);
	} else {
		struct kerf_pod *p = kerf_pod_new();
		const char *slash = strchr(e->key, '/');
		if (slash) {
			p->meta->namespace_ = strndup(e->key, (size_t)(slash - e->key));
			p->meta->name = xstrdup(slash + 1);
		} else {
			p->meta->name = xstrdup(e->key);
		}
		if (!p->meta->name || (slash && !p->meta->namespace_))
			abort();
		p->meta->api_version = xstrdup("v1");
		p->meta->kind = xstrdup("Pod");
		if (e->resource_version)
			p->meta->resource_version = xstrdup(e->resource_version);
		kube_deliver(k, KERF_EVENT_DELETED, in->res.kind, p);
		kerf_pod_free(p);
	}
	atomic_fetch_add(&in->events, 1);
	kube_entry_free(e, in->res.kind);
}

/* Delivers a decoded object (ADDED, or MODIFIED for a cached key) and caches it; takes key and
 * decoded. */
static void store_decoded(struct kube_informer *in, char *key, const char *rv, void *decoded)
{
	pthread_mutex_lock(&in->lock);
	bool had = kube_cache_get(&in->cache, key) != NULL;
	pthread_mutex_unlock(&in->lock);
	/* Delivered before the cache changes: a write reading it meanwhile sees the old
	 * object, never a freed one, and only this thread writes the cache. */
	kube_deliver(in->k, had ? KERF_EVENT_MODIFIED : KERF_EVENT_ADDED, in->res.kind, decoded);
	if (!keeps_objects(in)) {
		kube_object_free(in->res.kind, decoded);
		decoded = NULL;
	}
	pthread_mutex_lock(&in->lock);
	kube_cache_put(&in->cache, in->res.kind, key, rv ? xstrdup(rv) : NULL, decoded);
	pthread_mutex_unlock(&in->lock);
	atomic_fetch_add(&in->events, 1);
}

/* True when the cache already has key at rv or newer. */
static bool cached_at(struct kube_informer *in, const char *key, const char *rv)
{
	pthread_mutex_lock(&in->lock);
	struct kube_entry *old = kube_cache_get(&in->cache, key);
	bool yes = old && old->resource_version && rv &&
		   (strcmp(old->resource_version, rv) == 0 || rv_older(rv, old->resource_version));
	pthread_mutex_unlock(&in->lock);
	return yes;
}

/*
 * Applies one object seen in a list or a watch: decodes it, updates the
 * cache and delivers `type` (ADDED becomes MODIFIED for a key already
 * cached).  Returns false when the object could not be read.
 */
static bool apply_object(struct kube_informer *in, kerf_event_type type, json_t *obj,
			 const char *where)
{
	struct kube *k = in->k;
	const struct kerf_host *h = k->host;
	struct kerf_error err = KERF_ERROR_INIT;
	char *key = kube_json_key(obj);
	const char *rv = rv_of(obj);
	void *decoded = NULL;

	if (!key) {
		h->log(h->ctx, KERF_LOG_ERROR, "%s: %s: an object without metadata.name", where,
		       in->res.name);
		atomic_fetch_add(&in->decode_errors, 1);
		return false;
	}
	pthread_mutex_lock(&in->lock);
	struct kube_entry *old = kube_cache_get(&in->cache, key);
	if (type != KERF_EVENT_DELETED && old && old->resource_version && rv &&
	    (strcmp(old->resource_version, rv) == 0 || rv_older(rv, old->resource_version))) {
		/* Seen already (a relist or a watch replaying what the list had). */
		pthread_mutex_unlock(&in->lock);
		free(key);
		return true;
	}
	pthread_mutex_unlock(&in->lock);
	if (type == KERF_EVENT_DELETED) {
		pthread_mutex_lock(&in->lock);
		struct kube_entry *e = kube_cache_take(&in->cache, key);
		pthread_mutex_unlock(&in->lock);
		if (e)
			deliver_gone(in, e);
		free(key);
		return true;
	}
	char what[512];
	snprintf(what, sizeof(what), "%s %s/%s", where, in->res.name, key);
	/* The API server leaves them out of list items: the list's type says them. */
	if (!json_object_get(obj, "apiVersion"))
		json_object_set_new(obj, "apiVersion", json_string(in->res.api_version));
	if (!json_object_get(obj, "kind"))
		json_object_set_new(obj, "kind", json_string(in->res.kind_name));
	int rc = kube_decode(h, in->res.kind, what, obj, &decoded, &err);
	if (rc) {
		h->log(h->ctx, KERF_LOG_ERROR, "%s", err.message);
		atomic_fetch_add(&in->decode_errors, 1);
		/* What was cached under the key is no longer what the server has. */
		pthread_mutex_lock(&in->lock);
		struct kube_entry *e = kube_cache_take(&in->cache, key);
		pthread_mutex_unlock(&in->lock);
		if (e)
			deliver_gone(in, e);
		free(key);
		return false;
	}
	store_decoded(in, key, rv, decoded);
	return true;
}

/* ---------------------------------------------------------------- list */

struct seen {
	size_t n, cap;
	char **keys;
};

static void seen_add(struct seen *s, char *key)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 256;
		s->keys = realloc(s->keys, s->cap * sizeof(char *));
		if (!s->keys)
			abort();
	}
	s->keys[s->n++] = key;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void seen_clear(struct seen *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->keys[i]);
	free(s->keys);
	memset(s, 0, sizeof(*s));
}

/*
 * One item of a list page, from its text: decoded by the host straight
 * from the page (with the list's apiVersion and kind put in front when
 * the item leaves them out), without building it as JSON first.  An item
 * the host cannot read goes the JSON way, which names what is wrong and
 * takes it out of the cache.  Returns the item's key, or NULL.
 */
static char *list_item(struct kube_informer *in, const char *text, size_t len, bool typed)
{
	const struct kerf_host *h = in->k->host;
	struct kerf_error err = KERF_ERROR_INIT;
	void *decoded = NULL;
	char what[128];
	char *buf = NULL;
	int rc = KERF_E_UNSUPPORTED;

	snprintf(what, sizeof(what), "list %s", in->res.name);
	if (!typed && len >= 2) {
		size_t head = strlen(in->res.api_version) + strlen(in->res.kind_name) + 32;
		buf = malloc(head + len);
		if (!buf)
			abort();
		size_t i = 1;
		while (i < len &&
		       (text[i] == ' ' || text[i] == '\n' || text[i] == '\t' || text[i] == '\r'))
			i++;
		int n = snprintf(buf, head, "{\"apiVersion\":\"%s\",\"kind\":\"%s\"%s",
				 in->res.api_version, in->res.kind_name, text[i] == '}' ? "" : ",");
		memcpy(buf + n, text + 1, len - 1);
		text = buf;
		len = (size_t)n + len - 1;
	}
	if (KERF_HOST_HAS(h, decode_object))
		rc = h->decode_object(h->ctx, in->res.kind, what, text, len, &decoded, &err);
	if (rc == 0) {
		const struct kerf_meta *m = kerf_object_meta(in->res.kind, decoded);
		char *key = NULL;
		if (m && m->name) {
			size_t n =
			    strlen(m->name) + (m->namespace_ ? strlen(m->namespace_) + 1 : 0) + 1;
			key = malloc(n);
			if (!key)
				abort();
			if (m->namespace_)
				snprintf(key, n, "%s/%s", m->namespace_, m->name);
			else
				snprintf(key, n, "%s", m->name);
		}
		if (key) {
			free(buf);
			char *rv = m->resource_version ? xstrdup(m->resource_version) : NULL;
			if (cached_at(in, key, rv)) {
				kube_object_free(in->res.kind, decoded);
			} else {
				char *mine = xstrdup(key);
				store_decoded(in, mine, rv, decoded);
			}
			free(rv);
			return key;
		}
		kube_object_free(in->res.kind, decoded);
	}
	json_t *j = kube_json_parse(what, text, len, KUBE_MAX_OBJECT_BYTES, &err);
	free(buf);
	if (!j) {
		h->log(h->ctx, KERF_LOG_ERROR, "%s", err.message);
		atomic_fetch_add(&in->decode_errors, 1);
		return NULL;
	}
	char *key = kube_json_key(j);
	if (!apply_object(in, KERF_EVENT_ADDED, j, "list")) {
		free(key);
		key = NULL;
	}
	json_decref(j);
	return key;
}

/*
 * Lists every page and applies the differences; on 0 in->resource_version
 * is the list's.  KERF_E_NOTFOUND when the server does not serve the
 * resource.
 */
static int list_all(struct kube_informer *in, struct kerf_error *err)
{
	struct kube *k = in->k;
	const struct kerf_host *h = k->host;
	struct seen seen = {0};
	char *cont = NULL, *list_rv = NULL;
	int rc = 0;

	atomic_fetch_add(&in->lists, 1);
	do {
		char path[4096];
		struct kerf_http_response *r = NULL;
		int n =
		    snprintf(path, sizeof(path), "%s?limit=%lld%s%s", in->res.path,
			     (long long)k->page_size, cont ? "&continue=" : "", cont ? cont : "");
		if (n < 0 || (size_t)n >= sizeof(path)) {
			rc = kerf_error_set(err, KERF_E_RANGE, "list %s: continue token too long",
					    in->res.name);
			break;
		}
		if ((rc = kube_do(k->client, "GET", path, NULL, NULL, true, &r, err)) != 0)
			break;
		if (r->status == 410 && cont) {
			/* The continue token expired mid-list: start over. */
			h->http_response_free(h->ctx, r);
			free(cont);
			cont = NULL;
			seen_clear(&seen);
			continue;
		}
		char what[256];
		snprintf(what, sizeof(what), "list %s", in->res.name);
		if ((rc = kube_status_error(r, what, err)) != 0) {
			h->http_response_free(h->ctx, r);
			break;
		}
		struct kube_page pg;
		if (r->body_len <= KUBE_MAX_LIST_BYTES &&
		    kube_page_scan(r->body, r->body_len, &pg) == 0) {
			for (size_t i = 0; i < pg.n; i++) {
				char *key = list_item(in, r->body + pg.items[i].off,
						      pg.items[i].len, pg.items[i].typed);
				if (key)
					seen_add(&seen, key);
			}
			free(cont);
			cont = pg.cont && *pg.cont ? xstrdup(pg.cont) : NULL;
			if (pg.resource_version && !cont) {
				free(list_rv);
				list_rv = xstrdup(pg.resource_version);
			}
			kube_page_clear(&pg);
			h->http_response_free(h->ctx, r);
			continue;
		}
		json_t *j = kube_json_parse(what, r->body, r->body_len, KUBE_MAX_LIST_BYTES, err);
		h->http_response_free(h->ctx, r);
		if (!j) {
			rc = KERF_E_PARSE;
			break;
		}
		json_t *items = json_object_get(j, "items");
		json_t *md = json_object_get(j, "metadata");
		if (!json_is_array(items) && !json_is_null(items) && items) {
			json_decref(j);
			rc = kerf_error_set(err, KERF_E_PARSE, "%s: items: not an array", what);
			break;
		}
		size_t i;
		json_t *it;
		json_array_foreach(items, i, it) {
			char *key = kube_json_key(it);
			if (apply_object(in, KERF_EVENT_ADDED, it, "list") && key)
				seen_add(&seen, key);
			else
				free(key);
		}
		free(cont);
		cont = NULL;
		const char *c = json_string_value(json_object_get(md, "continue"));
		if (c && *c)
			cont = xstrdup(c);
		const char *rv = json_string_value(json_object_get(md, "resourceVersion"));
		if (rv && !cont) {
			free(list_rv);
			list_rv = xstrdup(rv);
		}
		json_decref(j);
	} while (cont && !atomic_load(&k->stop));
	free(cont);
	if (rc == 0 && !atomic_load(&k->stop)) {
		/* Deletions the list shows: cached keys it no longer has. */
		/* An empty list has no key array: qsort and bsearch must not see it. */
		if (seen.n)
			qsort(seen.keys, seen.n, sizeof(char *), cmp_str);
		struct seen gone = {0};
		pthread_mutex_lock(&in->lock);
		for (size_t b = 0; b < in->cache.n_buckets; b++)
			for (struct kube_entry *e = in->cache.buckets[b]; e; e = e->next)
				if (!seen.n ||
				    !bsearch(&e->key, seen.keys, seen.n, sizeof(char *), cmp_str))
					seen_add(&gone, xstrdup(e->key));
		pthread_mutex_unlock(&in->lock);
		for (size_t g = 0; g < gone.n; g++) {
			pthread_mutex_lock(&in->lock);
			struct kube_entry *e = kube_cache_take(&in->cache, gone.keys[g]);
			pthread_mutex_unlock(&in->lock);
			if (e)
				deliver_gone(in, e);
		}
		seen_clear(&gone);
		free(in->resource_version);
		in->resource_version = list_rv;
		list_rv = NULL;
	}
	free(list_rv);
	seen_clear(&seen);
	return rc;
}

/* --------------------------------------------------------------- watch */

struct watch_state {
	struct kube_informer *in;
	char *buf;
	size_t len, cap;
	int status;
	bool gone;   /* 410: relist */
	bool failed; /* a bad line or status: reconnect */
	struct kerf_error err;
	unsigned long events; /* lines applied in this stream */
};

static void watch_line(struct watch_state *w, const char *line, size_t len)
{
	struct kube_informer *in = w->in;
	const struct kerf_host *h = in->k->host;
	struct kerf_error err = KERF_ERROR_INIT;
	char what[128];

	snprintf(what, sizeof(what), "watch %s", in->res.name);
	json_t *ev = kube_json_parse(what, line, len, KUBE_MAX_OBJECT_BYTES, &err);
	if (!ev) {
		h->log(h->ctx, KERF_LOG_WARN, "%s", err.message);
		w->failed = true;
		return;
	}
	const char *type = json_string_value(json_object_get(ev, "type"));
	json_t *obj = json_object_get(ev, "object");
	if (!type || !json_is_object(obj)) {
		h->log(h->ctx, KERF_LOG_WARN, "%s: an event without type or object", what);
		w->failed = true;
	} else if (strcmp(type, "ERROR") == 0) {
		json_int_t code = json_integer_value(json_object_get(obj, "code"));
		if (code == 410) {
			w->gone = true;
		} else {
			const char *msg = json_string_value(json_object_get(obj, "message"));
			h->log(h->ctx, KERF_LOG_WARN, "%s: server error %lld: %s", what,
			       (long long)code, msg ? msg : "no message");
			w->failed = true;
		}
	} else if (strcmp(type, "BOOKMARK") == 0) {
		const char *rv = rv_of(obj);
		if (rv) {
			free(in->resource_version);
			in->resource_version = xstrdup(rv);
		}
	} else {
		kerf_event_type t;
		if (strcmp(type, "ADDED") == 0)
			t = KERF_EVENT_ADDED;
		else if (strcmp(type, "MODIFIED") == 0)
			t = KERF_EVENT_MODIFIED;
		else if (strcmp(type, "DELETED") == 0)
			t = KERF_EVENT_DELETED;
		else {
			h->log(h->ctx, KERF_LOG_WARN, "%s: unknown event type %s", what, type);
			json_decref(ev);
			return;
		}
		apply_object(in, t, obj, "watch");
		const char *rv = rv_of(obj);
		if (rv) {
			free(in->resource_version);
			in->resource_version = xstrdup(rv);
		}
		w->events++;
	}
	json_decref(ev);
}

static int watch_data(void *arg, int status, const char *data, size_t len)
{
	struct watch_state *w = arg;

	w->status = status;
	if (atomic_load(&w->in->k->stop))
		return 1;
	if (status != 200) {
		/* An error status's body is one Status object: keep it for the message. */
		if (w->len + len <= 65536) {
			if (w->len + len + 1 > w->cap) {
				w->cap = w->len + len + 1;
				w->buf = realloc(w->buf, w->cap);
				if (!w->buf)
					abort();
			}
			memcpy(w->buf + w->len, data, len);
			w->len += len;
		}
		return 0;
	}
	while (len > 0) {
		const char *nl = memchr(data, '\n', len);
		size_t take = nl ? (size_t)(nl - data) : len;
		if (w->len + take > WATCH_LINE_MAX) {
			w->failed = true;
			kerf_error_set(&w->err, KERF_E_RANGE, "watch %s: an event above %zu bytes",
				       w->in->res.name, WATCH_LINE_MAX);
			return 1;
		}
		if (w->len + take + 1 > w->cap) {
			w->cap = (w->len + take + 1) * 2;
			w->buf = realloc(w->buf, w->cap);
			if (!w->buf)
				abort();
		}
		memcpy(w->buf + w->len, data, take);
		w->len += take;
		if (!nl)
			break;
		if (w->len > 0)
			watch_line(w, w->buf, w->len);
		w->len = 0;
		data += take + 1;
		len -= take + 1;
		if (w->gone || w->failed)
			return 1;
	}
	return 0;
}

/* One watch stream; sets *gone when the informer must relist. */
static int watch_once(struct kube_informer *in, bool *gone, struct kerf_error *err)
{
	struct kube *k = in->k;
	const struct kerf_host *h = k->host;
	struct watch_state w = {.in = in, .err = KERF_ERROR_INIT};
	char path[1024];
	int64_t timeout_s = k->watch_timeout_ms / 1000;

	snprintf(path, sizeof(path),
		 "%s?watch=1&resourceVersion=%s&allowWatchBookmarks=true&timeoutSeconds=%lld",
		 in->res.path, in->resource_version ? in->resource_version : "",
		 (long long)timeout_s);
	atomic_fetch_add(&in->watches, 1);
	/* The client's own deadline is a little after the server's, which ends streams cleanly. */
	int rc = kube_stream(k->client, path, k->watch_timeout_ms + 30000, watch_data, &w, err);
	if (rc == 0 && w.status == 410)
		w.gone = true;
	else if (rc == 0 && w.status != 200 && !atomic_load(&k->stop)) {
		struct kerf_http_response r = {
		    .status = w.status, .body = w.buf, .body_len = w.len};
		char what[128];
		snprintf(what, sizeof(what), "watch %s", in->res.name);
		rc = kube_status_error(&r, what, err);
	} else if (rc == 0 && w.failed && w.err.code) {
		*err = w.err;
		rc = w.err.code;
	}
	if (rc == 0 && w.len > 0 && !w.gone && !w.failed)
		/* A stream cut mid-event: what arrived of the event is dropped, and the
		 * next watch from the last complete event's resourceVersion has it again. */
		h->log(h->ctx, KERF_LOG_DEBUG, "watch %s: stream ended inside an event",
		       in->res.name);
	free(w.buf);
	*gone = w.gone;
	return rc;
}

/* -------------------------------------------------------------- thread */

static void signal_synced(struct kube_informer *in, int rc, const struct kerf_error *err)
{
	struct kube *k = in->k;
	pthread_mutex_lock(&k->sync_lock);
	in->synced = true;
	in->start_rc = rc;
	if (rc && err)
		in->start_err = *err;
	pthread_cond_broadcast(&k->sync_cond);
	pthread_mutex_unlock(&k->sync_lock);
}

static void *informer_main(void *arg)
{
	struct kube_informer *in = arg;
	struct kube *k = in->k;
	const struct kerf_host *h = k->host;
	int64_t backoff = 0;
	bool need_list = true, first = true;

	while (!atomic_load(&k->stop)) {
		struct kerf_error err = KERF_ERROR_INIT;
		int rc;

		if (need_list) {
			rc = list_all(in, &err);
			if (rc == KERF_E_NOTFOUND && !in->res.required) {
				/* Not served here (no Karpenter CRDs, say): an empty, synced kind.
				 */
				h->log(h->ctx, first ? KERF_LOG_WARN : KERF_LOG_DEBUG,
				       "%s: not served by this API server; kerf sees none",
				       in->res.path);
				if (first) {
					kube_deliver(k, KERF_EVENT_SYNCED, in->res.kind, NULL);
					signal_synced(in, 0, NULL);
					first = false;
				}
				kube_sleep(&k->stop, BACKOFF_MAX_MS);
				continue;
			}
			if (rc) {
				if (first) {
					signal_synced(in, rc, &err);
					return NULL;
				}
				h->log(h->ctx, KERF_LOG_WARN, "%s", err.message);
				backoff = backoff ? backoff * 2 : BACKOFF_MIN_MS;
				if (backoff > BACKOFF_MAX_MS)
					backoff = BACKOFF_MAX_MS;
				kube_sleep(&k->stop, backoff);
				continue;
			}
			if (first) {
				kube_deliver(k, KERF_EVENT_SYNCED, in->res.kind, NULL);
				signal_synced(in, 0, NULL);
				first = false;
			} else {
				atomic_fetch_add(&in->relists, 1);
			}
			need_list = false;
		}
		bool gone = false;
		rc = watch_once(in, &gone, &err);
		if (atomic_load(&k->stop))
			break;
		if (gone) {
			h->log(h->ctx, KERF_LOG_INFO,
			       "watch %s: resourceVersion %s is gone (410): listing again",
			       in->res.name, in->resource_version ? in->resource_version : "");
			need_list = true;
			continue;
		}
		if (rc) {
			h->log(h->ctx, KERF_LOG_WARN, "%s", err.message);
			backoff = backoff ? backoff * 2 : BACKOFF_MIN_MS;
			if (backoff > BACKOFF_MAX_MS)
				backoff = BACKOFF_MAX_MS;
			kube_sleep(&k->stop, backoff);
		} else {
			backoff = 0;
		}
	}
	if (first)
		signal_synced(in, KERF_E_TIMEOUT, NULL);
	return NULL;
}

static const struct kube_resource resources[KUBE_N_RESOURCES] = {
    /* The order start() lists in: what pods and claims refer to first. */
    {KERF_OBJ_NODE_CLASS, "ec2nodeclasses", "/apis/karpenter.k8s.aws/v1/ec2nodeclasses",
     "karpenter.k8s.aws/v1", "EC2NodeClass", false},
    {KERF_OBJ_NODEPOOL, "nodepools", "/apis/karpenter.sh/v1/nodepools", "karpenter.sh/v1",
     "NodePool", false},
    {KERF_OBJ_NODECLAIM, "nodeclaims", "/apis/karpenter.sh/v1/nodeclaims", "karpenter.sh/v1",
     "NodeClaim", false},
    {KERF_OBJ_NODE, "nodes", "/api/v1/nodes", "v1", "Node", true},
    {KERF_OBJ_DAEMONSET, "daemonsets", "/apis/apps/v1/daemonsets", "apps/v1", "DaemonSet", false},
    {KERF_OBJ_POD, "pods", "/api/v1/pods", "v1", "Pod", true},
};

struct kube_informer *kube_informer_of(struct kube *k, kerf_object_kind kind)
{
	for (size_t i = 0; i < k->n_informers; i++)
		if (k->informers[i].res.kind == kind)
			return &k->informers[i];
	return NULL;
}

int kube_informers_start(struct kube *k, struct kerf_error *err)
{
	int rc = 0;

	k->n_informers = KUBE_N_RESOURCES;
	for (size_t i = 0; i < k->n_informers; i++) {
		struct kube_informer *in = &k->informers[i];
		in->k = k;
		in->res = resources[i];
		pthread_mutex_init(&in->lock, NULL);
		kube_cache_init(&in->cache);
		in->start_err = (struct kerf_error)KERF_ERROR_INIT;
	}
	for (size_t i = 0; i < k->n_informers; i++) {
		struct kube_informer *in = &k->informers[i];
		if (pthread_create(&in->thread, NULL, informer_main, in) != 0) {
			atomic_store(&k->stop, true);
			return kerf_error_set(err, KERF_E_INTERNAL, "kube: cannot start a thread");
		}
		in->started = true;
	}
	pthread_mutex_lock(&k->sync_lock);
	for (size_t i = 0; i < k->n_informers; i++) {
		struct kube_informer *in = &k->informers[i];
		while (!in->synced)
			pthread_cond_wait(&k->sync_cond, &k->sync_lock);
		if (in->start_rc && rc == 0) {
			rc = in->start_rc;
			if (err)
				kerf_error_set(err, rc, "%s", in->start_err.message);
		}
	}
	pthread_mutex_unlock(&k->sync_lock);
	return rc;
}

void kube_informers_stop(struct kube *k)
{
	atomic_store(&k->stop, true);
	__atomic_store_n(&k->cancel, 1, __ATOMIC_RELAXED);
	for (size_t i = 0; i < k->n_informers; i++) {
		struct kube_informer *in = &k->informers[i];
		if (in->started)
			pthread_join(in->thread, NULL);
		kube_cache_clear(&in->cache, in->res.kind);
		free(in->resource_version);
		pthread_mutex_destroy(&in->lock);
	}
	k->n_informers = 0;
}
