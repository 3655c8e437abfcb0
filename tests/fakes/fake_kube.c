/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fake_kube.c - a loopback fake Kubernetes API server on libmicrohttpd.
 *
 * Layout: the served resources (a static table), the object store (one
 * hash map per stored resource, objects immutable once stored so lists,
 * snapshots and the event history share them by reference), the event
 * history watches replay, certificates made with libcrypto, and the HTTP
 * layer (thread per connection, so an open watch blocks only its own
 * thread).
 */
#include "fake_kube.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "util.h"

#if MHD_VERSION >= 0x00097002
#define FAKE_MHD_RESULT enum MHD_Result
#else
#define FAKE_MHD_RESULT int
#endif

/* kube-apiserver's own limit on a request body (3 MiB). */
#define KUBE_MAX_BODY (3u * 1024u * 1024u)
/* Events kept for watches to resume from; beyond this the oldest are
 * compacted away, as etcd's periodic compaction would. */
#define KUBE_HISTORY_MAX 262144u
/* Paginated lists kept for their continue tokens. */
#define KUBE_SNAPSHOTS 32
/* How often a waiting watch looks whether its client went away. */
#define KUBE_POLL_MS 200

/* ------------------------------------------------------------ resources */

struct kres {
	const char *group; /* "" for the core group */
	const char *version;
	const char *plural;
	const char *singular;
	const char *kind;
	const char *short_name; /* NULL: none */
	bool namespaced;
	bool status; /* has a status subresource */
	int store;   /* index of the resource whose store it shares */
	bool custom; /* a custom resource: list items keep apiVersion and kind */
};

enum {
	R_POD,
	R_NODE,
	R_EVENT,
	R_NAMESPACE,
	R_PVC,
	R_DAEMONSET,
	R_PDB,
	R_PDB_BETA,
	R_LEASE,
	R_NODEPOOL,
	R_NODECLAIM,
	R_EC2NODECLASS,
	R_STORAGECLASS,
	R_SERVICEACCOUNT,
	R_CONFIGMAP,
	R_DEPLOYMENT,
	R_CLUSTERROLE,
	R_CLUSTERROLEBINDING,
	R_ROLE,
	R_ROLEBINDING,
	R_COUNT
};

static const struct kres kres_table[R_COUNT] = {
    [R_POD] = {"", "v1", "pods", "pod", "Pod", "po", true, true, R_POD, false},
    [R_NODE] = {"", "v1", "nodes", "node", "Node", "no", false, true, R_NODE, false},
    [R_EVENT] = {"", "v1", "events", "event", "Event", "ev", true, false, R_EVENT, false},
    [R_NAMESPACE] = {"", "v1", "namespaces", "namespace", "Namespace", "ns", false, true,
		     R_NAMESPACE, false},
    [R_PVC] = {"", "v1", "persistentvolumeclaims", "persistentvolumeclaim", "PersistentVolumeClaim",
	       "pvc", true, true, R_PVC, false},
    [R_DAEMONSET] = {"apps", "v1", "daemonsets", "daemonset", "DaemonSet", "ds", true, true,
		     R_DAEMONSET, false},
    [R_PDB] = {"policy", "v1", "poddisruptionbudgets", "poddisruptionbudget", "PodDisruptionBudget",
	       "pdb", true, true, R_PDB, false},
    [R_PDB_BETA] = {"policy", "v1beta1", "poddisruptionbudgets", "poddisruptionbudget",
		    "PodDisruptionBudget", "pdb", true, true, R_PDB, false},
    [R_LEASE] = {"coordination.k8s.io", "v1", "leases", "lease", "Lease", NULL, true, false,
		 R_LEASE, false},
    [R_NODEPOOL] = {"karpenter.sh", "v1", "nodepools", "nodepool", "NodePool", NULL, false, true,
		    R_NODEPOOL, true},
    [R_NODECLAIM] = {"karpenter.sh", "v1", "nodeclaims", "nodeclaim", "NodeClaim", NULL, false,
		     true, R_NODECLAIM, true},
    [R_EC2NODECLASS] = {"karpenter.k8s.aws", "v1", "ec2nodeclasses", "ec2nodeclass", "EC2NodeClass",
			"ec2nc", false, true, R_EC2NODECLASS, true},
    [R_STORAGECLASS] = {"storage.k8s.io", "v1", "storageclasses", "storageclass", "StorageClass",
			"sc", false, false, R_STORAGECLASS, false},
    /* What deploy/ holds, so kubectl apply -f deploy/ can be tried on the fake. */
    [R_SERVICEACCOUNT] = {"", "v1", "serviceaccounts", "serviceaccount", "ServiceAccount", "sa",
			  true, false, R_SERVICEACCOUNT, false},
    [R_CONFIGMAP] = {"", "v1", "configmaps", "configmap", "ConfigMap", "cm", true, false,
		     R_CONFIGMAP, false},
    [R_DEPLOYMENT] = {"apps", "v1", "deployments", "deployment", "Deployment", "deploy", true, true,
		      R_DEPLOYMENT, false},
    [R_CLUSTERROLE] = {"rbac.authorization.k8s.io", "v1", "clusterroles", "clusterrole",
		       "ClusterRole", NULL, false, false, R_CLUSTERROLE, false},
    [R_CLUSTERROLEBINDING] = {"rbac.authorization.k8s.io", "v1", "clusterrolebindings",
			      "clusterrolebinding", "ClusterRoleBinding", NULL, false, false,
			      R_CLUSTERROLEBINDING, false},
    [R_ROLE] = {"rbac.authorization.k8s.io", "v1", "roles", "role", "Role", NULL, true, false,
		R_ROLE, false},
    [R_ROLEBINDING] = {"rbac.authorization.k8s.io", "v1", "rolebindings", "rolebinding",
		       "RoleBinding", NULL, true, false, R_ROLEBINDING, false},
};

static void kres_gv(const struct kres *r, char *buf, size_t n)
{
	if (r->group[0])
		snprintf(buf, n, "%s/%s", r->group, r->version);
	else
		snprintf(buf, n, "%s", r->version);
}

/* ------------------------------------------------------------ types */

struct kobj {
	char *key; /* "namespace/name" ("/name" cluster-scoped); the map borrows it */
	json_t *obj;
};

struct kevent {
	unsigned long long rv;
	int store;
	const char *type; /* ADDED, MODIFIED, DELETED */
	json_t *obj;
};

struct ksnap {
	unsigned long id;
	unsigned long long rv;
	json_t *items; /* the full filtered list, in key order */
};

struct krule {
	char *method, *prefix;
	int status, retry_after;
	int times;
	char *content_type; /* non-NULL: a raw body instead of a Status */
	char *body;
};

struct kreq {
	char *method;
	char *path;
};

struct kwatch;

struct fake_kube {
	struct MHD_Daemon *daemon;
	unsigned port;
	char url[64];
	bool tls, client_certs;
	char *token;
	char *dir;
	bool own_dir;
	char *ca_file, *cert_file, *key_file, *client_cert_file, *client_key_file, *kubeconfig;

	pthread_mutex_t lock;
	pthread_cond_t cond; /* new events, drops, bookmarks, stopping; CLOCK_MONOTONIC */
	bool stopping;

	struct hmap stores[R_COUNT]; /* key -> struct kobj */
	unsigned long long rv;
	unsigned long long compacted_rv;

	struct kevent *hist;
	size_t hist_n, hist_cap;
	size_t hist_base;	       /* absolute index of hist[0] */
	unsigned long long hist_floor; /* events after this rv are all in hist */

	struct ksnap snaps[KUBE_SNAPSHOTS];
	unsigned long next_snap;

	struct krule *rules;
	size_t n_rules;
	int delay_ms;
	uint32_t rnd;
	int per_mille;
	uint64_t uid_seq;

	struct kreq *reqs;
	size_t n_reqs, cap_reqs;

	unsigned drop_gen, bookmark_gen;
	unsigned open_watches;
	bool hidden[R_COUNT];
	char *pem[3]; /* the server's certificate, key and CA, which MHD borrows */
};

/* ------------------------------------------------------------ small helpers */

