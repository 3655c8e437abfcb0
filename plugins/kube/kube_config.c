/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kube_config.c - where the API server is and how kerf authenticates to
 * it: a kubeconfig or the in-cluster service account.
 *
 * Kubeconfigs are read with kerf's YAML reader (kerf/doc.h), so syntax
 * errors carry file:line:column.  Several files (KUBECONFIG=a:b) merge as
 * kubectl merges them: the first file that names a cluster, user or
 * context keeps it, and the first current-context set wins.  Relative
 * paths are relative to the file that holds them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kerf/doc.h>

#include "kube.h"

#define KUBECONFIG_MAX_BYTES ((size_t)16 << 20)
#define KUBECONFIG_MAX_FILES 32

void kube_conn_free(struct kube_conn *c)
{
	if (!c)
		return;
	free(c->server);
	free(c->ca_file);
	free(c->ca_pem);
	free(c->cert_file);
	free(c->cert_pem);
	free(c->key_file);
	free(c->key_pem);
	free(c->token);
	free(c->token_file);
	if (c->exec) {
		free(c->exec->api_version);
		free(c->exec->command);
		for (size_t i = 0; i < c->exec->n_args; i++)
			free(c->exec->args[i]);
		free(c->exec->args);
		for (size_t i = 0; i < c->exec->n_env; i++)
			free(c->exec->env[i]);
		free(c->exec->env);
		free(c->exec);
	}
	free(c->source);
	free(c->namespace_);
	free(c);
}

static char *dupn(const char *s, size_t n)
{
	char *d = malloc(n + 1);
	if (!d)
		abort();
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

static char *dup(const char *s)
{
	return s ? dupn(s, strlen(s)) : NULL;
}

static char *join2(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *d = malloc(la + lb + 1);
	if (!d)
		abort();
	memcpy(d, a, la);
	memcpy(d + la, b, lb + 1);
	return d;
}

/* ------------------------------------------------------------ base64 */

static int b64val(unsigned char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+' || ch == '-')
		return 62;
	if (ch == '/' || ch == '_')
		return 63;
	return -1;
}

/* Standard base64 (whitespace ignored) into a new NUL-terminated string; NULL when malformed. */
static char *b64decode(const char *s, size_t *out_len)
{
	size_t n = strlen(s), o = 0;
	char *d = malloc(n / 4 * 3 + 4);
	unsigned acc = 0;
	int bits = 0;
	bool pad = false;

	if (!d)
		abort();
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == ' ' || ch == '\n' || ch == '\r' || ch == '\t')
			continue;
		if (ch == '=') {
			pad = true;
			continue;
		}
		int v = b64val(ch);
		if (v < 0 || pad) {
			free(d);
			return NULL;
		}
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			d[o++] = (char)((acc >> bits) & 0xff);
		}
	}
	d[o] = '\0';
	if (out_len)
		*out_len = o;
	return d;
}

/* ------------------------------------------------------------ kubeconfig */

struct kc_file {
	char *path;
	char *dir; /* with a trailing '/' */
	struct kerf_doc *doc;
};

struct kc_set {
	size_t n;
	struct kc_file files[KUBECONFIG_MAX_FILES];
};

static void kc_set_clear(struct kc_set *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->files[i].path);
		free(s->files[i].dir);
		kerf_doc_free(s->files[i].doc);
	}
	s->n = 0;
}

static int kc_add_file(const struct kerf_host *h, struct kc_set *s, const char *path,
		       bool must_exist, struct kerf_error *err)
{
	char *text = NULL;
	size_t len = 0;
	struct kerf_doc *doc = NULL;
	int rc;

	if (s->n == KUBECONFIG_MAX_FILES)
		return kerf_error_set(err, KERF_E_CONFIG, "kubeconfig: more than %d files",
				      KUBECONFIG_MAX_FILES);
	rc = h->read_file(h->ctx, path, KUBECONFIG_MAX_BYTES, &text, &len, err);
	/* kubectl skips the files of KUBECONFIG that are not there. */
	if (rc == KERF_E_IO && !must_exist) {
		h->log(h->ctx, KERF_LOG_DEBUG, "KUBECONFIG: skipping %s", path);
		return 0;
	}
	if (rc)
		return rc;
	rc = kerf_doc_parse_optional(path, text, len, &doc, err);
	h->free(h->ctx, text);
	if (rc)
		return rc;
	if (!doc)
		return 0;
	if (kerf_doc_node_type(kerf_doc_root(doc)) != KERF_DOC_MAP) {
		kerf_doc_free(doc);
		return kerf_error_set(err, KERF_E_CONFIG, "%s: a kubeconfig must be a mapping",
				      path);
	}
	struct kc_file *f = &s->files[s->n++];
	f->path = dup(path);
	const char *slash = strrchr(path, '/');
	f->dir = slash ? dupn(path, (size_t)(slash - path) + 1) : dup("");
	f->doc = doc;
	return 0;
}

