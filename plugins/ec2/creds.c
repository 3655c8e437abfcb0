/* SPDX-License-Identifier: Apache-2.0 */
/*
 * creds.c - the AWS credential chain, in the order the AWS SDKs search it:
 *
 *   1. environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN
 *   2. web identity: AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE, exchanged
 *      through STS AssumeRoleWithWebIdentity (IRSA on EKS)
 *   3. the shared credentials and config files' profile (AWS_PROFILE,
 *      AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE), static keys or a
 *      role_arn assumed from a source_profile / credential_source chain
 *   4. container credentials: AWS_CONTAINER_CREDENTIALS_FULL_URI (or
 *      _RELATIVE_URI) with AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (EKS Pod
 *      Identity, ECS)
 *   5. the instance role from IMDSv2 (token PUT, then the role's keys)
 *
 * The first source that is configured decides: when it fails, the chain
 * fails with its error rather than quietly using another identity.  A
 * profile named in kerf.yaml skips the environment's keys, as the CLI's
 * --profile does.  Every
 * secret read or received is registered with the host so its log redacts
 * it; messages name sources, roles and files, never keys or tokens.
 */
#include "aws_int.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aws_buf.h"

#define CREDS_FILE_MAX (1024 * 1024)
#define TOKEN_FILE_MAX (64 * 1024)
/* source_profile chains longer than this are a loop or a mistake. */
#define PROFILE_CHAIN_MAX 5
#define IMDS_TOKEN_TTL "21600"

static const char *env(struct aws_client *c, const char *name)
{
	const char *v = c->host->getenv(c->host->ctx, name);
	return v && *v ? v : NULL;
}

static void secret(struct aws_client *c, const char *s)
{
	if (s && *s)
		c->host->register_secret(c->host->ctx, s);
}