static void deadline_in(struct timespec *ts, int ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static void now_rfc3339(char *buf, size_t n, long plus_s)
{
	time_t t = time(NULL) + plus_s;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* xorshift32: random faults repeat for a seed, whatever libc's rand does. */
static uint32_t rnd_next(struct fake_kube *f)
{
	uint32_t x = f->rnd ? f->rnd : 0x9e3779b9u;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	f->rnd = x;
	return x;
}

static bool str_is(const json_t *v, const char *s)
{
	return json_is_string(v) && strcmp(json_string_value(v), s) == 0;
}

static const char *meta_str(const json_t *obj, const char *field)
{
	return json_string_value(json_object_get(json_object_get(obj, "metadata"), field));
}

static json_t *meta_of(json_t *obj)
{
	json_t *m = json_object_get(obj, "metadata");
	if (!json_is_object(m)) {
		m = json_object();
		json_object_set_new(obj, "metadata", m);
	}
	return m;
}

static char *obj_key(const char *ns, const char *name)
{
	struct strbuf sb;
	sb_init(&sb);
	sb_printf(&sb, "%s/%s", ns ? ns : "", name);
	return sb_detach(&sb);
}

static const char *reason_for(int code)
{
	switch (code) {
	case 400:
		return "BadRequest";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "NotFound";
	case 405:
		return "MethodNotAllowed";
	case 406:
		return "NotAcceptable";
	case 409:
		return "Conflict";
	case 410:
		return "Expired";
	case 413:
		return "RequestEntityTooLarge";
	case 415:
		return "UnsupportedMediaType";
	case 422:
		return "Invalid";
	case 429:
		return "TooManyRequests";
	case 503:
		return "ServiceUnavailable";
	case 504:
		return "Timeout";
	default:
		return "InternalError";
	}
}

/* A metav1.Status as kube-apiserver answers failures. */
static json_t *kstatus(int code, const char *reason, json_t *details, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static json_t *kstatus(int code, const char *reason, json_t *details, const char *fmt, ...)
{
	struct strbuf sb;
	sb_init(&sb);
	va_list ap;
	va_start(ap, fmt);
	sb_vprintf(&sb, fmt, ap);
	va_end(ap);
	json_t *s = json_pack("{s:s, s:s, s:{}, s:s, s:s, s:s, s:i}", "kind", "Status",
			      "apiVersion", "v1", "metadata", "status", "Failure", "message",
			      sb.buf, "reason", reason ? reason : reason_for(code), "code", code);
	if (details)
		json_object_set_new(s, "details", details);
	sb_free(&sb);
	return s;
}

static json_t *not_found(const struct kres *r, const char *name)
{
	return kstatus(
	    404, "NotFound",
	    json_pack("{s:s, s:s, s:s}", "name", name, "group", r->group, "kind", r->plural),
	    "%s%s%s \"%s\" not found", r->plural, r->group[0] ? "." : "", r->group, name);
}

static json_t *conflict(const struct kres *r, const char *name)
{
	return kstatus(
	    409, "Conflict",
	    json_pack("{s:s, s:s, s:s}", "name", name, "group", r->group, "kind", r->plural),
	    "Operation cannot be fulfilled on %s%s%s \"%s\": the object has been "
	    "modified; please apply your changes to the latest version and try again",
	    r->plural, r->group[0] ? "." : "", r->group, name);
}

/* ------------------------------------------------------------ selectors */

enum sel_op { SEL_EQ, SEL_NE, SEL_EXISTS, SEL_NOT_EXISTS, SEL_IN, SEL_NOT_IN };

struct sel_term {
	char *key;
	enum sel_op op;
	char **vals;
	size_t n_vals;
};

struct sel {
	struct sel_term *terms;
	size_t n;
};

static void sel_free(struct sel *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++) {
		free(s->terms[i].key);
		for (size_t j = 0; j < s->terms[i].n_vals; j++)
			free(s->terms[i].vals[j]);
		free(s->terms[i].vals);
	}
	free(s->terms);
	free(s);
}

static char *trim_dup(const char *a, const char *b)
{
	while (a < b && (*a == ' ' || *a == '\t'))
		a++;
	while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
		b--;
	return xstrndup(a, (size_t)(b - a));
}

/* Parses a label or field selector ("a=b,c!=d,e,!f,g in (x,y),h notin (z)").
 * NULL for an empty one; *bad set on a syntax error. */
static struct sel *sel_parse(const char *text, bool *bad)
{
	*bad = false;
	if (!text || !*text)
		return NULL;
	struct sel *s = xcalloc(1, sizeof(*s));
	const char *p = text;
	while (*p) {
		/* A term ends at a comma outside parentheses. */
		const char *e = p;
		int depth = 0;
		while (*e && (depth > 0 || *e != ',')) {
			if (*e == '(')
				depth++;
			else if (*e == ')')
				depth--;
			e++;
		}
		struct sel_term t = {0};
		char *term = trim_dup(p, e);
		char *q;
		if (term[0] == '!') {
			t.op = SEL_NOT_EXISTS;
			t.key = trim_dup(term + 1, term + strlen(term));
		} else if ((q = strstr(term, "!=")) != NULL) {
			t.op = SEL_NE;
			t.key = trim_dup(term, q);
			t.vals = xcalloc(1, sizeof(char *));
			t.vals[t.n_vals++] = trim_dup(q + 2, term + strlen(term));
		} else if ((q = strstr(term, " notin ")) != NULL ||
			   (q = strstr(term, " in ")) != NULL) {
			bool notin = strncmp(q, " notin ", 7) == 0;
			t.op = notin ? SEL_NOT_IN : SEL_IN;
			t.key = trim_dup(term, q);
			const char *open = strchr(q, '(');
			const char *close = open ? strchr(open, ')') : NULL;
			if (!open || !close) {
				*bad = true;
			} else {
				const char *v = open + 1;
				while (v <= close) {
					const char *c = v;
					while (c < close && *c != ',')
						c++;
					xpush(t.vals, t.n_vals, trim_dup(v, c));
					v = c + 1;
				}
			}
		} else if ((q = strchr(term, '=')) != NULL) {
			t.op = SEL_EQ;
			t.key = trim_dup(term, q);
			const char *v = q + 1;
			if (*v == '=')
				v++;
			t.vals = xcalloc(1, sizeof(char *));
			t.vals[t.n_vals++] = trim_dup(v, term + strlen(term));
		} else {
			t.op = SEL_EXISTS;
			t.key = xstrdup(term);
		}
		free(term);
		if (!t.key[0])
			*bad = true;
		xpush(s->terms, s->n, t);
		p = *e ? e + 1 : e;
	}
	return s;
}

/* A field's string form for a field selector ("metadata.name", "spec.nodeName"). */
static const char *field_value(const json_t *obj, const char *path)
{
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", path);
	const json_t *cur = obj;
	char *save = NULL;
	for (char *seg = strtok_r(buf, ".", &save); seg; seg = strtok_r(NULL, ".", &save))
		cur = json_object_get(cur, seg);
	if (json_is_string(cur))
		return json_string_value(cur);
	if (json_is_true(cur))
		return "true";
	if (json_is_false(cur))
		return "false";
	return NULL;
}

static bool sel_matches(const struct sel *s, const json_t *obj, bool fields)
{
	if (!s)
		return true;
	const json_t *labels = json_object_get(json_object_get(obj, "metadata"), "labels");
	for (size_t i = 0; i < s->n; i++) {
		const struct sel_term *t = &s->terms[i];
		const char *v = fields ? field_value(obj, t->key)
				       : json_string_value(json_object_get(labels, t->key));
		if (fields && !v)
			v = ""; /* an unset field compares as empty, as the apiserver's do */
		bool in = false;
		for (size_t j = 0; v && j < t->n_vals; j++)
			in = in || strcmp(v, t->vals[j]) == 0;
		bool ok;
		switch (t->op) {
		case SEL_EQ:
		case SEL_IN:
			ok = in;
			break;
		case SEL_NE:
		case SEL_NOT_IN:
			ok = !in;
			break;
		case SEL_EXISTS:
			ok = v != NULL;
			break;
		default:
			ok = v == NULL;
			break;
		}
		if (!ok)
			return false;
	}
	return true;
}

/* ------------------------------------------------------------ store (lock held) */

static int kres_find(const char *api_version, const char *kind)
{
	if (!api_version || !kind)
		return -1;
	for (int i = 0; i < R_COUNT; i++) {
		char gv[96];
		kres_gv(&kres_table[i], gv, sizeof(gv));
		if (strcmp(gv, api_version) == 0 && strcmp(kres_table[i].kind, kind) == 0)
			return i;
	}
	return -1;
}

static struct kobj *store_find(struct fake_kube *f, int store, const char *ns, const char *name)
{
	char *key = obj_key(ns, name);
	struct kobj *o = hmap_get_str(&f->stores[store], key);
	free(key);
	return o;
}

static void hist_trim(struct fake_kube *f, size_t n)
{
	if (n > f->hist_n)
		n = f->hist_n;
	if (n == 0)
		return;
	for (size_t i = 0; i < n; i++)
		json_decref(f->hist[i].obj);
	f->hist_floor = f->hist[n - 1].rv;
	memmove(f->hist, f->hist + n, (f->hist_n - n) * sizeof(*f->hist));
	f->hist_n -= n;
	f->hist_base += n;
}

/*
 * Stores obj (stolen) under a new resourceVersion and records the event:
 * DELETED removes the object, anything else replaces it.
 */
static void store_commit(struct fake_kube *f, int store, const char *type, json_t *obj)
{
	char rvbuf[32];
	snprintf(rvbuf, sizeof(rvbuf), "%llu", ++f->rv);
	json_object_set_new(meta_of(obj), "resourceVersion", json_string(rvbuf));
	char *key = obj_key(kres_table[store].namespaced ? meta_str(obj, "namespace") : NULL,
			    meta_str(obj, "name"));
	struct kobj *o = hmap_get_str(&f->stores[store], key);
	if (strcmp(type, "DELETED") == 0) {
		if (o) {
			hmap_del_str(&f->stores[store], key);
			free(o->key);
			json_decref(o->obj);
			free(o);
		}
		free(key);
	} else if (o) {
		json_decref(o->obj);
		o->obj = json_incref(obj);
		free(key);
	} else {
		o = xcalloc(1, sizeof(*o));
		o->key = key;
		o->obj = json_incref(obj);
		hmap_set_str(&f->stores[store], o->key, o);
	}
	if (f->hist_n == KUBE_HISTORY_MAX)
		hist_trim(f, KUBE_HISTORY_MAX / 4);
	xgrow(f->hist, f->hist_cap, f->hist_n + 1);
	f->hist[f->hist_n++] = (struct kevent){f->rv, store, type, obj};
	pthread_cond_broadcast(&f->cond);
}

static void new_uid(struct fake_kube *f, char *buf, size_t n)
{
	uint64_t s = ++f->uid_seq;
	uint32_t r = rnd_next(f);
	snprintf(buf, n, "%08" PRIx32 "-%04x-4%03x-8%03x-%012" PRIx64, r,
		 (unsigned)(s >> 32) & 0xffff, (unsigned)(s >> 20) & 0xfff,
		 (unsigned)(s >> 8) & 0xfff, (uint64_t)(s & 0xffffffffffffull));
}

/* Fills what the apiserver sets on creation. */
static void stamp_new(struct fake_kube *f, int res, json_t *obj)
{
	json_t *m = meta_of(obj);
	char buf[64];
	new_uid(f, buf, sizeof(buf));
	json_object_set_new(m, "uid", json_string(buf));
	now_rfc3339(buf, sizeof(buf), 0);
	json_object_set_new(m, "creationTimestamp", json_string(buf));
	/* Pods and nodes have no generation; workloads and custom resources do. */
	if (kres_table[res].custom || res == R_DAEMONSET || res == R_PDB || res == R_DEPLOYMENT)
		json_object_set_new(m, "generation", json_integer(1));
	if (res == R_POD) {
		json_t *st = json_object_get(obj, "status");
		if (!json_is_object(st)) {
			st = json_object();
			json_object_set_new(obj, "status", st);
		}
		if (!json_object_get(st, "phase"))
			json_object_set_new(st, "phase", json_string("Pending"));
	}
}

static bool has_finalizers(const json_t *obj)
{
	return json_array_size(json_object_get(json_object_get(obj, "metadata"), "finalizers")) > 0;
}

/* ------------------------------------------------------------ public store API */

int fake_kube_put(struct fake_kube *f, const char *json_text)
{
	json_t *obj = json_loads(json_text, 0, NULL);
	if (!json_is_object(obj)) {
		json_decref(obj);
		return -1;
	}
	int res = kres_find(json_string_value(json_object_get(obj, "apiVersion")),
			    json_string_value(json_object_get(obj, "kind")));
	const char *name = meta_str(obj, "name");
	if (res < 0 || !name || !*name) {
		json_decref(obj);
		return -1;
	}
	const struct kres *r = &kres_table[res];
	if (r->namespaced && !meta_str(obj, "namespace"))
		json_object_set_new(meta_of(obj), "namespace", json_string("default"));
	if (!r->namespaced)
		json_object_del(meta_of(obj), "namespace");
	if (r->store != res) { /* stored under the preferred version */
		char gv[96];
		kres_gv(&kres_table[r->store], gv, sizeof(gv));
		json_object_set_new(obj, "apiVersion", json_string(gv));
	}
	pthread_mutex_lock(&f->lock);
	struct kobj *old =
	    store_find(f, r->store, r->namespaced ? meta_str(obj, "namespace") : NULL, name);
	if (old) {
		json_t *om = json_object_get(old->obj, "metadata");
		json_t *m = meta_of(obj);
		if (!json_object_get(m, "uid"))
			json_object_set(m, "uid", json_object_get(om, "uid"));
		if (!json_object_get(m, "creationTimestamp"))
			json_object_set(m, "creationTimestamp",
					json_object_get(om, "creationTimestamp"));
	} else {
		json_t *m = meta_of(obj);
		json_t *uid = json_incref(json_object_get(m, "uid"));
		stamp_new(f, r->store, obj);
		if (uid)
			json_object_set_new(m, "uid", uid);
	}
	store_commit(f, r->store, old ? "MODIFIED" : "ADDED", obj);
	pthread_mutex_unlock(&f->lock);
	return 0;
}

/* Removes an object, or marks it for deletion while finalizers remain. */
static json_t *delete_locked(struct fake_kube *f, int store, struct kobj *o)
{
	json_t *obj = json_deep_copy(o->obj);
	if (has_finalizers(obj)) {
		if (!meta_str(obj, "deletionTimestamp")) {
			char ts[64];
			now_rfc3339(ts, sizeof(ts), 0);
			json_object_set_new(meta_of(obj), "deletionTimestamp", json_string(ts));
			json_object_set_new(meta_of(obj), "deletionGracePeriodSeconds",
					    json_integer(0));
			store_commit(f, store, "MODIFIED", json_incref(obj));
		}
		return obj;
	}
	store_commit(f, store, "DELETED", json_incref(obj));
	return obj;
}

int fake_kube_delete(struct fake_kube *f, const char *api_version, const char *kind,
		     const char *namespace_, const char *name)
{
	int res = kres_find(api_version, kind);
	if (res < 0 || !name)
		return -1;
	const struct kres *r = &kres_table[res];
	pthread_mutex_lock(&f->lock);
	struct kobj *o = store_find(
	    f, r->store, r->namespaced ? (namespace_ ? namespace_ : "default") : NULL, name);
	int rc = -1;
	if (o) {
		/* No grace period here: the test stands in for a kubelet, so a
		 * terminating pod goes; finalizers still hold an object. */
		json_decref(delete_locked(f, r->store, o));
		rc = 0;
	}
	pthread_mutex_unlock(&f->lock);
	return rc;
}

/* A copy for a client of resource res (the alias's apiVersion). */
static json_t *out_copy(int res, const json_t *obj)
{
	json_t *c = json_deep_copy(obj);
	const struct kres *r = &kres_table[res];
	if (r->store != res) {
		char gv[96];
		kres_gv(r, gv, sizeof(gv));
		json_object_set_new(c, "apiVersion", json_string(gv));
	}
	return c;
}

json_t *fake_kube_get(struct fake_kube *f, const char *api_version, const char *kind,
		      const char *namespace_, const char *name)
{
	int res = kres_find(api_version, kind);
	if (res < 0 || !name)
		return NULL;
	const struct kres *r = &kres_table[res];
	pthread_mutex_lock(&f->lock);
	struct kobj *o = store_find(
	    f, r->store, r->namespaced ? (namespace_ ? namespace_ : "default") : NULL, name);
	json_t *c = o ? out_copy(res, o->obj) : NULL;
	pthread_mutex_unlock(&f->lock);
	return c;
}

static int cmp_items(const void *a, const void *b)
{
	const struct kobj *x = *(const struct kobj *const *)a, *y = *(const struct kobj *const *)b;
	return strcmp(x->key, y->key);
}

/* The store's objects matching the filters, in key order (new array of
 * shared references). */
static json_t *collect_locked(struct fake_kube *f, int store, const char *ns,
			      const struct sel *labels, const struct sel *fields)
{
	const struct hmap *m = &f->stores[store];
	struct kobj **v = xcalloc(m->n + 1, sizeof(*v));
	size_t n = 0;
	for (size_t i = 0; i < m->cap; i++) {
		struct kobj *o = m->slots[i].key ? m->slots[i].val : NULL;
		if (!o)
			continue;
		if (ns && strcmp(ns, meta_str(o->obj, "namespace") ? meta_str(o->obj, "namespace")
								   : "") != 0)
			continue;
		if (!sel_matches(labels, o->obj, false) || !sel_matches(fields, o->obj, true))
			continue;
		v[n++] = o;
	}
	qsort(v, n, sizeof(*v), cmp_items);
	/*
	 * Copies, not references: the caller drops the array outside the lock,
	 * and jansson's reference counts are not safe to share across threads.
	 */
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_deep_copy(v[i]->obj));
	free(v);
	return a;
}

json_t *fake_kube_list(struct fake_kube *f, const char *api_version, const char *kind)
{
	int res = kres_find(api_version, kind);
	if (res < 0)
		return json_array();
	pthread_mutex_lock(&f->lock);
	json_t *shared = collect_locked(f, kres_table[res].store, NULL, NULL, NULL);
	json_t *a = json_array();
	size_t i;
	json_t *o;
	json_array_foreach(shared, i, o)
		json_array_append_new(a, out_copy(res, o));
	pthread_mutex_unlock(&f->lock);
	json_decref(shared);
	return a;
}

/* ------------------------------------------------------------ certificates */

static EVP_PKEY *key_new(void)
{
	return EVP_EC_gen("P-256");
}

static bool add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (!ext)
		return false;
	bool ok = X509_add_ext(cert, ext, -1) == 1;
	X509_EXTENSION_free(ext);
	return ok;
}