/* An entry `name` of list `list` (clusters, users, contexts): the first file that has it. */
static const struct kerf_doc_node *kc_find(const struct kc_set *s, const char *list,
					   const char *name, const char *field,
					   const struct kc_file **from)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct kerf_doc_node *seq =
		    kerf_doc_get(kerf_doc_root(s->files[i].doc), list);
		for (size_t k = 0; k < kerf_doc_size(seq); k++) {
			const struct kerf_doc_node *it = kerf_doc_item(seq, k);
			const char *n = kerf_doc_scalar(kerf_doc_get(it, "name"));
			if (n && strcmp(n, name) == 0) {
				*from = &s->files[i];
				return kerf_doc_get(it, field);
			}
		}
	}
	return NULL;
}

/* A string field; KERF_E_CONFIG naming the place when it is not a scalar. */
static int kc_string(const struct kc_file *f, const struct kerf_doc_node *map, const char *what,
		     const char *field, const char **out, struct kerf_error *err)
{
	const struct kerf_doc_node *n = kerf_doc_get(map, field);
	*out = NULL;
	if (!n)
		return 0;
	if (kerf_doc_node_type(n) != KERF_DOC_SCALAR || !kerf_doc_scalar(n))
		return kerf_error_set(err, KERF_E_CONFIG, "%s:%u:%u: %s.%s: must be a string",
				      f->path, kerf_doc_line(n), kerf_doc_column(n), what, field);
	*out = kerf_doc_scalar(n);
	return 0;
}

static char *kc_path(const struct kc_file *f, const char *p)
{
	return p[0] == '/' ? dup(p) : join2(f->dir, p);
}

/* A *-data field decoded from base64. */
static int kc_data(const struct kc_file *f, const struct kerf_doc_node *map, const char *what,
		   const char *field, char **out, struct kerf_error *err)
{
	const char *s;
	int rc = kc_string(f, map, what, field, &s, err);
	if (rc || !s)
		return rc;
	char *d = b64decode(s, NULL);
	if (!d) {
		const struct kerf_doc_node *n = kerf_doc_get(map, field);
		return kerf_error_set(err, KERF_E_CONFIG, "%s:%u:%u: %s.%s: not valid base64",
				      f->path, kerf_doc_line(n), kerf_doc_column(n), what, field);
	}
	free(*out);
	*out = d;
	return 0;
}

static int kc_exec(const struct kc_file *f, const struct kerf_doc_node *ex, const char *what,
		   struct kube_exec **out, struct kerf_error *err)
{
	struct kube_exec *e = calloc(1, sizeof(*e));
	const char *s;
	int rc;

	if (!e)
		abort();
	*out = e;
	if ((rc = kc_string(f, ex, what, "command", &s, err)) != 0)
		return rc;
	if (!s || !*s)
		return kerf_error_set(err, KERF_E_CONFIG, "%s:%u:%u: %s.command: required", f->path,
				      kerf_doc_line(ex), kerf_doc_column(ex), what);
	/* A command with a slash but not absolute is relative to the kubeconfig, as kubectl has it.
	 */
	e->command = strchr(s, '/') && s[0] != '/' ? kc_path(f, s) : dup(s);
	if ((rc = kc_string(f, ex, what, "apiVersion", &s, err)) != 0)
		return rc;
	if (!s || (strcmp(s, "client.authentication.k8s.io/v1") != 0 &&
		   strcmp(s, "client.authentication.k8s.io/v1beta1") != 0))
		return kerf_error_set(err, KERF_E_CONFIG,
				      "%s:%u:%u: %s.apiVersion: must be "
				      "client.authentication.k8s.io/v1 or v1beta1, not %s",
				      f->path, kerf_doc_line(ex), kerf_doc_column(ex), what,
				      s ? s : "unset");
	e->api_version = dup(s);
	const struct kerf_doc_node *args = kerf_doc_get(ex, "args");
	e->n_args = kerf_doc_size(args);
	e->args = calloc(e->n_args + 1, sizeof(char *));
	if (!e->args)
		abort();
	for (size_t i = 0; i < e->n_args; i++) {
		const char *a = kerf_doc_scalar(kerf_doc_item(args, i));
		if (!a)
			return kerf_error_set(err, KERF_E_CONFIG,
					      "%s: %s.args[%zu]: must be a string", f->path, what,
					      i);
		e->args[i] = dup(a);
	}
	const struct kerf_doc_node *env = kerf_doc_get(ex, "env");
	e->n_env = kerf_doc_size(env);
	e->env = calloc(e->n_env + 1, sizeof(char *));
	if (!e->env)
		abort();
	for (size_t i = 0; i < e->n_env; i++) {
		const struct kerf_doc_node *it = kerf_doc_item(env, i);
		const char *n = kerf_doc_scalar(kerf_doc_get(it, "name"));
		const char *v = kerf_doc_scalar(kerf_doc_get(it, "value"));
		if (!n || !*n || strchr(n, '='))
			return kerf_error_set(err, KERF_E_CONFIG,
					      "%s: %s.env[%zu].name: must be a variable name",
					      f->path, what, i);
		char *nv = join2(n, "=");
		e->env[i] = join2(nv, v ? v : "");
		free(nv);
	}
	return 0;
}