/* Prefixes err's message ("aws: profile x: " + what failed) and sets rc. */
static int wrap(struct kerf_error *err, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int wrap(struct kerf_error *err, int rc, const char *fmt, ...)
{
	if (!err)
		return rc;
	char inner[KERF_ERROR_MSG_MAX];
	snprintf(inner, sizeof(inner), "%s", err->message);
	char prefix[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	return kerf_error_set(err, rc, "%s: %s", prefix, inner);
}

static void set_creds(struct aws_client *c, struct aws_creds *out, const char *ak, const char *sk,
		      const char *tok, int64_t expires_ms)
{
	aws_creds_clear(out);
	out->access_key = aws_xstrdup(ak);
	out->secret_key = aws_xstrdup(sk);
	out->session_token = tok && *tok ? aws_xstrdup(tok) : NULL;
	out->expires_ms = expires_ms;
	secret(c, sk);
	secret(c, tok);
}

/* Reads a token file through the host, trimmed of trailing white space. */
static int read_token(struct aws_client *c, const char *path, char **out, struct kerf_error *err)
{
	const struct kerf_host *h = c->host;
	char *data = NULL;
	size_t len = 0;
	struct kerf_error e = KERF_ERROR_INIT;
	int rc = h->read_file(h->ctx, path, TOKEN_FILE_MAX, &data, &len, &e);
	if (rc != 0)
		return kerf_error_set(err, KERF_E_AUTH, "aws: cannot read token file %s: %s", path,
				      e.message);
	while (len > 0 && isspace((unsigned char)data[len - 1]))
		len--;
	*out = aws_xstrndup(data, len);
	if (data)
		memset(data, 0, len);
	h->free(h->ctx, data);
	secret(c, *out);
	if (!**out) {
		aws_free_secret(*out);
		*out = NULL;
		return kerf_error_set(err, KERF_E_AUTH, "aws: token file %s is empty", path);
	}
	return 0;
}

static char *session_name(struct aws_client *c, const char *given)
{
	if (given && *given)
		return aws_xstrdup(given);
	struct aws_buf b = {0};
	aws_buf_addf(&b, "kerf-%lld", (long long)c->host->wall_ms(c->host->ctx));
	return aws_buf_detach(&b);
}

/* The Credentials element of an STS answer into out. */
static int sts_credentials(struct aws_client *c, xmlDoc *doc, const char *result,
			   struct aws_creds *out, struct kerf_error *err)
{
	xmlNode *cr = aws_xml_path(aws_xml_child(xmlDocGetRootElement(doc), result), "Credentials");
	char *ak = aws_xml_text(cr, "AccessKeyId");
	char *sk = aws_xml_text(cr, "SecretAccessKey");
	char *tok = aws_xml_text(cr, "SessionToken");
	char *exp = aws_xml_text(cr, "Expiration");
	int rc = 0;
	int64_t expires = exp ? aws_parse_iso8601(exp) : -1;
	if (!ak || !*ak || !sk || !*sk || !tok || !*tok || expires < 0)
		rc = kerf_error_set(err, KERF_E_PARSE, "aws: STS %s has no complete Credentials",
				    result);
	else
		set_creds(c, out, ak, sk, tok, expires);
	free(ak);
	aws_free_secret(sk);
	aws_free_secret(tok);
	free(exp);
	return rc;
}

static int assume_role_web_identity(struct aws_client *c, const char *role_arn,
				    const char *token_file, const char *session,
				    struct aws_creds *out, struct kerf_error *err)
{
	char *token = NULL;
	int rc = read_token(c, token_file, &token, err);
	if (rc != 0)
		return rc;
	char *name = session_name(c, session);
	struct aws_params p = {0};
	aws_params_add(&p, "RoleArn", role_arn);
	aws_params_add(&p, "RoleSessionName", name);
	aws_params_add(&p, "WebIdentityToken", token);
	xmlDoc *doc = NULL;
	/* The web identity token is the proof: this call is not signed. */
	rc = aws_query_with(c, AWS_STS, "AssumeRoleWithWebIdentity", &p, NULL, &doc, err);
	if (rc == 0)
		rc = sts_credentials(c, doc, "AssumeRoleWithWebIdentityResult", out, err);
	xmlFreeDoc(doc);
	for (size_t i = 0; i < p.n; i++)
		if (strcmp(p.items[i].name, "WebIdentityToken") == 0)
			memset(p.items[i].value, 0, strlen(p.items[i].value));
	aws_params_clear(&p);
	aws_free_secret(token);
	free(name);
	return rc;
}

/* ------------------------------------------------------------ 1. environment */

static int from_env(struct aws_client *c, struct aws_creds *out, bool *configured)
{
	const char *ak = env(c, "AWS_ACCESS_KEY_ID");
	const char *sk = env(c, "AWS_SECRET_ACCESS_KEY");
	*configured = ak && sk;
	if (*configured) {
		/* getenv's strings last only until the next call: copy before the next. */
		char *akd = aws_xstrdup(ak);
		char *skd = aws_xstrdup(sk);
		const char *tok = env(c, "AWS_SESSION_TOKEN");
		set_creds(c, out, akd, skd, tok, 0);
		free(akd);
		aws_free_secret(skd);
	}
	return 0;
}

/* ------------------------------------------------------------ 2. web identity */

static int from_web_identity(struct aws_client *c, struct aws_creds *out, bool *configured,
			     struct kerf_error *err)
{
	const char *v = env(c, "AWS_ROLE_ARN");
	char *role = v ? aws_xstrdup(v) : NULL;
	v = env(c, "AWS_WEB_IDENTITY_TOKEN_FILE");
	char *file = v ? aws_xstrdup(v) : NULL;
	v = env(c, "AWS_ROLE_SESSION_NAME");
	char *session = v ? aws_xstrdup(v) : NULL;
	*configured = role && file;
	int rc = 0;
	if (*configured)
		rc = assume_role_web_identity(c, role, file, session, out, err);
	free(role);
	free(file);
	free(session);
	return rc;
}

/* ------------------------------------------------------------ 4. containers */

static int from_container(struct aws_client *c, struct aws_creds *out, bool *configured,
			  struct kerf_error *err)
{
	const char *full = env(c, "AWS_CONTAINER_CREDENTIALS_FULL_URI");
	const char *rel = env(c, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	*configured = full || rel;
	if (!*configured)
		return 0;
	struct aws_buf url = {0};
	if (full) {
		aws_buf_adds(&url, full);
	} else {
		aws_buf_adds(&url, "http://169.254.170.2");
		aws_buf_adds(&url, rel);
	}
	char *token = NULL;
	int rc = 0;
	const char *file = env(c, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
	if (file) {
		char *f = aws_xstrdup(file);
		rc = read_token(c, f, &token, err);
		free(f);
	} else if ((file = env(c, "AWS_CONTAINER_AUTHORIZATION_TOKEN"))) {
		token = aws_xstrdup(file);
		secret(c, token);
	}
	if (rc != 0) {
		aws_buf_free(&url);
		return rc;
	}
	struct kerf_http_header auth = {"Authorization", token};
	struct aws_call call = {.svc = AWS_IMDS,
				.method = "GET",
				.url = url.data,
				.extra = &auth,
				.n_extra = token ? 1 : 0,
				.timeout_ms = AWS_IMDS_TIMEOUT_MS};
	struct kerf_http_response *r = NULL;
	rc = aws_exchange(c, &call, &r, err);
	aws_free_secret(token);
	if (rc != 0) {
		wrap(err, rc, "aws: container credentials from %s", url.data);
		aws_buf_free(&url);
		return rc;
	}
	json_t *j = NULL;
	rc = aws_json_parse(r->body, r->body_len, &j, err);
	c->host->http_response_free(c->host->ctx, r);
	if (rc == 0) {
		const char *ak = json_string_value(json_object_get(j, "AccessKeyId"));
		const char *sk = json_string_value(json_object_get(j, "SecretAccessKey"));
		const char *tok = json_string_value(json_object_get(j, "Token"));
		const char *exp = json_string_value(json_object_get(j, "Expiration"));
		int64_t expires = exp ? aws_parse_iso8601(exp) : 0;
		if (!ak || !sk || expires < 0)
			rc = kerf_error_set(err, KERF_E_PARSE,
					    "aws: container credentials from %s are incomplete",
					    url.data);
		else
			set_creds(c, out, ak, sk, tok, expires);
	}
	json_decref(j);
	aws_buf_free(&url);
	return rc;
}

/* ------------------------------------------------------------ 5. IMDSv2 */

static int imds_get(struct aws_client *c, const char *method, const char *path,
		    const struct kerf_http_header *hdr, char **body, struct kerf_error *err)
{
	struct aws_buf url = {0};
	aws_buf_adds(&url, c->endpoint[AWS_IMDS]);
	aws_buf_adds(&url, path);
	struct aws_call call = {.svc = AWS_IMDS,
				.method = method,
				.url = url.data,
				.extra = hdr,
				.n_extra = 1,
				.timeout_ms = AWS_IMDS_TIMEOUT_MS,
				.max_attempts = 2};
	struct kerf_http_response *r = NULL;
	int rc = aws_exchange(c, &call, &r, err);
	aws_buf_free(&url);
	if (rc != 0)
		return rc;
	*body = aws_xstrndup(r->body ? r->body : "", r->body_len);
	c->host->http_response_free(c->host->ctx, r);
	return 0;
}

static int from_imds(struct aws_client *c, struct aws_creds *out, struct kerf_error *err)
{
	char *token = NULL, *roles = NULL, *doc = NULL;
	struct kerf_http_header ttl = {"X-aws-ec2-metadata-token-ttl-seconds", IMDS_TOKEN_TTL};
	int rc = imds_get(c, "PUT", "/latest/api/token", &ttl, &token, err);
	if (rc != 0)
		goto out;
	secret(c, token);
	struct kerf_http_header tok = {"X-aws-ec2-metadata-token", token};
	rc = imds_get(c, "GET", "/latest/meta-data/iam/security-credentials/", &tok, &roles, err);
	if (rc != 0)
		goto out;
	size_t l = strcspn(roles, "\r\n");
	roles[l] = '\0';
	if (!*roles || strchr(roles, '/')) {
		rc = kerf_error_set(err, KERF_E_AUTH, "aws: the instance has no IAM role");
		goto out;
	}
	struct aws_buf path = {0};
	aws_buf_addf(&path, "/latest/meta-data/iam/security-credentials/%s", roles);
	rc = imds_get(c, "GET", path.data, &tok, &doc, err);
	aws_buf_free(&path);
	if (rc != 0)
		goto out;
	json_t *j = NULL;
	rc = aws_json_parse(doc, strlen(doc), &j, err);
	if (rc == 0) {
		const char *code = json_string_value(json_object_get(j, "Code"));
		const char *ak = json_string_value(json_object_get(j, "AccessKeyId"));
		const char *sk = json_string_value(json_object_get(j, "SecretAccessKey"));
		const char *st = json_string_value(json_object_get(j, "Token"));
		const char *exp = json_string_value(json_object_get(j, "Expiration"));
		int64_t expires = exp ? aws_parse_iso8601(exp) : -1;
		if (code && strcmp(code, "Success") != 0)
			rc = kerf_error_set(err, KERF_E_AUTH, "aws: instance role %s: %s", roles,
					    code);
		else if (!ak || !sk || !st || expires < 0)
			rc = kerf_error_set(err, KERF_E_PARSE,
					    "aws: instance role %s credentials are incomplete",
					    roles);
		else
			set_creds(c, out, ak, sk, st, expires);
	}
	json_decref(j);
out:
	aws_free_secret(token);
	free(roles);
	aws_free_secret(doc);
	return rc;
}

/* ------------------------------------------------------------ 3. shared files */

struct ini_entry {
	char *section; /* profile name */
	char *key;
	char *value;
};

struct ini {
	struct ini_entry *e;
	size_t n, cap;
};

static void ini_free(struct ini *ini)
{
	for (size_t i = 0; i < ini->n; i++) {
		free(ini->e[i].section);
		free(ini->e[i].key);
		aws_free_secret(ini->e[i].value);
	}
	free(ini->e);
	memset(ini, 0, sizeof(*ini));
}

static char *trimmed(const char *s, size_t len)
{
	while (len && isspace((unsigned char)*s)) {
		s++;
		len--;
	}
	while (len && isspace((unsigned char)s[len - 1]))
		len--;
	return aws_xstrndup(s, len);
}

/*
 * The AWS shared file format: "[name]" sections (in the config file
 * "[profile name]", and "[default]"), "key = value" lines, comments from
 * '#' or ';' at a line's start.  Indented lines continue a nested
 * setting (s3 = ...), which the chain never needs, so they are skipped.
 */
static void ini_parse(struct ini *ini, const char *text, bool config)
{
	char *section = NULL;
	const char *p = text;
	while (*p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		const char *line = p;
		p = eol ? eol + 1 : p + len;
		if (len && line[len - 1] == '\r')
			len--;
		if (len == 0 || line[0] == '#' || line[0] == ';')
			continue;
		if (line[0] == ' ' || line[0] == '\t')
			continue;
		if (line[0] == '[') {
			const char *close = memchr(line, ']', len);
			free(section);
			section = NULL;
			if (!close)
				continue;
			char *name = trimmed(line + 1, (size_t)(close - line - 1));
			if (config && strncmp(name, "profile", 7) == 0 &&
			    isspace((unsigned char)name[7])) {
				section = trimmed(name + 8, strlen(name + 8));
				free(name);
			} else if (config && strcmp(name, "default") != 0) {
				/* [sso-session x], [services x]: not profiles. */
				free(name);
			} else {
				section = name;
			}
			continue;
		}
		const char *eq = memchr(line, '=', len);
		if (!section || !eq)
			continue;
		if (ini->n == ini->cap) {
			ini->cap = ini->cap ? ini->cap * 2 : 16;
			ini->e = realloc(ini->e, ini->cap * sizeof(*ini->e));
			if (!ini->e)
				abort();
		}
		struct ini_entry *e = &ini->e[ini->n++];
		e->section = aws_xstrdup(section);
		e->key = trimmed(line, (size_t)(eq - line));
		for (char *k = e->key; *k; k++)
			*k = (char)tolower((unsigned char)*k);
		e->value = trimmed(eq + 1, len - (size_t)(eq + 1 - line));
	}
	free(section);
}

struct profiles {
	struct ini creds;  /* the credentials file: wins over config */
	struct ini config; /* the config file */
};

static const char *ini_get(const struct ini *ini, const char *profile, const char *key)
{
	const char *v = NULL;
	for (size_t i = 0; i < ini->n; i++)
		if (strcmp(ini->e[i].section, profile) == 0 && strcmp(ini->e[i].key, key) == 0)
			v = ini->e[i].value; /* a repeated key: the last one counts */
	return v;
}

static bool ini_has(const struct ini *ini, const char *profile)
{
	for (size_t i = 0; i < ini->n; i++)
		if (strcmp(ini->e[i].section, profile) == 0)
			return true;
	return false;
}

static const char *prof_get(const struct profiles *pf, const char *profile, const char *key)
{
	const char *v = ini_get(&pf->creds, profile, key);
	if (!v)
		v = ini_get(&pf->config, profile, key);
	return v && *v ? v : NULL;
}

/* Reads a file if it is there: a missing file is an empty one. */
static void load_file(struct aws_client *c, const char *path, struct ini *ini, bool config)
{
	const struct kerf_host *h = c->host;
	char *data = NULL;
	size_t len = 0;
	struct kerf_error e = KERF_ERROR_INIT;
	if (h->read_file(h->ctx, path, CREDS_FILE_MAX, &data, &len, &e) != 0) {
		if (e.code != KERF_E_NOTFOUND && e.code != KERF_E_IO)
			h->log(h->ctx, KERF_LOG_WARN, "aws: cannot read %s: %s", path, e.message);
		return;
	}
	ini_parse(ini, data, config);
	memset(data, 0, len);
	h->free(h->ctx, data);
}

static char *home_path(struct aws_client *c, const char *env_name, const char *leaf)
{
	const char *v = env(c, env_name);
	if (v)
		return aws_xstrdup(v);
	const char *home = env(c, "HOME");
	if (!home)
		return NULL;
	struct aws_buf b = {0};
	aws_buf_addf(&b, "%s/.aws/%s", home, leaf);
	return aws_buf_detach(&b);
}

static int resolve_profile(struct aws_client *c, const struct profiles *pf, const char *name,
			   int depth, struct aws_creds *out, struct kerf_error *err);

static int assume_role(struct aws_client *c, const struct profiles *pf, const char *name,
		       const char *role, const struct aws_creds *source, struct aws_creds *out,
		       struct kerf_error *err)
{
	char *session = session_name(c, prof_get(pf, name, "role_session_name"));
	struct aws_params p = {0};
	aws_params_add(&p, "RoleArn", role);
	aws_params_add(&p, "RoleSessionName", session);
	const char *ext = prof_get(pf, name, "external_id");
	if (ext)
		aws_params_add(&p, "ExternalId", ext);
	const char *dur = prof_get(pf, name, "duration_seconds");
	if (dur)
		aws_params_add(&p, "DurationSeconds", dur);
	xmlDoc *doc = NULL;
	int rc = aws_query_with(c, AWS_STS, "AssumeRole", &p, source, &doc, err);
	if (rc == 0)
		rc = sts_credentials(c, doc, "AssumeRoleResult", out, err);
	else
		wrap(err, rc, "aws: profile %s: AssumeRole", name);
	xmlFreeDoc(doc);
	aws_params_clear(&p);
	free(session);
	return rc;
}

static int resolve_profile(struct aws_client *c, const struct profiles *pf, const char *name,
			   int depth, struct aws_creds *out, struct kerf_error *err)
{
	if (depth > PROFILE_CHAIN_MAX)
		return kerf_error_set(
		    err, KERF_E_CONFIG,
		    "aws: profile %s: source_profile chain longer than %d (a loop?)", name,
		    PROFILE_CHAIN_MAX);
	if (!ini_has(&pf->creds, name) && !ini_has(&pf->config, name))
		return kerf_error_set(err, KERF_E_CONFIG, "aws: profile %s not found", name);
	const char *ak = prof_get(pf, name, "aws_access_key_id");
	const char *sk = prof_get(pf, name, "aws_secret_access_key");
	const char *role = prof_get(pf, name, "role_arn");
	if (!role) {
		if (!ak || !sk)
			return kerf_error_set(err, KERF_E_CONFIG,
					      "aws: profile %s has neither keys nor role_arn",
					      name);
		set_creds(c, out, ak, sk, prof_get(pf, name, "aws_session_token"), 0);
		return 0;
	}
	const char *wif = prof_get(pf, name, "web_identity_token_file");
	if (wif)
		return assume_role_web_identity(c, role, wif,
						prof_get(pf, name, "role_session_name"), out, err);
	struct aws_creds source = {0};
	int rc;
	const char *src = prof_get(pf, name, "source_profile");
	const char *cs = prof_get(pf, name, "credential_source");
	if (src && strcmp(src, name) == 0) {
		/* A profile that is its own source assumes the role with its own keys. */
		if (!ak || !sk)
			return kerf_error_set(err, KERF_E_CONFIG,
					      "aws: profile %s is its own source_profile but has "
					      "no keys",
					      name);
		set_creds(c, &source, ak, sk, prof_get(pf, name, "aws_session_token"), 0);
		rc = 0;
	} else if (src) {
		rc = resolve_profile(c, pf, src, depth + 1, &source, err);
	} else if (cs && strcasecmp(cs, "Environment") == 0) {
		bool configured = false;
		rc = from_env(c, &source, &configured);
		if (rc == 0 && !configured)
			rc = kerf_error_set(err, KERF_E_AUTH,
					    "aws: profile %s: credential_source Environment but no "
					    "AWS_ACCESS_KEY_ID",
					    name);
	} else if (cs && strcasecmp(cs, "Ec2InstanceMetadata") == 0) {
		rc = from_imds(c, &source, err);
	} else if (cs && strcasecmp(cs, "EcsContainer") == 0) {
		bool configured = false;
		rc = from_container(c, &source, &configured, err);
		if (rc == 0 && !configured)
			rc =
			    kerf_error_set(err, KERF_E_AUTH,
					   "aws: profile %s: credential_source EcsContainer but no "
					   "container credentials URI",
					   name);
	} else {
		return kerf_error_set(err, KERF_E_CONFIG,
				      "aws: profile %s has role_arn but no source_profile, "
				      "credential_source or web_identity_token_file",
				      name);
	}
	if (rc == 0)
		rc = assume_role(c, pf, name, role, &source, out, err);
	aws_creds_clear(&source);
	return rc;
}

static int from_profile(struct aws_client *c, struct aws_creds *out, bool *configured, char *source,
			size_t size, struct kerf_error *err)
{
	const char *explicit_name = c->profile ? c->profile : env(c, "AWS_PROFILE");
	char *name = aws_xstrdup(explicit_name ? explicit_name : "default");
	struct profiles pf = {0};
	char *cred_path = home_path(c, "AWS_SHARED_CREDENTIALS_FILE", "credentials");
	char *config_path = home_path(c, "AWS_CONFIG_FILE", "config");
	if (cred_path)
		load_file(c, cred_path, &pf.creds, false);
	if (config_path)
		load_file(c, config_path, &pf.config, true);
	/* A profile asked for by name must exist; "default" may be absent. */
	*configured = explicit_name || ini_has(&pf.creds, name) || ini_has(&pf.config, name);
	int rc = 0;
	if (*configured) {
		rc = resolve_profile(c, &pf, name, 0, out, err);
		if (rc == 0)
			snprintf(source, size, "%s:%s",
				 prof_get(&pf, name, "role_arn") ? "assume-role" : "profile", name);
		else if (rc == KERF_E_CONFIG)
			rc = KERF_E_AUTH;
		if (rc != 0 && err)
			err->code = rc;
	}
	ini_free(&pf.creds);
	ini_free(&pf.config);
	free(cred_path);
	free(config_path);
	free(name);
	return rc;
}

char *aws_profile_region(struct aws_client *c)
{
	const char *explicit_name = c->profile ? c->profile : env(c, "AWS_PROFILE");
	char *path = home_path(c, "AWS_CONFIG_FILE", "config");
	if (!path)
		return NULL;
	struct ini config = {0};
	load_file(c, path, &config, true);
	const char *v = ini_get(&config, explicit_name ? explicit_name : "default", "region");
	char *region = v && *v ? aws_xstrdup(v) : NULL;
	ini_free(&config);
	free(path);
	return region;
}

/* ------------------------------------------------------------ the chain */

int aws_creds_resolve(struct aws_client *c, struct aws_creds *out, char *source, size_t size,
		      struct kerf_error *err)
{
	bool configured = false;
	int rc = 0;
	/* A profile named in kerf.yaml is explicit, like the CLI's --profile:
	 * keys lying in the environment must not override it. */
	if (!c->profile) {
		rc = from_env(c, out, &configured);
		if (configured) {
			snprintf(source, size, "env");
			return rc;
		}
	}
	rc = from_web_identity(c, out, &configured, err);
	if (configured) {
		snprintf(source, size, "web-identity");
		return rc == 0 ? 0 : wrap(err, rc, "aws: web identity (%s)", "AWS_ROLE_ARN");
	}
	rc = from_profile(c, out, &configured, source, size, err);
	if (configured)
		return rc;
	rc = from_container(c, out, &configured, err);
	if (configured) {
		snprintf(source, size, "container");
		return rc;
	}
	const char *off = env(c, "AWS_EC2_METADATA_DISABLED");
	if (off && strcasecmp(off, "true") == 0)
		return kerf_error_set(
		    err, KERF_E_AUTH,
		    "aws: no credentials: none in the environment, web identity, "
		    "profiles or container, and AWS_EC2_METADATA_DISABLED is set");
	rc = from_imds(c, out, err);
	if (rc == 0) {
		snprintf(source, size, "imds");
		return 0;
	}
	return wrap(err, KERF_E_AUTH,
		    "aws: no credentials: none in the environment, web identity, profiles or "
		    "container, and the instance metadata service (%s) failed",
		    c->endpoint[AWS_IMDS]);
}