/* A certificate for key, signed by issuer_key (self-signed when issuer is NULL). */
static X509 *cert_new(EVP_PKEY *key, const char *cn, const char *org, X509 *issuer,
		      EVP_PKEY *issuer_key, long serial, bool ca, bool server)
{
	X509 *c = X509_new();
	bool ok = c && X509_set_version(c, 2) == 1;
	ok = ok && ASN1_INTEGER_set(X509_get_serialNumber(c), serial) == 1;
	/* Backdated a little so a client's clock skew does not matter. */
	ok = ok && X509_gmtime_adj(X509_getm_notBefore(c), -3600) != NULL;
	ok = ok && X509_gmtime_adj(X509_getm_notAfter(c), 7L * 24 * 3600) != NULL;
	X509_NAME *name = X509_get_subject_name(c);
	if (ok && org)
		ok = X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)org,
						-1, -1, 0) == 1;
	ok = ok && X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn,
					      -1, -1, 0) == 1;
	ok = ok && X509_set_issuer_name(c, issuer ? X509_get_subject_name(issuer) : name) == 1;
	ok = ok && X509_set_pubkey(c, key) == 1;
	X509 *iss = issuer ? issuer : c;
	if (ca) {
		ok = ok && add_ext(c, iss, NID_basic_constraints, "critical,CA:TRUE");
		ok = ok && add_ext(c, iss, NID_key_usage,
				   "critical,keyCertSign,cRLSign,digitalSignature");
		ok = ok && add_ext(c, iss, NID_subject_key_identifier, "hash");
	} else {
		ok = ok && add_ext(c, iss, NID_basic_constraints, "critical,CA:FALSE");
		ok = ok &&
		     add_ext(c, iss, NID_key_usage, "critical,digitalSignature,keyEncipherment");
		ok = ok && add_ext(c, iss, NID_ext_key_usage, server ? "serverAuth" : "clientAuth");
		ok = ok && add_ext(c, iss, NID_authority_key_identifier, "keyid:always");
		if (server)
			ok = ok &&
			     add_ext(c, iss, NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost");
	}
	ok = ok && X509_sign(c, issuer_key ? issuer_key : key, EVP_sha256()) > 0;
	if (!ok) {
		X509_free(c);
		return NULL;
	}
	return c;
}

static char *bio_text(BIO *b)
{
	char *data = NULL;
	long n = BIO_get_mem_data(b, &data);
	char *s = xstrndup(data ? data : "", n > 0 ? (size_t)n : 0);
	BIO_free(b);
	return s;
}

static char *cert_pem(X509 *c)
{
	BIO *b = BIO_new(BIO_s_mem());
	PEM_write_bio_X509(b, c);
	return bio_text(b);
}

static char *key_pem(EVP_PKEY *k)
{
	BIO *b = BIO_new(BIO_s_mem());
	PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL);
	return bio_text(b);
}

static char *dir_file(const struct fake_kube *f, const char *name)
{
	struct strbuf sb;
	sb_init(&sb);
	sb_printf(&sb, "%s/%s", f->dir, name);
	return sb_detach(&sb);
}

static bool write_file(const char *path, const char *text, mode_t mode)
{
	FILE *fp = fopen(path, "w");
	if (!fp)
		return false;
	bool ok = fputs(text, fp) >= 0;
	ok = fclose(fp) == 0 && ok;
	return ok && chmod(path, mode) == 0;
}

/* Makes the CA, the server's and a client's certificates and writes them;
 * the server's certificate, key and the CA as PEM texts go to the out
 * arguments, for MHD. */
static bool make_certs(struct fake_kube *f, char **cert_out, char **key_out, char **ca_out)
{
	EVP_PKEY *ca_key = key_new(), *srv_key = key_new(), *cli_key = key_new();
	X509 *ca = NULL, *srv = NULL, *cli = NULL;
	bool ok = ca_key && srv_key && cli_key;
	if (ok) {
		long serial = (long)(rnd_next(f) & 0x7fffffff);
		ca = cert_new(ca_key, "fake-kube-ca", NULL, NULL, NULL, serial, true, false);
		srv = ca ? cert_new(srv_key, "kube-apiserver", NULL, ca, ca_key, serial + 1, false,
				    true)
			 : NULL;
		cli = ca ? cert_new(cli_key, "kerf-test", "system:masters", ca, ca_key, serial + 2,
				    false, false)
			 : NULL;
		ok = ca && srv && cli;
	}
	if (ok) {
		*ca_out = cert_pem(ca);
		*cert_out = cert_pem(srv);
		*key_out = key_pem(srv_key);
		char *cli_cert = cert_pem(cli), *cli_keyp = key_pem(cli_key);
		f->ca_file = dir_file(f, "ca.crt");
		f->cert_file = dir_file(f, "apiserver.crt");
		f->key_file = dir_file(f, "apiserver.key");
		f->client_cert_file = dir_file(f, "client.crt");
		f->client_key_file = dir_file(f, "client.key");
		ok = write_file(f->ca_file, *ca_out, 0644) &&
		     write_file(f->cert_file, *cert_out, 0644) &&
		     write_file(f->key_file, *key_out, 0600) &&
		     write_file(f->client_cert_file, cli_cert, 0644) &&
		     write_file(f->client_key_file, cli_keyp, 0600);
		free(cli_cert);
		free(cli_keyp);
	}
	X509_free(ca);
	X509_free(srv);
	X509_free(cli);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(srv_key);
	EVP_PKEY_free(cli_key);
	return ok;
}

static bool write_kubeconfig(struct fake_kube *f)
{
	struct strbuf sb;
	sb_init(&sb);
	sb_printf(&sb,
		  "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n"
		  "    server: %s\n",
		  f->url);
	if (f->tls)
		sb_printf(&sb, "    certificate-authority: %s\n", f->ca_file);
	sb_puts(&sb, "users:\n- name: fake\n  user:");
	bool any = false;
	if (f->token) {
		sb_printf(&sb, "\n    token: \"%s\"", f->token);
		any = true;
	}
	if (f->tls && f->client_certs) {
		sb_printf(&sb, "\n    client-certificate: %s\n    client-key: %s",
			  f->client_cert_file, f->client_key_file);
		any = true;
	}
	sb_puts(&sb, any ? "\n" : " {}\n");
	sb_puts(&sb, "contexts:\n- name: fake\n  context:\n    cluster: fake\n    user: fake\n"
		     "    namespace: default\ncurrent-context: fake\n");
	f->kubeconfig = dir_file(f, "kubeconfig");
	bool ok = write_file(f->kubeconfig, sb.buf, 0600);
	sb_free(&sb);
	return ok;
}

/* ------------------------------------------------------------ faults and counters */

void fake_kube_fail_next(struct fake_kube *f, const char *method, const char *path_prefix,
			 int status, int retry_after_s, int times)
{
	pthread_mutex_lock(&f->lock);
	struct krule r = {xstrdup_or_null(method),
			  xstrdup_or_null(path_prefix),
			  status,
			  retry_after_s,
			  times,
			  NULL,
			  NULL};
	xpush(f->rules, f->n_rules, r);
	pthread_mutex_unlock(&f->lock);
}

void fake_kube_answer_next(struct fake_kube *f, const char *method, const char *path_prefix,
			   int status, const char *content_type, const char *body, int times)
{
	pthread_mutex_lock(&f->lock);
	struct krule r = {xstrdup_or_null(method),
			  xstrdup_or_null(path_prefix),
			  status,
			  0,
			  times,
			  xstrdup(content_type ? content_type : "application/json"),
			  xstrdup(body ? body : "")};
	xpush(f->rules, f->n_rules, r);
	pthread_mutex_unlock(&f->lock);
}

void fake_kube_expire_watches(struct fake_kube *f)
{
	pthread_mutex_lock(&f->lock);
	f->compacted_rv = f->rv;
	for (size_t i = 0; i < KUBE_SNAPSHOTS; i++) {
		json_decref(f->snaps[i].items);
		f->snaps[i] = (struct ksnap){0};
	}
	pthread_mutex_unlock(&f->lock);
}

void fake_kube_drop_streams(struct fake_kube *f)
{
	pthread_mutex_lock(&f->lock);
	f->drop_gen++;
	pthread_cond_broadcast(&f->cond);
	pthread_mutex_unlock(&f->lock);
}

void fake_kube_bookmark(struct fake_kube *f)
{
	pthread_mutex_lock(&f->lock);
	f->bookmark_gen++;
	pthread_cond_broadcast(&f->cond);
	pthread_mutex_unlock(&f->lock);
}

void fake_kube_delay_ms(struct fake_kube *f, int ms)
{
	pthread_mutex_lock(&f->lock);
	f->delay_ms = ms > 0 ? ms : 0;
	pthread_mutex_unlock(&f->lock);
}

void fake_kube_random_faults(struct fake_kube *f, unsigned seed, int per_mille)
{
	pthread_mutex_lock(&f->lock);
	f->rnd = seed ? seed : 1;
	f->per_mille = per_mille > 0 ? per_mille : 0;
	pthread_mutex_unlock(&f->lock);
}

void fake_kube_hide(struct fake_kube *f, const char *group_version)
{
	pthread_mutex_lock(&f->lock);
	for (int i = 0; i < R_COUNT; i++) {
		char gv[96];
		kres_gv(&kres_table[i], gv, sizeof(gv));
		if (strcmp(gv, group_version) == 0)
			f->hidden[i] = true;
	}
	pthread_mutex_unlock(&f->lock);
}

static bool prefix_ok(const char *prefix, const char *s)
{
	return !prefix || strncmp(s, prefix, strlen(prefix)) == 0;
}

unsigned long fake_kube_requests(const struct fake_kube *f, const char *method,
				 const char *path_prefix)
{
	struct fake_kube *m = (struct fake_kube *)f; /* the lock is not part of the value */
	pthread_mutex_lock(&m->lock);
	unsigned long n = 0;
	for (size_t i = 0; i < m->n_reqs; i++)
		if ((!method || strcmp(method, m->reqs[i].method) == 0) &&
		    prefix_ok(path_prefix, m->reqs[i].path))
			n++;
	pthread_mutex_unlock(&m->lock);
	return n;
}

unsigned fake_kube_port(const struct fake_kube *f)
{
	return f->port;
}

unsigned long long fake_kube_resource_version(const struct fake_kube *f)
{
	struct fake_kube *m = (struct fake_kube *)f;
	pthread_mutex_lock(&m->lock);
	unsigned long long rv = m->rv;
	pthread_mutex_unlock(&m->lock);
	return rv;
}

unsigned fake_kube_open_watches(const struct fake_kube *f)
{
	struct fake_kube *m = (struct fake_kube *)f;
	pthread_mutex_lock(&m->lock);
	unsigned n = m->open_watches;
	pthread_mutex_unlock(&m->lock);
	return n;
}

const char *fake_kube_url(const struct fake_kube *f)
{
	return f->url;
}

const char *fake_kube_ca_file(const struct fake_kube *f)
{
	return f->tls ? f->ca_file : NULL;
}

const char *fake_kube_client_cert_file(const struct fake_kube *f)
{
	return f->tls ? f->client_cert_file : NULL;
}

const char *fake_kube_client_key_file(const struct fake_kube *f)
{
	return f->tls ? f->client_key_file : NULL;
}

const char *fake_kube_kubeconfig(const struct fake_kube *f)
{
	return f->kubeconfig;
}

/* ------------------------------------------------------------ watches */

struct kwatch {
	struct fake_kube *f;
	struct MHD_Connection *conn;
	int res;
	char *ns;
	struct sel *labels, *fields;
	json_t *initial; /* ADDED objects sent before the history (watch from "" or "0") */
	size_t initial_i;
	size_t next; /* absolute history index of the next event to look at */
	bool bookmarks;
	int64_t deadline_ms;
	unsigned drop_gen, bookmark_gen;
	int cut_after; /* >= 0: cut the stream after this many more events (random fault) */
	struct strbuf out;
	size_t off;
	bool end_after, end_error;
	char *first_error; /* an ERROR event to send first (410 on a compacted resume) */
};

static void watch_event_line(struct kwatch *w, const char *type, const json_t *obj)
{
	json_t *o = out_copy(w->res, obj);
	json_t *ev = json_pack("{s:s, s:o}", "type", type, "object", o);
	char *s = json_dumps(ev, JSON_COMPACT);
	sb_puts(&w->out, s);
	sb_puts(&w->out, "\n");
	free(s);
	json_decref(ev);
}

static bool watch_wants(const struct kwatch *w, const json_t *obj)
{
	if (w->ns &&
	    strcmp(w->ns, meta_str(obj, "namespace") ? meta_str(obj, "namespace") : "") != 0)
		return false;
	return sel_matches(w->labels, obj, false) && sel_matches(w->fields, obj, true);
}

/* The next history event this watch wants, moving w->next past the ones
 * it does not; NULL when it is caught up. */
static const struct kevent *watch_next_event(struct kwatch *w)
{
	struct fake_kube *f = w->f;
	while (w->next < f->hist_base + f->hist_n) {
		const struct kevent *e = &f->hist[w->next - f->hist_base];
		w->next++;
		if (e->store == kres_table[w->res].store && watch_wants(w, e->obj))
			return e;
	}
	return NULL;
}