static int kc_build(const struct kc_set *s, const char *context, struct kube_conn *c,
		    struct kerf_error *err)
{
	const struct kc_file *cf = NULL, *uf = NULL, *xf = NULL;
	const char *ctx_name = context;
	int rc;

	if (!ctx_name) {
		for (size_t i = 0; i < s->n && !ctx_name; i++) {
			const char *cur = kerf_doc_scalar(
			    kerf_doc_get(kerf_doc_root(s->files[i].doc), "current-context"));
			if (cur && *cur)
				ctx_name = cur;
		}
		if (!ctx_name)
			return kerf_error_set(err, KERF_E_CONFIG,
					      "%s: no current-context, and no context configured",
					      s->files[0].path);
	}
	const struct kerf_doc_node *ctx = kc_find(s, "contexts", ctx_name, "context", &xf);
	if (!ctx)
		return kerf_error_set(err, KERF_E_NOTFOUND, "%s: no context \"%s\"",
				      s->files[0].path, ctx_name);
	const char *cluster = kerf_doc_scalar(kerf_doc_get(ctx, "cluster"));
	const char *user = kerf_doc_scalar(kerf_doc_get(ctx, "user"));
	const char *ns = kerf_doc_scalar(kerf_doc_get(ctx, "namespace"));
	if (!cluster)
		return kerf_error_set(err, KERF_E_CONFIG, "%s: context \"%s\" names no cluster",
				      xf->path, ctx_name);
	c->namespace_ = dup(ns && *ns ? ns : "default");
	const struct kerf_doc_node *cl = kc_find(s, "clusters", cluster, "cluster", &cf);
	if (!cl)
		return kerf_error_set(err, KERF_E_NOTFOUND, "%s: context \"%s\": no cluster \"%s\"",
				      xf->path, ctx_name, cluster);

	const char *v;
	if ((rc = kc_string(cf, cl, "cluster", "server", &v, err)) != 0)
		return rc;
	if (!v || (strncmp(v, "https://", 8) != 0 && strncmp(v, "http://", 7) != 0))
		return kerf_error_set(err, KERF_E_CONFIG,
				      "%s: cluster \"%s\": server must be an http(s) URL", cf->path,
				      cluster);
	size_t sl = strlen(v);
	while (sl > 0 && v[sl - 1] == '/')
		sl--;
	c->server = dupn(v, sl);
	if ((rc = kc_string(cf, cl, "cluster", "certificate-authority", &v, err)) != 0)
		return rc;
	if (v)
		c->ca_file = kc_path(cf, v);
	if ((rc = kc_data(cf, cl, "cluster", "certificate-authority-data", &c->ca_pem, err)) != 0)
		return rc;
	const struct kerf_doc_node *ins = kerf_doc_get(cl, "insecure-skip-tls-verify");
	v = kerf_doc_scalar(ins);
	c->insecure = v && strcmp(v, "true") == 0;

	if (user) {
		const struct kerf_doc_node *u = kc_find(s, "users", user, "user", &uf);
		if (!u)
			return kerf_error_set(err, KERF_E_NOTFOUND,
					      "%s: context \"%s\": no user \"%s\"", xf->path,
					      ctx_name, user);
		if ((rc = kc_string(uf, u, "user", "client-certificate", &v, err)) != 0)
			return rc;
		if (v)
			c->cert_file = kc_path(uf, v);
		if ((rc = kc_string(uf, u, "user", "client-key", &v, err)) != 0)
			return rc;
		if (v)
			c->key_file = kc_path(uf, v);
		if ((rc = kc_data(uf, u, "user", "client-certificate-data", &c->cert_pem, err)) ||
		    (rc = kc_data(uf, u, "user", "client-key-data", &c->key_pem, err)))
			return rc;
		if ((rc = kc_string(uf, u, "user", "token", &v, err)) != 0)
			return rc;
		if (v && *v)
			c->token = dup(v);
		if ((rc = kc_string(uf, u, "user", "tokenFile", &v, err)) != 0)
			return rc;
		if (v && *v)
			c->token_file = kc_path(uf, v);
		const struct kerf_doc_node *ex = kerf_doc_get(u, "exec");
		if (ex && (rc = kc_exec(uf, ex, "user.exec", &c->exec, err)) != 0)
			return rc;
		if (kerf_doc_get(u, "auth-provider"))
			return kerf_error_set(
			    err, KERF_E_CONFIG,
			    "%s: user \"%s\": auth-provider plugins are gone from "
			    "Kubernetes; use an exec credential plugin",
			    uf->path, user);
	}
	size_t need = strlen(s->files[0].path) + strlen(ctx_name) + 40;
	c->source = malloc(need);
	if (!c->source)
		abort();
	snprintf(c->source, need, "kubeconfig %s (context %s)", s->files[0].path, ctx_name);
	return 0;
}