/* Fills w->out with what the stream sends next, or sets an end; false when
 * there is nothing yet.  Lock held. */
static bool watch_produce(struct kwatch *w)
{
	struct fake_kube *f = w->f;
	sb_free(&w->out);
	sb_init(&w->out);
	w->off = 0;
	if (f->stopping) {
		w->end_after = w->end_error = true;
		return true;
	}
	if (w->first_error) {
		sb_puts(&w->out, w->first_error);
		w->end_after = true;
		return true;
	}
	bool cut = w->drop_gen != f->drop_gen || w->cut_after == 0;
	if (w->next < f->hist_base) {
		/* Compacted past this stream while it lagged: what etcd tells a watcher. */
		json_t *st = kstatus(410, "Expired", NULL, "too old resource version");
		json_t *ev = json_pack("{s:s, s:o}", "type", "ERROR", "object", st);
		char *s = json_dumps(ev, JSON_COMPACT);
		sb_puts(&w->out, s);
		sb_puts(&w->out, "\n");
		free(s);
		json_decref(ev);
		w->end_after = true;
		return true;
	}
	if (w->initial && w->initial_i < json_array_size(w->initial)) {
		watch_event_line(w, "ADDED", json_array_get(w->initial, w->initial_i++));
	} else {
		const struct kevent *e = watch_next_event(w);
		if (e)
			watch_event_line(w, e->type, e->obj);
	}
	if (w->out.len > 0) {
		if (cut) {
			/* A connection lost mid-event: half a line, then nothing. */
			w->out.len /= 2;
			w->out.buf[w->out.len] = '\0';
			w->end_after = w->end_error = true;
		} else if (w->cut_after > 0) {
			w->cut_after--;
		}
		return true;
	}
	if (cut) {
		w->end_after = w->end_error = true;
		return true;
	}
	bool expired = now_mono_ms() >= w->deadline_ms;
	if (w->bookmarks && (w->bookmark_gen != f->bookmark_gen || expired)) {
		w->bookmark_gen = f->bookmark_gen;
		char gv[96], rv[32];
		kres_gv(&kres_table[w->res], gv, sizeof(gv));
		snprintf(rv, sizeof(rv), "%llu", f->rv);
		json_t *ev = json_pack("{s:s, s:{s:s, s:s, s:{s:s}}}", "type", "BOOKMARK", "object",
				       "kind", kres_table[w->res].kind, "apiVersion", gv,
				       "metadata", "resourceVersion", rv);
		char *s = json_dumps(ev, JSON_COMPACT);
		sb_puts(&w->out, s);
		sb_puts(&w->out, "\n");
		free(s);
		json_decref(ev);
		w->end_after = expired;
		return true;
	}
	if (expired) {
		w->end_after = true;
		return true;
	}
	return false;
}

/* True when the client closed its end (a watch only writes, so nothing
 * else tells it). */
static bool client_gone(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (!ci)
		return false;
	struct pollfd p = {.fd = ci->connect_fd, .events = POLLRDHUP};
	return poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

static ssize_t watch_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	(void)pos;
	struct kwatch *w = cls;
	struct fake_kube *f = w->f;
	for (;;) {
		if (w->off < w->out.len) {
			size_t n = w->out.len - w->off;
			if (n > max)
				n = max;
			memcpy(buf, w->out.buf + w->off, n);
			w->off += n;
			return (ssize_t)n;
		}
		if (w->end_after)
			return w->end_error ? MHD_CONTENT_READER_END_WITH_ERROR
					    : MHD_CONTENT_READER_END_OF_STREAM;
		pthread_mutex_lock(&f->lock);
		while (!watch_produce(w)) {
			struct timespec until;
			deadline_in(&until, KUBE_POLL_MS);
			pthread_cond_timedwait(&f->cond, &f->lock, &until);
			if (!f->stopping && client_gone(w->conn)) {
				w->end_after = w->end_error = true;
				break;
			}
		}
		pthread_mutex_unlock(&f->lock);
	}
}

static void watch_free(void *cls)
{
	struct kwatch *w = cls;
	pthread_mutex_lock(&w->f->lock);
	w->f->open_watches--;
	pthread_mutex_unlock(&w->f->lock);
	free(w->ns);
	sel_free(w->labels);
	sel_free(w->fields);
	json_decref(w->initial);
	sb_free(&w->out);
	free(w->first_error);
	free(w);
}

/* ------------------------------------------------------------ patches */

/* RFC 7386 JSON merge patch; returns the new value (new reference). */
static json_t *merge_patch(json_t *target, json_t *patch)
{
	if (!json_is_object(patch))
		return json_deep_copy(patch);
	json_t *out = json_is_object(target) ? json_deep_copy(target) : json_object();
	const char *k;
	json_t *v;
	json_object_foreach(patch, k, v) {
		if (json_is_null(v)) {
			json_object_del(out, k);
		} else {
			json_t *merged = merge_patch(json_object_get(out, k), v);
			json_object_set_new(out, k, merged);
		}
	}
	return out;
}

/* The list fields strategic merge patch merges by a key instead of
 * replacing, from the Kubernetes types kerf and its tests write. */
static const char *smp_merge_key(const char *field)
{
	static const char *const table[][2] = {
	    {"conditions", "type"},
	    {"containers", "name"},
	    {"initContainers", "name"},
	    {"ephemeralContainers", "name"},
	    {"env", "name"},
	    {"volumes", "name"},
	    {"volumeMounts", "mountPath"},
	    {"ownerReferences", "uid"},
	    {"imagePullSecrets", "name"},
	    {"addresses", "type"},
	    {"hostAliases", "ip"},
	};
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (strcmp(field, table[i][0]) == 0)
			return table[i][1];
	return NULL;
}

static bool json_in_array(const json_t *a, const json_t *v)
{
	size_t i;
	json_t *e;
	json_array_foreach(a, i, e)
		if (json_equal(e, v))
			return true;
	return false;
}

static void smp_apply(json_t *dst, json_t *patch);

static void smp_merge_list(json_t *dst, const char *field, json_t *plist)
{
	json_t *cur = json_object_get(dst, field);
	if (!json_is_array(cur)) {
		cur = json_array();
		json_object_set_new(dst, field, cur);
	}
	const char *mk = smp_merge_key(field);
	size_t i;
	json_t *pe;
	json_array_foreach(plist, i, pe) {
		if (!mk) {
			/* finalizers and other primitive lists with the merge strategy: a union. */
			if (!json_in_array(cur, pe))
				json_array_append(cur, pe);
			continue;
		}
		json_t *kv = json_object_get(pe, mk);
		size_t j, found = (size_t)-1;
		json_t *ce;
		json_array_foreach(cur, j, ce)
			if (kv && json_equal(json_object_get(ce, mk), kv))
				found = j;
		const char *directive = json_string_value(json_object_get(pe, "$patch"));
		if (directive && strcmp(directive, "delete") == 0) {
			if (found != (size_t)-1)
				json_array_remove(cur, found);
		} else if (found != (size_t)-1) {
			smp_apply(json_array_get(cur, found), pe);
		} else {
			json_t *n = json_deep_copy(pe);
			json_object_del(n, "$patch");
			json_array_append_new(cur, n);
		}
	}
}

/* Strategic merge patch, enough for labels, annotations, taints,
 * finalizers, conditions and unschedulable. */
static void smp_apply(json_t *dst, json_t *patch)
{
	const char *k;
	json_t *v;
	static const char del_prefix[] = "$deleteFromPrimitiveList/";
	json_object_foreach(patch, k, v) {
		if (strncmp(k, del_prefix, sizeof(del_prefix) - 1) == 0) {
			json_t *cur = json_object_get(dst, k + sizeof(del_prefix) - 1);
			size_t i;
			json_t *dv;
			json_array_foreach(v, i, dv) {
				for (size_t j = json_array_size(cur); j-- > 0;)
					if (json_equal(json_array_get(cur, j), dv))
						json_array_remove(cur, j);
			}
			continue;
		}
		if (k[0] == '$')
			continue; /* $setElementOrder, $retainKeys: order and pruning hints */
		if (json_is_null(v)) {
			json_object_del(dst, k);
		} else if (json_is_object(v) && json_is_object(json_object_get(dst, k))) {
			smp_apply(json_object_get(dst, k), v);
		} else if (json_is_array(v) && (smp_merge_key(k) || strcmp(k, "finalizers") == 0)) {
			smp_merge_list(dst, k, v);
		} else {
			json_t *c = json_deep_copy(v);
			if (json_is_object(c))
				json_object_del(c, "$patch");
			json_object_set_new(dst, k, c);
		}
	}
}

/* Resolves a JSON pointer's parent; *last gets the unescaped last token. */
static json_t *jp_parent(json_t *doc, const char *ptr, char *last, size_t last_n)
{
	if (ptr[0] != '/')
		return NULL;
	json_t *cur = doc;
	const char *p = ptr + 1;
	for (;;) {
		const char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		char tok[256];
		size_t t = 0;
		for (size_t i = 0; i < n && t + 1 < sizeof(tok); i++) {
			if (p[i] == '~' && i + 1 < n && (p[i + 1] == '0' || p[i + 1] == '1')) {
				tok[t++] = p[i + 1] == '0' ? '~' : '/';
				i++;
			} else {
				tok[t++] = p[i];
			}
		}
		tok[t] = '\0';
		if (!e) {
			snprintf(last, last_n, "%s", tok);
			return cur;
		}
		if (json_is_object(cur)) {
			cur = json_object_get(cur, tok);
		} else if (json_is_array(cur)) {
			char *end;
			unsigned long idx = strtoul(tok, &end, 10);
			cur = *end ? NULL : json_array_get(cur, idx);
		} else {
			return NULL;
		}
		if (!cur)
			return NULL;
		p = e + 1;
	}
}

/* RFC 6902 add, remove, replace and test; false with a message on failure. */
static bool json_patch_apply(json_t *doc, json_t *ops, char *err, size_t err_n)
{
	if (!json_is_array(ops)) {
		snprintf(err, err_n, "json patch must be an array of operations");
		return false;
	}
	size_t i;
	json_t *op;
	json_array_foreach(ops, i, op) {
		const char *name = json_string_value(json_object_get(op, "op"));
		const char *path = json_string_value(json_object_get(op, "path"));
		json_t *value = json_object_get(op, "value");
		char last[256];
		json_t *parent = path ? jp_parent(doc, path, last, sizeof(last)) : NULL;
		if (!name || !parent) {
			snprintf(err, err_n, "operation %zu: path %s does not exist", i,
				 path ? path : "(none)");
			return false;
		}
		bool arr = json_is_array(parent);
		char *end;
		unsigned long idx = strtoul(last, &end, 10);
		bool idx_ok = arr && *last && !*end;
		json_t *target = arr ? (idx_ok ? json_array_get(parent, idx) : NULL)
				     : json_object_get(parent, last);
		bool ok = true;
		if (strcmp(name, "test") == 0) {
			ok = target && value && json_equal(target, value);
			if (!ok) {
				snprintf(err, err_n, "testing value %s failed", path);
				return false;
			}
		} else if (strcmp(name, "remove") == 0) {
			ok = target && (arr ? json_array_remove(parent, idx) == 0
					    : json_object_del(parent, last) == 0);
		} else if (strcmp(name, "add") == 0 || strcmp(name, "replace") == 0) {
			bool add = name[0] == 'a';
			ok = value != NULL;
			if (ok && arr) {
				if (add && strcmp(last, "-") == 0)
					ok = json_array_append(parent, value) == 0;
				else if (add)
					ok = idx_ok && json_array_insert(parent, idx, value) == 0;
				else
					ok = target && json_array_set(parent, idx, value) == 0;
			} else if (ok) {
				ok = (add || target) && json_object_set(parent, last, value) == 0;
			}
		} else {
			snprintf(err, err_n, "operation %zu: unsupported op %s", i, name);
			return false;
		}
		if (!ok) {
			snprintf(err, err_n, "operation %zu (%s %s) cannot be applied", i, name,
				 path);
			return false;
		}
	}
	return true;
}

/* ------------------------------------------------------------ requests */

struct kconn {
	struct strbuf body;
	bool too_large;
	bool started;
};

struct kreply {
	int status;
	json_t *body;
	char *raw, *ctype; /* a raw body (answer_next) instead of JSON */
	int retry_after;
	struct kwatch *watch;
};

struct kroute {
	enum { RT_NONE, RT_API, RT_APIS, RT_GROUP, RT_GV, RT_VERSION, RT_HEALTH, RT_RES } kind;
	char group[64], version[32];
	int res;
	char ns[254], name[254], sub[32];
};

static int kres_by_path(const struct fake_kube *f, const char *group, const char *version,
			const char *plural)
{
	for (int i = 0; i < R_COUNT; i++) {
		const struct kres *r = &kres_table[i];
		if (!f->hidden[i] && strcmp(r->group, group) == 0 &&
		    strcmp(r->version, version) == 0 && strcmp(r->plural, plural) == 0)
			return i;
	}
	return -1;
}

static bool gv_served(const struct fake_kube *f, const char *group, const char *version)
{
	for (int i = 0; i < R_COUNT; i++)
		if (!f->hidden[i] && strcmp(kres_table[i].group, group) == 0 &&
		    (!version || strcmp(kres_table[i].version, version) == 0))
			return true;
	return false;
}

static void route_parse(const struct fake_kube *f, const char *url, struct kroute *rt)
{
	memset(rt, 0, sizeof(*rt));
	rt->res = -1;
	char buf[1024];
	snprintf(buf, sizeof(buf), "%s", url);
	char *seg[12];
	size_t n = 0;
	char *save = NULL;
	for (char *s = strtok_r(buf, "/", &save); s && n < 12; s = strtok_r(NULL, "/", &save))
		seg[n++] = s;
	if (n == 1 && strcmp(seg[0], "version") == 0) {
		rt->kind = RT_VERSION;
		return;
	}
	if (n == 1 && (strcmp(seg[0], "healthz") == 0 || strcmp(seg[0], "readyz") == 0 ||
		       strcmp(seg[0], "livez") == 0)) {
		rt->kind = RT_HEALTH;
		return;
	}
	size_t i;
	if (n >= 1 && strcmp(seg[0], "api") == 0) {
		if (n == 1) {
			rt->kind = RT_API;
			return;
		}
		if (strcmp(seg[1], "v1") != 0)
			return;
		snprintf(rt->version, sizeof(rt->version), "v1");
		i = 2;
	} else if (n >= 1 && strcmp(seg[0], "apis") == 0) {
		if (n == 1) {
			rt->kind = RT_APIS;
			return;
		}
		snprintf(rt->group, sizeof(rt->group), "%s", seg[1]);
		if (n == 2) {
			rt->kind = gv_served(f, rt->group, NULL) ? RT_GROUP : RT_NONE;
			return;
		}
		snprintf(rt->version, sizeof(rt->version), "%s", seg[2]);
		i = 3;
	} else {
		return;
	}
	if (!gv_served(f, rt->group, rt->version))
		return;
	if (n == i) {
		rt->kind = RT_GV;
		return;
	}
	size_t left = n - i;
	char **rest = seg + i;
	int res;
	if (left >= 3 && strcmp(rest[0], "namespaces") == 0 &&
	    (res = kres_by_path(f, rt->group, rt->version, rest[2])) >= 0 &&
	    kres_table[res].namespaced) {
		if (left > 5)
			return;
		snprintf(rt->ns, sizeof(rt->ns), "%s", rest[1]);
		rt->res = res;
		if (left >= 4)
			snprintf(rt->name, sizeof(rt->name), "%s", rest[3]);
		if (left == 5)
			snprintf(rt->sub, sizeof(rt->sub), "%s", rest[4]);
	} else {
		res = kres_by_path(f, rt->group, rt->version, rest[0]);
		if (res < 0 || left > 3 || (kres_table[res].namespaced && left > 1))
			return;
		rt->res = res;
		if (left >= 2)
			snprintf(rt->name, sizeof(rt->name), "%s", rest[1]);
		if (left == 3)
			snprintf(rt->sub, sizeof(rt->sub), "%s", rest[2]);
	}
	rt->kind = RT_RES;
}

/* ---- discovery */

static json_t *disc_resources(const struct fake_kube *f, const char *group, const char *version)
{
	json_t *list = json_array();
	for (int i = 0; i < R_COUNT; i++) {
		const struct kres *r = &kres_table[i];
		if (f->hidden[i] || strcmp(r->group, group) != 0 ||
		    strcmp(r->version, version) != 0)
			continue;
		json_t *verbs =
		    json_pack("[s,s,s,s,s,s,s,s]", "create", "delete", "deletecollection", "get",
			      "list", "patch", "update", "watch");
		json_t *e = json_pack("{s:s, s:s, s:b, s:s, s:o}", "name", r->plural,
				      "singularName", r->singular, "namespaced", r->namespaced,
				      "kind", r->kind, "verbs", verbs);
		if (r->short_name)
			json_object_set_new(e, "shortNames", json_pack("[s]", r->short_name));
		json_array_append_new(list, e);
		char sub[96];
		if (r->status) {
			snprintf(sub, sizeof(sub), "%s/status", r->plural);
			json_array_append_new(
			    list, json_pack("{s:s, s:s, s:b, s:s, s:[s,s,s]}", "name", sub,
					    "singularName", "", "namespaced", r->namespaced, "kind",
					    r->kind, "verbs", "get", "patch", "update"));
		}
		if (i == R_POD) {
			json_array_append_new(list, json_pack("{s:s, s:s, s:b, s:s, s:[s]}", "name",
							      "pods/binding", "singularName", "",
							      "namespaced", true, "kind", "Binding",
							      "verbs", "create"));
			const char *ev = f->hidden[R_PDB] ? "v1beta1" : "v1";
			json_array_append_new(
			    list, json_pack("{s:s, s:s, s:b, s:s, s:s, s:s, s:[s]}", "name",
					    "pods/eviction", "singularName", "", "namespaced", true,
					    "group", "policy", "version", ev, "kind", "Eviction",
					    "verbs", "create"));
		}
	}
	char gv[96];
	if (group[0])
		snprintf(gv, sizeof(gv), "%s/%s", group, version);
	else
		snprintf(gv, sizeof(gv), "%s", version);
	return json_pack("{s:s, s:s, s:s, s:o}", "kind", "APIResourceList", "apiVersion", "v1",
			 "groupVersion", gv, "resources", list);
}

static json_t *disc_group(const struct fake_kube *f, const char *group)
{
	json_t *versions = json_array();
	for (int i = 0; i < R_COUNT; i++) {
		const struct kres *r = &kres_table[i];
		if (f->hidden[i] || strcmp(r->group, group) != 0)
			continue;
		char gv[96];
		kres_gv(r, gv, sizeof(gv));
		bool seen = false;
		size_t j;
		json_t *v;
		json_array_foreach(versions, j, v)
			seen = seen || strcmp(json_string_value(json_object_get(v, "groupVersion")),
					      gv) == 0;
		if (!seen)
			json_array_append_new(versions, json_pack("{s:s, s:s}", "groupVersion", gv,
								  "version", r->version));
	}
	json_t *pref = json_deep_copy(json_array_get(versions, 0));
	return json_pack("{s:s, s:s, s:s, s:o, s:o}", "kind", "APIGroup", "apiVersion", "v1",
			 "name", group, "versions", versions, "preferredVersion", pref);
}

static json_t *disc_groups(const struct fake_kube *f)
{
	json_t *groups = json_array();
	for (int i = 0; i < R_COUNT; i++) {
		const char *g = kres_table[i].group;
		if (!g[0] || f->hidden[i])
			continue;
		bool seen = false;
		for (int j = 0; j < i; j++)
			seen = seen || (!f->hidden[j] && strcmp(kres_table[j].group, g) == 0);
		if (seen)
			continue;
		json_t *one = disc_group(f, g);
		json_object_del(one, "kind");
		json_object_del(one, "apiVersion");
		json_array_append_new(groups, one);
	}
	return json_pack("{s:s, s:s, s:o}", "kind", "APIGroupList", "apiVersion", "v1", "groups",
			 groups);
}

/* ---- list and watch */

static const char *arg(struct MHD_Connection *c, const char *name)
{
	return MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
}

static bool parse_rv(const char *s, unsigned long long *out)
{
	if (!s || !*s)
		return false;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || s[0] == '-')
		return false;
	*out = v;
	return true;
}

static void strip_type_meta(json_t *items)
{
	size_t i;
	json_t *o;
	json_array_foreach(items, i, o) {
		json_object_del(o, "apiVersion");
		json_object_del(o, "kind");
	}
}

static void do_list(struct fake_kube *f, struct MHD_Connection *c, const struct kroute *rt,
		    struct kreply *rp)
{
	bool bad_l, bad_f;
	struct sel *labels = sel_parse(arg(c, "labelSelector"), &bad_l);
	struct sel *fields = sel_parse(arg(c, "fieldSelector"), &bad_f);
	if (bad_l || bad_f) {
		rp->status = 400;
		rp->body = kstatus(400, "BadRequest", NULL, "unable to parse requirement: %s",
				   bad_l ? arg(c, "labelSelector") : arg(c, "fieldSelector"));
		goto out;
	}
	const struct kres *r = &kres_table[rt->res];
	const char *cont = arg(c, "continue");
	const char *lim = arg(c, "limit");
	unsigned long long limit = 0, want_rv = 0;
	if (lim && *lim && !parse_rv(lim, &limit)) {
		rp->status = 400;
		rp->body = kstatus(400, "BadRequest", NULL, "invalid limit %s", lim);
		goto out;
	}
	const char *rvs = arg(c, "resourceVersion");
	bool has_rv = parse_rv(rvs, &want_rv) && want_rv > 0;
	pthread_mutex_lock(&f->lock);
	struct ksnap *snap = NULL;
	size_t off = 0;
	if (cont && *cont) {
		unsigned long id = 0;
		char *end = NULL;
		if (strncmp(cont, "kc1.", 4) == 0) {
			id = strtoul(cont + 4, &end, 10);
			off = end && *end == '.' ? strtoul(end + 1, &end, 10) : 0;
		}
		for (size_t i = 0; i < KUBE_SNAPSHOTS; i++)
			if (f->snaps[i].items && f->snaps[i].id == id)
				snap = &f->snaps[i];
		if (!snap) {
			pthread_mutex_unlock(&f->lock);
			rp->status = 410;
			rp->body = kstatus(
			    410, "Expired", NULL,
			    "The provided continue parameter is too old to display a consistent "
			    "list "
			    "result. You can start a new list without the continue parameter.");
			goto out;
		}
	} else if (has_rv && want_rv > f->rv) {
		pthread_mutex_unlock(&f->lock);
		rp->status = 504;
		rp->body =
		    kstatus(504, "Timeout", NULL, "Too large resource version: %llu, current: %llu",
			    want_rv, f->rv);
		goto out;
	} else if (has_rv && want_rv < f->compacted_rv && arg(c, "resourceVersionMatch") &&
		   strcmp(arg(c, "resourceVersionMatch"), "Exact") == 0) {
		pthread_mutex_unlock(&f->lock);
		rp->status = 410;
		rp->body = kstatus(410, "Expired", NULL,
				   "The resourceVersion for the provided list is too old.");
		goto out;
	}
	json_t *all;
	unsigned long long list_rv;
	if (snap) {
		all = json_incref(snap->items);
		list_rv = snap->rv;
	} else {
		all = collect_locked(f, r->store, rt->ns[0] ? rt->ns : NULL, labels, fields);
		list_rv = f->rv;
	}
	size_t total = json_array_size(all);
	size_t end = limit > 0 && off + limit < total ? off + (size_t)limit : total;
	json_t *items = json_array();
	for (size_t i = off; i < end; i++) {
		json_t *o = json_array_get(all, i);
		json_array_append_new(items, r->custom ? out_copy(rt->res, o) : json_copy(o));
	}
	char contbuf[64] = "";
	if (end < total) {
		if (!snap) {
			size_t slot = f->next_snap % KUBE_SNAPSHOTS;
			json_decref(f->snaps[slot].items);
			f->snaps[slot] = (struct ksnap){++f->next_snap, list_rv, json_incref(all)};
			snap = &f->snaps[slot];
		}
		snprintf(contbuf, sizeof(contbuf), "kc1.%lu.%zu", snap->id, end);
	} else if (snap) {
		json_decref(snap->items);
		*snap = (struct ksnap){0};
	}
	/* all shares its items with the store and the snapshots. */
	json_decref(all);
	pthread_mutex_unlock(&f->lock);
	if (!r->custom)
		strip_type_meta(items); /* built-in lists carry type only on the list */
	char gv[96], kind[96], rvb[32];
	kres_gv(r, gv, sizeof(gv));
	snprintf(kind, sizeof(kind), "%sList", r->kind);
	snprintf(rvb, sizeof(rvb), "%llu", list_rv);
	json_t *meta = json_pack("{s:s}", "resourceVersion", rvb);
	if (contbuf[0]) {
		json_object_set_new(meta, "continue", json_string(contbuf));
		if (!labels && !fields)
			json_object_set_new(meta, "remainingItemCount",
					    json_integer((json_int_t)(total - end)));
	}
	rp->status = 200;
	rp->body = json_pack("{s:s, s:s, s:o, s:o}", "kind", kind, "apiVersion", gv, "metadata",
			     meta, "items", items);
out:
	sel_free(labels);
	sel_free(fields);
}