/* ------------------------------------------------------------ in-cluster */

static int in_cluster(const struct kerf_host *h, const char *sa_dir, struct kube_conn *c,
		      struct kerf_error *err)
{
	const char *host = h->getenv(h->ctx, "KUBERNETES_SERVICE_HOST");
	char *hostc = dup(host);
	const char *port = h->getenv(h->ctx, "KUBERNETES_SERVICE_PORT");
	char *portc = dup(port && *port ? port : "443");
	size_t need = strlen(hostc) + strlen(portc) + 16;
	char *text = NULL;
	size_t len = 0;

	c->server = malloc(need);
	if (!c->server)
		abort();
	/* An IPv6 service address goes in brackets. */
	if (strchr(hostc, ':'))
		snprintf(c->server, need, "https://[%s]:%s", hostc, portc);
	else
		snprintf(c->server, need, "https://%s:%s", hostc, portc);
	free(hostc);
	free(portc);
	c->token_file = join2(sa_dir, "/token");
	c->ca_file = join2(sa_dir, "/ca.crt");
	c->source = dup("in-cluster service account");
	char *nsf = join2(sa_dir, "/namespace");
	if (h->read_file(h->ctx, nsf, 4096, &text, &len, NULL) == 0) {
		while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == ' '))
			text[--len] = '\0';
		c->namespace_ = dup(text);
		h->free(h->ctx, text);
	} else {
		c->namespace_ = dup("default");
	}
	free(nsf);
	/* The token must be there now; later reads pick up its rotations. */
	int rc = h->read_file(h->ctx, c->token_file, 1 << 20, &text, &len, err);
	if (rc)
		return rc;
	h->free(h->ctx, text);
	return 0;
}

int kube_conn_load(const struct kerf_host *h, const char *kubeconfig, const char *context,
		   const char *sa_dir, struct kube_conn **out, struct kerf_error *err)
{
	struct kube_conn *c = calloc(1, sizeof(*c));
	struct kc_set s = {0};
	int rc = 0;

	if (!c)
		abort();
	if (kubeconfig && *kubeconfig) {
		rc = kc_add_file(h, &s, kubeconfig, true, err);
	} else {
		const char *env = h->getenv(h->ctx, "KUBECONFIG");
		char *list = dup(env ? env : "");
		const char *sh = h->getenv(h->ctx, "KUBERNETES_SERVICE_HOST");
		if (*list) {
			char *save = NULL;
			for (char *p = strtok_r(list, ":", &save); p && rc == 0;
			     p = strtok_r(NULL, ":", &save))
				rc = kc_add_file(h, &s, p, false, err);
			if (rc == 0 && s.n == 0)
				rc = kerf_error_set(err, KERF_E_NOTFOUND,
						    "KUBECONFIG=%s: none of its files exists", env);
		} else if (sh && *sh) {
			free(list);
			rc = in_cluster(h, sa_dir, c, err);
			if (rc) {
				kube_conn_free(c);
				return rc;
			}
			*out = c;
			return 0;
		} else {
			const char *home = h->getenv(h->ctx, "HOME");
			if (!home || !*home) {
				rc = kerf_error_set(err, KERF_E_NOTFOUND,
						    "no kubeconfig: set kubeconfig, KUBECONFIG or "
						    "HOME, or run in a cluster");
			} else {
				char *p = join2(home, "/.kube/config");
				rc = kc_add_file(h, &s, p, true, err);
				free(p);
			}
		}
		free(list);
	}
	if (rc == 0 && s.n == 0)
		rc = kerf_error_set(err, KERF_E_NOTFOUND, "%s: empty kubeconfig",
				    kubeconfig ? kubeconfig : "kubeconfig");
	if (rc == 0)
		rc = kc_build(&s, context, c, err);
	kc_set_clear(&s);
	if (rc) {
		kube_conn_free(c);
		return rc;
	}
	*out = c;
	return 0;
}