static void do_watch(struct fake_kube *f, struct MHD_Connection *c, const struct kroute *rt,
		     struct kreply *rp, int fault)
{
	bool bad_l, bad_f;
	struct sel *labels = sel_parse(arg(c, "labelSelector"), &bad_l);
	struct sel *fields = sel_parse(arg(c, "fieldSelector"), &bad_f);
	if (bad_l || bad_f) {
		sel_free(labels);
		sel_free(fields);
		rp->status = 400;
		rp->body = kstatus(400, "BadRequest", NULL, "unable to parse requirement");
		return;
	}
	struct kwatch *w = xcalloc(1, sizeof(*w));
	w->f = f;
	w->conn = c;
	w->res = rt->res;
	w->ns = rt->ns[0] ? xstrdup(rt->ns) : NULL;
	w->labels = labels;
	w->fields = fields;
	w->cut_after = -1;
	sb_init(&w->out);
	const char *bm = arg(c, "allowWatchBookmarks");
	w->bookmarks = bm && (strcmp(bm, "true") == 0 || strcmp(bm, "1") == 0);
	unsigned long long timeout = 1800, rv = 0;
	const char *ts = arg(c, "timeoutSeconds");
	if (ts && *ts)
		parse_rv(ts, &timeout);
	w->deadline_ms = now_mono_ms() + (int64_t)timeout * 1000;
	const char *rvs = arg(c, "resourceVersion");
	bool from_now = !rvs || !*rvs || strcmp(rvs, "0") == 0;
	if (!from_now && !parse_rv(rvs, &rv)) {
		sel_free(labels);
		sel_free(fields);
		free(w->ns);
		free(w);
		rp->status = 400;
		rp->body = kstatus(400, "BadRequest", NULL, "invalid resource version: %s", rvs);
		return;
	}
	pthread_mutex_lock(&f->lock);
	w->drop_gen = f->drop_gen;
	w->bookmark_gen = f->bookmark_gen;
	w->next = f->hist_base + f->hist_n;
	unsigned long long floor =
	    f->compacted_rv > f->hist_floor ? f->compacted_rv : f->hist_floor;
	if (from_now) {
		w->initial = collect_locked(f, kres_table[rt->res].store, w->ns, labels, fields);
	} else if (rv < floor || fault == 410) {
		json_t *st = kstatus(410, "Expired", NULL, "too old resource version: %llu (%llu)",
				     rv, floor);
		json_t *ev = json_pack("{s:s, s:o}", "type", "ERROR", "object", st);
		char *s = json_dumps(ev, JSON_COMPACT);
		struct strbuf sb;
		sb_init(&sb);
		sb_printf(&sb, "%s\n", s);
		w->first_error = sb_detach(&sb);
		free(s);
		json_decref(ev);
	} else {
		/* The first event after rv: history is in rv order. */
		size_t lo = 0, hi = f->hist_n;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (f->hist[mid].rv <= rv)
				lo = mid + 1;
			else
				hi = mid;
		}
		w->next = f->hist_base + lo;
	}
	if (fault == 1)
		w->cut_after = (int)(rnd_next(f) % 4);
	f->open_watches++;
	pthread_mutex_unlock(&f->lock);
	rp->status = 200;
	rp->watch = w;
}

/* ---- writes (lock held) */

static bool check_type(const struct kres *r, int res, json_t *body, struct kreply *rp)
{
	char gv[96], stored[96];
	kres_gv(&kres_table[res], gv, sizeof(gv));
	kres_gv(&kres_table[r->store], stored, sizeof(stored));
	const char *av = json_string_value(json_object_get(body, "apiVersion"));
	const char *kind = json_string_value(json_object_get(body, "kind"));
	/* A patch through an older version merges into the stored version's object. */
	if (av && strcmp(av, gv) != 0 && strcmp(av, stored) != 0) {
		rp->status = 400;
		rp->body =
		    kstatus(400, "BadRequest", NULL,
			    "the API version in the data (%s) does not match the expected API "
			    "version (%s)",
			    av, gv);
		return false;
	}
	if (kind && strcmp(kind, r->kind) != 0) {
		rp->status = 400;
		rp->body =
		    kstatus(400, "BadRequest", NULL,
			    "the kind in the data (%s) does not match the expected kind (%s)", kind,
			    r->kind);
		return false;
	}
	kres_gv(&kres_table[r->store], gv, sizeof(gv));
	json_object_set_new(body, "apiVersion", json_string(gv));
	json_object_set_new(body, "kind", json_string(r->kind));
	return true;
}

static json_t *invalid(const struct kres *r, const char *name, const char *field, const char *msg)
{
	return kstatus(422, "Invalid",
		       json_pack("{s:s, s:s, s:s, s:[{s:s, s:s, s:s}]}", "name", name, "group",
				 r->group, "kind", r->kind, "causes", "reason", "FieldValueInvalid",
				 "message", msg, "field", field),
		       "%s.%s%s \"%s\" is invalid: %s: %s", r->kind, r->group,
		       r->group[0] ? "" : "", name, field, msg);
}

static void do_create(struct fake_kube *f, const struct kroute *rt, json_t *body, struct kreply *rp)
{
	const struct kres *r = &kres_table[rt->res];
	if (!check_type(r, rt->res, body, rp))
		return;
	json_t *m = meta_of(body);
	const char *bns = json_string_value(json_object_get(m, "namespace"));
	if (r->namespaced) {
		if (bns && *bns && strcmp(bns, rt->ns) != 0) {
			rp->status = 400;
			rp->body =
			    kstatus(400, "BadRequest", NULL,
				    "the namespace of the provided object does not match the "
				    "namespace sent on the request");
			return;
		}
		json_object_set_new(m, "namespace", json_string(rt->ns));
	} else {
		json_object_del(m, "namespace");
	}
	const char *name = json_string_value(json_object_get(m, "name"));
	const char *gen = json_string_value(json_object_get(m, "generateName"));
	if ((!name || !*name) && gen && *gen) {
		static const char alnum[] = "bcdfghjklmnpqrstvwxz2456789";
		char buf[300];
		size_t n = (size_t)snprintf(buf, sizeof(buf) - 6, "%s", gen);
		for (int i = 0; i < 5; i++)
			buf[n++] = alnum[rnd_next(f) % (sizeof(alnum) - 1)];
		buf[n] = '\0';
		json_object_set_new(m, "name", json_string(buf));
		name = json_string_value(json_object_get(m, "name"));
	}
	if (!name || !*name) {
		rp->status = 422;
		rp->body = invalid(r, "", "metadata.name",
				   "Required value: name or generateName is required");
		return;
	}
	if (!str_dns_subdomain(name, strlen(name)) || strlen(name) > 253) {
		rp->status = 422;
		rp->body = invalid(r, name, "metadata.name",
				   "Invalid value: a lowercase RFC 1123 subdomain must consist of "
				   "lower case alphanumeric characters, '-' or '.'");
		return;
	}
	if (r->namespaced && !store_find(f, R_NAMESPACE, NULL, rt->ns)) {
		rp->status = 404;
		rp->body = not_found(&kres_table[R_NAMESPACE], rt->ns);
		return;
	}
	if (store_find(f, r->store, r->namespaced ? rt->ns : NULL, name)) {
		rp->status = 409;
		rp->body = kstatus(409, "AlreadyExists",
				   json_pack("{s:s, s:s, s:s}", "name", name, "group", r->group,
					     "kind", r->plural),
				   "%s%s%s \"%s\" already exists", r->plural,
				   r->group[0] ? "." : "", r->group, name);
		return;
	}
	static const char *const server_set[] = {"resourceVersion",
						 "uid",
						 "creationTimestamp",
						 "deletionTimestamp",
						 "deletionGracePeriodSeconds",
						 "generation",
						 "selfLink"};
	for (size_t i = 0; i < sizeof(server_set) / sizeof(server_set[0]); i++)
		json_object_del(m, server_set[i]);
	stamp_new(f, r->store, body);
	store_commit(f, r->store, "ADDED", json_incref(body));
	rp->status = 201;
	rp->body = out_copy(rt->res, body);
}

/* The common end of PUT and PATCH: applies what a client may change and
 * stores the result.  next is the object the client wants (stolen). */
static void finish_update(struct fake_kube *f, const struct kroute *rt, struct kobj *old,
			  json_t *next, bool put, struct kreply *rp)
{
	const struct kres *r = &kres_table[rt->res];
	const char *name = rt->name;
	if (!json_is_object(next)) {
		json_decref(next);
		rp->status = 400;
		rp->body =
		    kstatus(400, "BadRequest", NULL, "the object provided is not a JSON object");
		return;
	}
	if (!check_type(r, rt->res, next, rp)) {
		json_decref(next);
		return;
	}
	json_t *m = meta_of(next);
	const char *nname = json_string_value(json_object_get(m, "name"));
	if (nname && strcmp(nname, name) != 0) {
		rp->status = 400;
		rp->body = kstatus(400, "BadRequest", NULL,
				   "the name of the object (%s) does not match the name on the URL "
				   "(%s)",
				   nname, name);
		json_decref(next);
		return;
	}
	const char *nrv = json_string_value(json_object_get(m, "resourceVersion"));
	const char *orv = meta_str(old->obj, "resourceVersion");
	if (nrv && *nrv && strcmp(nrv, orv) != 0) {
		rp->status = 409;
		rp->body = conflict(r, name);
		json_decref(next);
		return;
	}
	if (put && r->custom && (!nrv || !*nrv)) {
		rp->status = 422;
		rp->body = invalid(r, name, "metadata.resourceVersion",
				   "Invalid value: 0x0: must be specified for an update");
		json_decref(next);
		return;
	}
	json_t *result;
	if (strcmp(rt->sub, "status") == 0) {
		result = json_deep_copy(old->obj);
		json_t *st = json_object_get(next, "status");
		if (st)
			json_object_set(result, "status", st);
		else
			json_object_del(result, "status");
	} else {
		result = json_incref(next);
		json_t *rm = meta_of(result);
		json_t *om = json_object_get(old->obj, "metadata");
		static const char *const kept[] = {"uid",
						   "creationTimestamp",
						   "deletionTimestamp",
						   "deletionGracePeriodSeconds",
						   "generation",
						   "namespace"};
		for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++) {
			json_t *v = json_object_get(om, kept[i]);
			if (v)
				json_object_set(rm, kept[i], v);
			else
				json_object_del(rm, kept[i]);
		}
		if (r->status) {
			json_t *st = json_object_get(old->obj, "status");
			if (st)
				json_object_set(result, "status", st);
			else
				json_object_del(result, "status");
		}
		json_t *ospec = json_object_get(old->obj, "spec");
		json_t *nspec = json_object_get(result, "spec");
		if (json_object_get(om, "generation") &&
		    !(ospec && nspec && json_equal(ospec, nspec))) {
			json_int_t g = json_integer_value(json_object_get(om, "generation"));
			json_object_set_new(rm, "generation", json_integer(g + 1));
		}
	}
	json_decref(next);
	json_object_set_new(meta_of(result), "resourceVersion", json_string(orv));
	if (json_equal(result, old->obj)) {
		/* A no-op write keeps the resourceVersion and wakes no watcher. */
		rp->status = 200;
		rp->body = out_copy(rt->res, result);
		json_decref(result);
		return;
	}
	bool gone = meta_str(result, "deletionTimestamp") && !has_finalizers(result);
	store_commit(f, r->store, gone ? "DELETED" : "MODIFIED", json_incref(result));
	rp->status = 200;
	rp->body = out_copy(rt->res, result);
	json_decref(result);
}

static void do_patch(struct fake_kube *f, struct MHD_Connection *c, const struct kroute *rt,
		     struct kobj *old, json_t *patch, struct kreply *rp)
{
	const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
	char ctype[128] = "";
	snprintf(ctype, sizeof(ctype), "%s", ct ? ct : "");
	char *semi = strchr(ctype, ';');
	if (semi)
		*semi = '\0';
	json_t *next = NULL;
	if (strcmp(ctype, "application/merge-patch+json") == 0 ||
	    strcmp(ctype, "application/apply-patch+yaml") == 0) {
		/* Server-side apply is approximated by a merge patch: the fake keeps no
		 * managed fields. */
		next = merge_patch(old->obj, patch);
	} else if (strcmp(ctype, "application/strategic-merge-patch+json") == 0) {
		if (kres_table[rt->res].custom) {
			rp->status = 415;
			rp->body =
			    kstatus(415, "UnsupportedMediaType", NULL,
				    "the body of the request was in an unknown format - "
				    "accepted media types include: application/json-patch+json, "
				    "application/merge-patch+json, application/apply-patch+yaml");
			return;
		}
		next = json_deep_copy(old->obj);
		if (json_is_object(patch))
			smp_apply(next, patch);
	} else if (strcmp(ctype, "application/json-patch+json") == 0) {
		next = json_deep_copy(old->obj);
		char err[256];
		if (!json_patch_apply(next, patch, err, sizeof(err))) {
			json_decref(next);
			rp->status = 422;
			rp->body = kstatus(422, "Invalid", NULL, "%s", err);
			return;
		}
	} else {
		rp->status = 415;
		rp->body = kstatus(415, "UnsupportedMediaType", NULL,
				   "the body of the request was in an unknown format - accepted "
				   "media types include: application/json-patch+json, "
				   "application/merge-patch+json, application/apply-patch+yaml, "
				   "application/strategic-merge-patch+json");
		return;
	}
	finish_update(f, rt, old, next, false, rp);
}

/* A bound pod deleted with a grace period waits for its kubelet, as on a
 * real cluster; the test (fake_kube_delete) or a grace period of 0 ends it. */
static void do_delete(struct fake_kube *f, struct MHD_Connection *c, const struct kroute *rt,
		      struct kobj *o, json_t *opts, struct kreply *rp)
{
	const struct kres *r = &kres_table[rt->res];
	json_t *pre = json_object_get(opts, "preconditions");
	const char *puid = json_string_value(json_object_get(pre, "uid"));
	const char *prv = json_string_value(json_object_get(pre, "resourceVersion"));
	if (puid && strcmp(puid, meta_str(o->obj, "uid")) != 0) {
		rp->status = 409;
		rp->body =
		    kstatus(409, "Conflict", NULL,
			    "Precondition failed: UID in precondition: %s, UID in object meta: "
			    "%s",
			    puid, meta_str(o->obj, "uid"));
		return;
	}
	if (prv && strcmp(prv, meta_str(o->obj, "resourceVersion")) != 0) {
		rp->status = 409;
		rp->body = conflict(r, rt->name);
		return;
	}
	long long grace = -1;
	json_t *g = json_object_get(opts, "gracePeriodSeconds");
	unsigned long long q;
	if (json_is_integer(g))
		grace = json_integer_value(g);
	else if (parse_rv(arg(c, "gracePeriodSeconds"), &q) ||
		 (arg(c, "gracePeriodSeconds") && strcmp(arg(c, "gracePeriodSeconds"), "0") == 0))
		grace = strcmp(arg(c, "gracePeriodSeconds"), "0") == 0 ? 0 : (long long)q;
	if (r->store == R_POD) {
		const json_t *spec = json_object_get(o->obj, "spec");
		if (grace < 0) {
			json_t *t = json_object_get(spec, "terminationGracePeriodSeconds");
			grace = json_is_integer(t) ? json_integer_value(t) : 30;
		}
		if (grace > 0 && json_string_value(json_object_get(spec, "nodeName")) &&
		    !meta_str(o->obj, "deletionTimestamp")) {
			json_t *obj = json_deep_copy(o->obj);
			char ts[64];
			now_rfc3339(ts, sizeof(ts), (long)grace);
			json_object_set_new(meta_of(obj), "deletionTimestamp", json_string(ts));
			json_object_set_new(meta_of(obj), "deletionGracePeriodSeconds",
					    json_integer(grace));
			store_commit(f, r->store, "MODIFIED", json_incref(obj));
			rp->status = 200;
			rp->body = out_copy(rt->res, obj);
			json_decref(obj);
			return;
		}
	}
	json_t *obj = delete_locked(f, r->store, o);
	rp->status = 200;
	rp->body = out_copy(rt->res, obj);
	json_decref(obj);
}

static json_t *status_success(int code)
{
	return json_pack("{s:s, s:s, s:{}, s:s, s:i}", "kind", "Status", "apiVersion", "v1",
			 "metadata", "status", "Success", "code", code);
}

static void do_bind(struct fake_kube *f, const struct kroute *rt, struct kobj *o, json_t *body,
		    struct kreply *rp)
{
	const char *node =
	    json_string_value(json_object_get(json_object_get(body, "target"), "name"));
	if (!node || !*node) {
		rp->status = 400;
		rp->body = kstatus(400, "BadRequest", NULL, "Binding target.name is required");
		return;
	}
	const char *cur =
	    json_string_value(json_object_get(json_object_get(o->obj, "spec"), "nodeName"));
	if (cur && *cur) {
		rp->status = 409;
		rp->body =
		    kstatus(409, "Conflict", NULL,
			    "Operation cannot be fulfilled on pods/binding \"%s\": pod %s is "
			    "already assigned to node \"%s\"",
			    rt->name, rt->name, cur);
		return;
	}
	json_t *obj = json_deep_copy(o->obj);
	json_t *spec = json_object_get(obj, "spec");
	if (!json_is_object(spec)) {
		spec = json_object();
		json_object_set_new(obj, "spec", spec);
	}
	json_object_set_new(spec, "nodeName", json_string(node));
	json_t *st = json_object_get(obj, "status");
	if (!json_is_object(st)) {
		st = json_object();
		json_object_set_new(obj, "status", st);
	}
	json_t *conds = json_object_get(st, "conditions");
	if (!json_is_array(conds)) {
		conds = json_array();
		json_object_set_new(st, "conditions", conds);
	}
	for (size_t i = json_array_size(conds); i-- > 0;)
		if (str_is(json_object_get(json_array_get(conds, i), "type"), "PodScheduled"))
			json_array_remove(conds, i);
	char ts[64];
	now_rfc3339(ts, sizeof(ts), 0);
	json_array_append_new(conds, json_pack("{s:s, s:s, s:s}", "type", "PodScheduled", "status",
					       "True", "lastTransitionTime", ts));
	store_commit(f, R_POD, "MODIFIED", obj);
	rp->status = 201;
	rp->body = status_success(201);
}

static bool expr_matches(const json_t *labels, const json_t *expr)
{
	const char *key = json_string_value(json_object_get(expr, "key"));
	const char *op = json_string_value(json_object_get(expr, "operator"));
	const char *v = json_string_value(json_object_get(labels, key ? key : ""));
	json_t *vals = json_object_get(expr, "values");
	bool in = false;
	size_t i;
	json_t *e;
	json_array_foreach(vals, i, e)
		in = in || (v && json_is_string(e) && strcmp(v, json_string_value(e)) == 0);
	if (!op)
		return false;
	if (strcmp(op, "In") == 0)
		return in;
	if (strcmp(op, "NotIn") == 0)
		return !in;
	if (strcmp(op, "Exists") == 0)
		return v != NULL;
	if (strcmp(op, "DoesNotExist") == 0)
		return v == NULL;
	return false;
}

/* metav1.LabelSelector semantics: an empty selector selects everything. */
static bool label_selector_matches(const json_t *sel, const json_t *labels)
{
	if (!json_is_object(sel))
		return false;
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)json_object_get(sel, "matchLabels"), k, v) {
		const char *have = json_string_value(json_object_get(labels, k));
		if (!have || !json_is_string(v) || strcmp(have, json_string_value(v)) != 0)
			return false;
	}
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(sel, "matchExpressions"), i, e)
		if (!expr_matches(labels, e))
			return false;
	return true;
}

static void do_evict(struct fake_kube *f, struct MHD_Connection *c, const struct kroute *rt,
		     struct kobj *o, json_t *body, struct kreply *rp)
{
	const char *bname = meta_str(body, "name");
	if (bname && strcmp(bname, rt->name) != 0) {
		rp->status = 400;
		rp->body = kstatus(400, "BadRequest", NULL,
				   "name in URL does not match name in Eviction object");
		return;
	}
	if (meta_str(o->obj, "deletionTimestamp")) {
		rp->status = 200;
		rp->body = status_success(200);
		return;
	}
	const json_t *labels = json_object_get(json_object_get(o->obj, "metadata"), "labels");
	const struct hmap *pdbs = &f->stores[R_PDB];
	struct kobj *match = NULL;
	size_t n_match = 0;
	for (size_t i = 0; i < pdbs->cap; i++) {
		struct kobj *p = pdbs->slots[i].key ? pdbs->slots[i].val : NULL;
		if (!p || strcmp(meta_str(p->obj, "namespace"), rt->ns) != 0)
			continue;
		if (label_selector_matches(
			json_object_get(json_object_get(p->obj, "spec"), "selector"), labels)) {
			match = p;
			n_match++;
		}
	}
	if (n_match > 1) {
		rp->status = 500;
		rp->body = kstatus(500, "InternalError", NULL,
				   "This pod has more than one PodDisruptionBudget, which the "
				   "eviction subresource does not support.");
		return;
	}
	if (match) {
		json_t *st = json_object_get(match->obj, "status");
		json_int_t allowed = json_integer_value(json_object_get(st, "disruptionsAllowed"));
		if (allowed <= 0) {
			rp->status = 429;
			rp->retry_after = 0;
			rp->body = kstatus(
			    429, "TooManyRequests",
			    json_pack("{s:[{s:s, s:s}]}", "causes", "reason", "DisruptionBudget",
				      "message", "The disruption budget needs more healthy pods"),
			    "Cannot evict pod as it would violate the pod's disruption budget.");
			return;
		}
		json_t *pdb = json_deep_copy(match->obj);
		json_t *pst = json_object_get(pdb, "status");
		json_object_set_new(pst, "disruptionsAllowed", json_integer(allowed - 1));
		json_t *dp = json_object_get(pst, "disruptedPods");
		if (!json_is_object(dp)) {
			dp = json_object();
			json_object_set_new(pst, "disruptedPods", dp);
		}
		char ts[64];
		now_rfc3339(ts, sizeof(ts), 0);
		json_object_set_new(dp, rt->name, json_string(ts));
		store_commit(f, R_PDB, "MODIFIED", pdb);
	}
	struct kreply drp = {0};
	do_delete(f, c, rt, o, json_object_get(body, "deleteOptions"), &drp);
	json_decref(drp.body);
	rp->status = 201;
	rp->body = status_success(201);
}

/* ---- dispatch */

static bool authorized(struct fake_kube *f, struct MHD_Connection *c)
{
	if (f->tls && f->client_certs) {
		const union MHD_ConnectionInfo *ci =
		    MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
		unsigned status = 0;
		if (!ci || !ci->tls_session ||
		    gnutls_certificate_verify_peers2((gnutls_session_t)ci->tls_session, &status) !=
			GNUTLS_E_SUCCESS ||
		    status != 0)
			return false;
	}
	if (f->token) {
		const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
		if (!h || strncmp(h, "Bearer ", 7) != 0 || strcmp(h + 7, f->token) != 0)
			return false;
	}
	return true;
}

/* A fault rule or random fault for this request; true when it answers. */
static bool fault_for(struct fake_kube *f, const char *method, const char *path, bool list_or_watch,
		      bool watch, bool has_rv, struct kreply *rp, int *watch_fault)
{
	*watch_fault = 0;
	pthread_mutex_lock(&f->lock);
	for (size_t i = 0; i < f->n_rules; i++) {
		struct krule *r = &f->rules[i];
		if (r->times <= 0 || (r->method && strcmp(r->method, method) != 0) ||
		    !prefix_ok(r->prefix, path))
			continue;
		r->times--;
		rp->status = r->status;
		rp->retry_after = r->retry_after;
		if (r->content_type) {
			rp->raw = xstrdup(r->body);
			rp->ctype = xstrdup(r->content_type);
		} else {
			rp->body = kstatus(r->status, NULL, NULL, "injected fault: %d", r->status);
		}
		pthread_mutex_unlock(&f->lock);
		return true;
	}
	bool hit = f->per_mille > 0 && (int)(rnd_next(f) % 1000) < f->per_mille;
	unsigned kind = hit ? rnd_next(f) % 3 : 0;
	pthread_mutex_unlock(&f->lock);
	if (!hit)
		return false;
	if (kind == 1 && list_or_watch && has_rv) {
		if (watch) {
			*watch_fault = 410;
			return false;
		}
		rp->status = 410;
		rp->body = kstatus(410, "Expired", NULL, "too old resource version");
		return true;
	}
	if (kind == 2 && watch) {
		*watch_fault = 1;
		return false;
	}
	rp->status = 429;
	rp->retry_after = 1;
	rp->body =
	    kstatus(429, "TooManyRequests", NULL, "Too many requests, please try again later.");
	return true;
}

static void dispatch(struct fake_kube *f, struct MHD_Connection *c, const char *method,
		     const struct kroute *rt, const struct strbuf *raw, int watch_fault,
		     struct kreply *rp)
{
	switch (rt->kind) {
	case RT_API: {
		char addr[64];
		snprintf(addr, sizeof(addr), "127.0.0.1:%u", f->port);
		rp->body = json_pack("{s:s, s:[s], s:[{s:s, s:s}]}", "kind", "APIVersions",
				     "versions", "v1", "serverAddressByClientCIDRs", "clientCIDR",
				     "0.0.0.0/0", "serverAddress", addr);
		rp->status = 200;
		return;
	}
	case RT_APIS:
		rp->body = disc_groups(f);
		rp->status = 200;
		return;
	case RT_GROUP:
		rp->body = disc_group(f, rt->group);
		rp->status = 200;
		return;
	case RT_GV:
		rp->body = disc_resources(f, rt->group, rt->version);
		rp->status = 200;
		return;
	case RT_VERSION:
		rp->body =
		    json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "major", "1",
			      "minor", "20", "gitVersion", "v1.20.2-fake", "gitCommit", "",
			      "gitTreeState", "clean", "buildDate", "1970-01-01T00:00:00Z",
			      "goVersion", "go1.15", "compiler", "gc", "platform", "linux/amd64");
		rp->status = 200;
		return;
	case RT_HEALTH:
		rp->raw = xstrdup("ok");
		rp->ctype = xstrdup("text/plain");
		rp->status = 200;
		return;
	case RT_NONE:
		rp->status = 404;
		rp->body = kstatus(404, "NotFound", NULL,
				   "the server could not find the requested resource");
		return;
	case RT_RES:
		break;
	}
	const struct kres *r = &kres_table[rt->res];
	bool is_get = strcmp(method, "GET") == 0;
	if (!rt->name[0]) {
		if (is_get) {
			const char *wv = arg(c, "watch");
			if (wv && (strcmp(wv, "true") == 0 || strcmp(wv, "1") == 0))
				do_watch(f, c, rt, rp, watch_fault);
			else
				do_list(f, c, rt, rp);
			return;
		}
		if (strcmp(method, "POST") != 0 || (r->namespaced && !rt->ns[0])) {
			rp->status = 405;
			rp->body = kstatus(405, "MethodNotAllowed", NULL,
					   "the server does not allow this method on the requested "
					   "resource");
			return;
		}
	}
	/* Everything else reads a body, when there is one. */
	json_t *body = NULL;
	bool needs_body = strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
			  strcmp(method, "PATCH") == 0;
	if (needs_body || (strcmp(method, "DELETE") == 0 && raw->len > 0)) {
		json_error_t jerr;
		body = json_loadb(raw->buf ? raw->buf : "", raw->len, 0, &jerr);
		if (!body) {
			rp->status = 400;
			rp->body = kstatus(400, "BadRequest", NULL,
					   "error decoding request body: %s (line %d, column %d)",
					   jerr.text, jerr.line, jerr.column);
			return;
		}
		bool patch_array = strcmp(method, "PATCH") == 0 && json_is_array(body);
		if (!json_is_object(body) && !patch_array) {
			json_decref(body);
			rp->status = 400;
			rp->body =
			    kstatus(400, "BadRequest", NULL,
				    "the object provided is unrecognized: expected a JSON object");
			return;
		}
	}
	pthread_mutex_lock(&f->lock);
	if (!rt->name[0]) {
		do_create(f, rt, body, rp);
		goto done;
	}
	struct kobj *o = store_find(f, r->store, r->namespaced ? rt->ns : NULL, rt->name);
	const char *sub = rt->sub;
	bool known_sub =
	    !sub[0] || (r->status && strcmp(sub, "status") == 0) ||
	    (rt->res == R_POD && (strcmp(sub, "binding") == 0 || strcmp(sub, "eviction") == 0));
	if (!known_sub) {
		rp->status = 404;
		rp->body = kstatus(404, "NotFound", NULL,
				   "the server could not find the requested resource");
		goto done;
	}
	if (!o) {
		if (strcmp(method, "PATCH") == 0 && !sub[0]) {
			const char *ct =
			    MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
			if (ct && strncmp(ct, "application/apply-patch+yaml", 28) == 0 &&
			    json_is_object(body)) {
				struct kroute crt = *rt;
				crt.name[0] = '\0';
				json_object_set_new(meta_of(body), "name", json_string(rt->name));
				do_create(f, &crt, body, rp);
				goto done;
			}
		}
		rp->status = 404;
		rp->body = not_found(r, rt->name);
		goto done;
	}
	if (is_get && strcmp(sub, "binding") != 0 && strcmp(sub, "eviction") != 0) {
		rp->status = 200;
		rp->body = out_copy(rt->res, o->obj);
	} else if (strcmp(method, "PUT") == 0 && (!sub[0] || strcmp(sub, "status") == 0)) {
		finish_update(f, rt, o, json_incref(body), true, rp);
	} else if (strcmp(method, "PATCH") == 0 && (!sub[0] || strcmp(sub, "status") == 0)) {
		do_patch(f, c, rt, o, body, rp);
	} else if (strcmp(method, "DELETE") == 0 && !sub[0]) {
		do_delete(f, c, rt, o, body, rp);
	} else if (strcmp(method, "POST") == 0 && strcmp(sub, "binding") == 0) {
		do_bind(f, rt, o, body, rp);
	} else if (strcmp(method, "POST") == 0 && strcmp(sub, "eviction") == 0) {
		do_evict(f, c, rt, o, body, rp);
	} else {
		rp->status = 405;
		rp->body =
		    kstatus(405, "MethodNotAllowed", NULL,
			    "the server does not allow this method on the requested resource");
	}
done:
	/* The store may hold body now, and drops it under the lock. */
	json_decref(body);
	pthread_mutex_unlock(&f->lock);
}

static bool fake_sleep(struct fake_kube *f, int ms)
{
	struct timespec until;
	deadline_in(&until, ms);
	pthread_mutex_lock(&f->lock);
	while (!f->stopping && ms > 0)
		if (pthread_cond_timedwait(&f->cond, &f->lock, &until) == ETIMEDOUT)
			break;
	bool ok = !f->stopping;
	pthread_mutex_unlock(&f->lock);
	return ok;
}

static FAKE_MHD_RESULT queue(struct MHD_Connection *c, struct kreply *rp)
{
	struct MHD_Response *resp;
	if (rp->watch) {
		resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, watch_read,
							 rp->watch, watch_free);
		MHD_add_response_header(resp, "Content-Type", "application/json");
	} else if (rp->raw) {
		size_t n = strlen(rp->raw);
		resp = MHD_create_response_from_buffer(n, rp->raw, MHD_RESPMEM_MUST_FREE);
		rp->raw = NULL;
		MHD_add_response_header(resp, "Content-Type", rp->ctype);
	} else {
		char *s = json_dumps(rp->body, JSON_COMPACT);
		resp = MHD_create_response_from_buffer(strlen(s), s, MHD_RESPMEM_MUST_FREE);
		MHD_add_response_header(resp, "Content-Type", "application/json");
	}
	if (rp->retry_after > 0) {
		char ra[16];
		snprintf(ra, sizeof(ra), "%d", rp->retry_after);
		MHD_add_response_header(resp, "Retry-After", ra);
	}
	FAKE_MHD_RESULT ret = MHD_queue_response(c, (unsigned)rp->status, resp);
	MHD_destroy_response(resp);
	json_decref(rp->body);
	free(rp->raw);
	free(rp->ctype);
	return ret;
}

static FAKE_MHD_RESULT on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	(void)version;
	struct fake_kube *f = cls;
	struct kconn *kc = *con_cls;
	if (!kc) {
		kc = xcalloc(1, sizeof(*kc));
		sb_init(&kc->body);
		*con_cls = kc;
		return MHD_YES;
	}
	if (*upload_size) {
		if (kc->body.len + *upload_size > KUBE_MAX_BODY)
			kc->too_large = true;
		else
			sb_append(&kc->body, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	pthread_mutex_lock(&f->lock);
	xgrow(f->reqs, f->cap_reqs, f->n_reqs + 1);
	f->reqs[f->n_reqs++] = (struct kreq){xstrdup(method), xstrdup(url)};
	int delay = f->delay_ms;
	pthread_mutex_unlock(&f->lock);

	struct kreply rp = {0};
	if (!authorized(f, c)) {
		rp.status = 401;
		rp.body = kstatus(401, "Unauthorized", NULL, "Unauthorized");
		return queue(c, &rp);
	}
	pthread_mutex_lock(&f->lock);
	struct kroute rt;
	route_parse(f, url, &rt);
	pthread_mutex_unlock(&f->lock);
	const char *wv = arg(c, "watch");
	bool watch = rt.kind == RT_RES && !rt.name[0] && strcmp(method, "GET") == 0 && wv &&
		     (strcmp(wv, "true") == 0 || strcmp(wv, "1") == 0);
	bool list_or_watch = rt.kind == RT_RES && !rt.name[0] && strcmp(method, "GET") == 0;
	const char *rvs = arg(c, "resourceVersion");
	const char *cont = arg(c, "continue");
	bool has_rv = (rvs && *rvs && strcmp(rvs, "0") != 0) || (cont && *cont);
	int watch_fault = 0;
	if (fault_for(f, method, url, list_or_watch, watch, has_rv, &rp, &watch_fault)) {
		if (delay && !fake_sleep(f, delay))
			return MHD_NO;
		return queue(c, &rp);
	}
	if (delay && !fake_sleep(f, delay))
		return MHD_NO;
	if (kc->too_large) {
		rp.status = 413;
		rp.body = kstatus(413, "RequestEntityTooLarge", NULL,
				  "Request entity too large: limit is %u", KUBE_MAX_BODY);
		return queue(c, &rp);
	}
	dispatch(f, c, method, &rt, &kc->body, watch_fault, &rp);
	return queue(c, &rp);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)c;
	(void)toe;
	struct kconn *kc = *con_cls;
	if (kc) {
		sb_free(&kc->body);
		free(kc);
	}
	*con_cls = NULL;
}

/* ------------------------------------------------------------ start and stop */

struct fake_kube *fake_kube_start(const struct fake_kube_options *opts)
{
	struct fake_kube_options none = {0};
	if (!opts)
		opts = &none;
	struct fake_kube *f = xcalloc(1, sizeof(*f));
	pthread_mutex_init(&f->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&f->cond, &ca);
	pthread_condattr_destroy(&ca);
	f->tls = opts->tls;
	f->client_certs = opts->tls && opts->client_certs;
	f->token = xstrdup_or_null(opts->token);
	f->rnd = (uint32_t)now_mono_ns() | 1u;
	if (opts->dir) {
		f->dir = xstrdup(opts->dir);
		if (mkdir(f->dir, 0700) != 0 && errno != EEXIST) {
			fprintf(stderr, "fake_kube: cannot make %s: %s\n", f->dir, strerror(errno));
			fake_kube_stop(f);
			return NULL;
		}
	} else {
		const char *tmp = getenv("TMPDIR");
		struct strbuf sb;
		sb_init(&sb);
		sb_printf(&sb, "%s/fake-kube.XXXXXX", tmp && *tmp ? tmp : "/tmp");
		f->dir = sb_detach(&sb);
		if (!mkdtemp(f->dir)) {
			fprintf(stderr, "fake_kube: mkdtemp %s: %s\n", f->dir, strerror(errno));
			fake_kube_stop(f);
			return NULL;
		}
		f->own_dir = true;
	}
	char *cert = NULL, *key = NULL, *cap = NULL;
	if (f->tls && !make_certs(f, &cert, &key, &cap)) {
		fprintf(stderr, "fake_kube: cannot make certificates in %s\n", f->dir);
		free(cert);
		free(key);
		free(cap);
		fake_kube_stop(f);
		return NULL;
	}
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	unsigned flags =
	    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ITC;
	if (f->tls)
		flags |= MHD_USE_TLS;
	struct MHD_OptionItem tls_opts[] = {
	    {MHD_OPTION_HTTPS_MEM_CERT, 0, cert},
	    {MHD_OPTION_HTTPS_MEM_KEY, 0, key},
	    {f->client_certs ? MHD_OPTION_HTTPS_MEM_TRUST : MHD_OPTION_END, 0, cap},
	    {MHD_OPTION_END, 0, NULL},
	};
	f->daemon =
	    MHD_start_daemon(flags, 0, NULL, NULL, on_request, f, MHD_OPTION_SOCK_ADDR,
			     (struct sockaddr *)&sa, MHD_OPTION_NOTIFY_COMPLETED, on_completed, f,
			     MHD_OPTION_ARRAY, f->tls ? tls_opts : tls_opts + 3, MHD_OPTION_END);
	if (!f->daemon) {
		fprintf(stderr, "fake_kube: MHD_start_daemon on 127.0.0.1 failed\n");
		free(cert);
		free(key);
		free(cap);
		fake_kube_stop(f);
		return NULL;
	}
	/* MHD copies nothing: the PEM texts must outlive the daemon. */
	f->pem[0] = cert;
	f->pem[1] = key;
	f->pem[2] = cap;
	const union MHD_DaemonInfo *info =
	    MHD_get_daemon_info(f->daemon, MHD_DAEMON_INFO_BIND_PORT);
	if (!info || info->port == 0) {
		fprintf(stderr, "fake_kube: cannot read the bound port\n");
		fake_kube_stop(f);
		return NULL;
	}
	f->port = info->port;
	snprintf(f->url, sizeof(f->url), "%s://127.0.0.1:%u", f->tls ? "https" : "http", f->port);
	if (!write_kubeconfig(f)) {
		fprintf(stderr, "fake_kube: cannot write the kubeconfig in %s\n", f->dir);
		fake_kube_stop(f);
		return NULL;
	}
	static const char *const namespaces[] = {"default", "kube-system", "kube-node-lease"};
	for (size_t i = 0; i < sizeof(namespaces) / sizeof(namespaces[0]); i++) {
		char buf[160];
		snprintf(
		    buf, sizeof(buf),
		    "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"%s\"},"
		    "\"status\":{\"phase\":\"Active\"}}",
		    namespaces[i]);
		fake_kube_put(f, buf);
	}
	return f;
}

static void unlink_owned(char *path)
{
	if (path)
		unlink(path);
	free(path);
}

static void free_kobj(void *v)
{
	struct kobj *o = v;
	free(o->key);
	json_decref(o->obj);
	free(o);
}

void fake_kube_stop(struct fake_kube *f)
{
	if (!f)
		return;
	pthread_mutex_lock(&f->lock);
	f->stopping = true;
	pthread_cond_broadcast(&f->cond);
	pthread_mutex_unlock(&f->lock);
	if (f->daemon)
		MHD_stop_daemon(f->daemon);
	for (int i = 0; i < 3; i++)
		free(f->pem[i]);
	for (int i = 0; i < R_COUNT; i++) {
		hmap_clear(&f->stores[i], free_kobj);
	}
	hist_trim(f, f->hist_n);
	free(f->hist);
	for (size_t i = 0; i < KUBE_SNAPSHOTS; i++)
		json_decref(f->snaps[i].items);
	for (size_t i = 0; i < f->n_rules; i++) {
		free(f->rules[i].method);
		free(f->rules[i].prefix);
		free(f->rules[i].content_type);
		free(f->rules[i].body);
	}
	free(f->rules);
	for (size_t i = 0; i < f->n_reqs; i++) {
		free(f->reqs[i].method);
		free(f->reqs[i].path);
	}
	free(f->reqs);
	unlink_owned(f->ca_file);
	unlink_owned(f->cert_file);
	unlink_owned(f->key_file);
	unlink_owned(f->client_cert_file);
	unlink_owned(f->client_key_file);
	unlink_owned(f->kubeconfig);
	if (f->own_dir && f->dir)
		rmdir(f->dir);
	free(f->dir);
	free(f->token);
	pthread_cond_destroy(&f->cond);
	pthread_mutex_destroy(&f->lock);
	free(f);
}
