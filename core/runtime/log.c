/* SPDX-License-Identifier: Apache-2.0 */
/*
 * log.c - levelled, redacted, one-line log output.
 */
#include "log.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "util.h"

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
/* Read without the lock by log_enabled(), which every message goes through. */
static atomic_int log_level = KERF_LOG_INFO;
static bool log_json;
static log_sink_fn log_sink;
static void *log_sink_arg;
static log_time_fn log_time;
static void *log_time_arg;

/* Registered secrets, longest first so a secret that contains another is redacted whole. */
static char **log_secrets;
static size_t log_n_secrets, log_cap_secrets;

static const char *const level_names[] = {"error", "warn", "info", "debug", "trace"};
static const char *const level_upper[] = {"ERROR", "WARN", "INFO", "DEBUG", "TRACE"};

static kerf_log_level clamp_level(kerf_log_level level)
{
	/* A plugin may pass any int through kerf_host.log; never index out of range. */
	if ((int)level < (int)KERF_LOG_ERROR)
		return KERF_LOG_ERROR;
	if ((int)level > (int)KERF_LOG_TRACE)
		return KERF_LOG_TRACE;
	return level;
}

void log_init(kerf_log_level level, bool json)
{
	pthread_mutex_lock(&log_lock);
	atomic_store(&log_level, (int)clamp_level(level));
	log_json = json;
	pthread_mutex_unlock(&log_lock);
}

void log_set_level(kerf_log_level level)
{
	atomic_store(&log_level, (int)clamp_level(level));
}

kerf_log_level log_get_level(void)
{
	return (kerf_log_level)atomic_load(&log_level);
}

bool log_enabled(kerf_log_level level)
{
	return (int)level <= atomic_load(&log_level);
}

const char *log_level_name(kerf_log_level level)
{
	if ((int)level < 0 || (int)level > (int)KERF_LOG_TRACE)
		return "unknown";
	return level_names[level];
}

void log_set_sink(log_sink_fn fn, void *arg)
{
	pthread_mutex_lock(&log_lock);
	log_sink = fn;
	log_sink_arg = arg;
	pthread_mutex_unlock(&log_lock);
}

void log_set_time(log_time_fn fn, void *arg)
{
	pthread_mutex_lock(&log_lock);
	log_time = fn;
	log_time_arg = arg;
	pthread_mutex_unlock(&log_lock);
}

void log_register_secret(const char *secret)
{
	if (!secret || !*secret)
		return;
	pthread_mutex_lock(&log_lock);
	size_t len = strlen(secret), at = log_n_secrets;
	for (size_t i = 0; i < log_n_secrets; i++) {
		if (strcmp(log_secrets[i], secret) == 0) {
			pthread_mutex_unlock(&log_lock);
			return;
		}
		if (at == log_n_secrets && strlen(log_secrets[i]) < len)
			at = i;
	}
	xgrow(log_secrets, log_cap_secrets, log_n_secrets + 1);
	memmove(log_secrets + at + 1, log_secrets + at,
		(log_n_secrets - at) * sizeof(*log_secrets));
	log_secrets[at] = xstrdup(secret);
	log_n_secrets++;
	pthread_mutex_unlock(&log_lock);
}

void log_shutdown(void)
{
	pthread_mutex_lock(&log_lock);
	for (size_t i = 0; i < log_n_secrets; i++)
		free(log_secrets[i]);
	free(log_secrets);
	log_secrets = NULL;
	log_n_secrets = log_cap_secrets = 0;
	log_sink = NULL;
	log_sink_arg = NULL;
	log_time = NULL;
	log_time_arg = NULL;
	log_json = false;
	atomic_store(&log_level, (int)KERF_LOG_INFO);
	pthread_mutex_unlock(&log_lock);
}

/* ------------------------------------------------------------ redaction */

/*
 * How the value after a credential keyword is found.
 *   LINE:  the rest of the line (an Authorization header value has spaces
 *          and commas: "AWS4-HMAC-SHA256 Credential=..., Signature=...").
 *   TOKEN: one token, up to whitespace or punctuation that no token holds.
 */
enum pat_extent { PAT_LINE, PAT_TOKEN };

struct pattern {
	const char *keyword; /* matched case-insensitively */
	enum pat_extent extent;
	/*
	 * A separator (':', '=' or '>', with optional quotes and blanks) must
	 * follow the keyword, so prose such as "authorization failed" is left
	 * alone.  Keywords that carry their own separator do not need one.
	 */
	bool needs_separator;
};

static const struct pattern patterns[] = {
    {"authorization", PAT_LINE, true},
    {"proxy-authorization", PAT_LINE, true},
    {"cookie", PAT_LINE, true},
    {"bearer ", PAT_TOKEN, false},
    {"x-amz-security-token", PAT_TOKEN, true},
    {"x-amz-signature", PAT_TOKEN, true},
    {"aws_secret_access_key", PAT_TOKEN, true},
    {"aws_session_token", PAT_TOKEN, true},
    {"secretaccesskey", PAT_TOKEN, true},
    {"sessiontoken", PAT_TOKEN, true},
    {"client_secret", PAT_TOKEN, true},
    {"password", PAT_TOKEN, true},
    {"token=", PAT_TOKEN, false},
};

static bool token_stop(char c)
{
	switch (c) {
	case '\0':
	case ' ':
	case '\t':
	case '\n':
	case '\r':
	case '"':
	case '\'':
	case '&':
	case ',':
	case ';':
	case '<':
	case '>':
	case ')':
	case ']':
	case '}':
		return true;
	default:
		return false;
	}
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * Finds the value that follows a keyword ending at s[kw_end].  Returns
 * true with [*vstart, *vend) when there is a non-empty value to hide.
 */
static bool find_value(const char *s, size_t kw_end, const struct pattern *p, size_t *vstart,
		       size_t *vend)
{
	size_t j = kw_end;
	char quote = 0;

	if (p->needs_separator) {
		/* The keyword may be a quoted JSON key: "SecretAccessKey": "..." */
		if (s[j] == '"' || s[j] == '\'')
			j++;
		while (is_blank(s[j]))
			j++;
		if (s[j] != ':' && s[j] != '=' && s[j] != '>')
			return false;
		j++;
		while (is_blank(s[j]))
			j++;
		if (s[j] == '"' || s[j] == '\'')
			quote = s[j++];
	}
	size_t k = j;
	if (quote) {
		while (s[k] && s[k] != quote && s[k] != '\n') {
			if (s[k] == '\\' && s[k + 1])
				k++;
			k++;
		}
	} else if (p->extent == PAT_LINE) {
		while (s[k] && s[k] != '\n' && s[k] != '\r')
			k++;
	} else {
		while (!token_stop(s[k]))
			k++;
	}
	if (k == j)
		return false;
	*vstart = j;
	*vend = k;
	return true;
}

static char *redact_patterns(const char *s)
{
	struct strbuf out;
	sb_init(&out);
	size_t i = 0, copied = 0;
	while (s[i]) {
		size_t vstart = 0, vend = 0;
		bool hit = false;
		for (size_t pi = 0; pi < sizeof(patterns) / sizeof(patterns[0]) && !hit; pi++) {
			const struct pattern *p = &patterns[pi];
			size_t kl = strlen(p->keyword);
			if (strncasecmp(s + i, p->keyword, kl) == 0)
				hit = find_value(s, i + kl, p, &vstart, &vend);
		}
		if (!hit) {
			i++;
			continue;
		}
		sb_append(&out, s + copied, vstart - copied);
		sb_puts(&out, LOG_REDACTED);
		copied = i = vend;
	}
	sb_append(&out, s + copied, i - copied);
	return sb_detach(&out);
}

/* Caller holds log_lock. */
static char *redact_locked(const char *text)
{
	char *cur = xstrdup(text);
	for (size_t k = 0; k < log_n_secrets; k++) {
		const char *secret = log_secrets[k];
		size_t sl = strlen(secret);
		if (!strstr(cur, secret))
			continue;
		struct strbuf sb;
		sb_init(&sb);
		const char *p = cur, *hit;
		while ((hit = strstr(p, secret)) != NULL) {
			sb_append(&sb, p, (size_t)(hit - p));
			sb_puts(&sb, LOG_REDACTED);
			p = hit + sl;
		}
		sb_puts(&sb, p);
		free(cur);
		cur = sb_detach(&sb);
	}
	char *out = redact_patterns(cur);
	free(cur);
	return out;
}

char *log_redact(const char *text)
{
	pthread_mutex_lock(&log_lock);
	char *out = redact_locked(text ? text : "");
	pthread_mutex_unlock(&log_lock);
	return out;
}

/* ------------------------------------------------------------ output */

/* Length of the valid UTF-8 sequence at s, or 0 when it is not one. */
static size_t utf8_len(const unsigned char *s)
{
	unsigned c = s[0];
	size_t n;
	unsigned min;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		min = 0x10000;
	} else {
		return 0;
	}
	unsigned cp = c & (0x3fu >> (n - 1));
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* JSON string body: escapes, and U+FFFD for bytes that are not UTF-8 so the line stays valid JSON.
 */
static void put_json_string(struct strbuf *sb, const char *s)
{
	sb_puts(sb, "\"");
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		unsigned char c = *p;
		if (c == '"' || c == '\\') {
			char esc[2] = {'\\', (char)c};
			sb_append(sb, esc, 2);
			p++;
		} else if (c == '\n') {
			sb_puts(sb, "\\n");
			p++;
		} else if (c == '\r') {
			sb_puts(sb, "\\r");
			p++;
		} else if (c == '\t') {
			sb_puts(sb, "\\t");
			p++;
		} else if (c < 0x20 || c == 0x7f) {
			sb_printf(sb, "\\u%04x", c);
			p++;
		} else {
			size_t n = utf8_len(p);
			if (n == 0) {
				sb_puts(sb, "\\ufffd");
				p++;
			} else {
				sb_append(sb, (const char *)p, n);
				p += n;
			}
		}
	}
	sb_puts(sb, "\"");
}

/* Text lines: control characters escaped so one message is one line. */
static void put_text(struct strbuf *sb, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '\n')
			sb_puts(sb, "\\n");
		else if (*p == '\r')
			sb_puts(sb, "\\r");
		else if (*p == '\t')
			sb_puts(sb, "\t");
		else if (*p < 0x20 || *p == 0x7f)
			sb_printf(sb, "\\x%02x", *p);
		else
			sb_append(sb, (const char *)p, 1);
	}
}

static void format_time(int64_t ms, char *buf, size_t len)
{
	time_t sec = (time_t)(ms / 1000);
	int frac = (int)(ms % 1000);
	if (frac < 0) {
		frac += 1000;
		sec--;
	}
	struct tm tm;
	if (!gmtime_r(&sec, &tm)) {
		snprintf(buf, len, "%lld", (long long)ms);
		return;
	}
	char base[32];
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03dZ", base, frac);
}

void log_vmsg(kerf_log_level level, const char *component, const char *fmt, va_list ap)
{
	level = clamp_level(level);
	if (!log_enabled(level))
		return;

	struct strbuf msg;
	sb_init(&msg);
	sb_vprintf(&msg, fmt, ap);

	pthread_mutex_lock(&log_lock);
	char *clean = redact_locked(msg.buf ? msg.buf : "");
	sb_free(&msg);

	char when[48];
	format_time(log_time ? log_time(log_time_arg) : now_wall_ms(), when, sizeof(when));

	struct strbuf line;
	sb_init(&line);
	if (log_json) {
		sb_puts(&line, "{\"time\":\"");
		sb_puts(&line, when);
		sb_puts(&line, "\",\"level\":\"");
		sb_puts(&line, level_names[level]);
		sb_puts(&line, "\"");
		if (component) {
			sb_puts(&line, ",\"component\":");
			put_json_string(&line, component);
		}
		sb_puts(&line, ",\"msg\":");
		put_json_string(&line, clean);
		sb_puts(&line, "}\n");
	} else {
		sb_printf(&line, "%s %-5s ", when, level_upper[level]);
		if (component) {
			put_text(&line, component);
			sb_puts(&line, ": ");
		}
		put_text(&line, clean);
		sb_puts(&line, "\n");
	}
	free(clean);

	if (log_sink) {
		log_sink(log_sink_arg, level, line.buf, line.len);
	} else {
		fwrite(line.buf, 1, line.len, stderr);
		fflush(stderr);
	}
	pthread_mutex_unlock(&log_lock);
	sb_free(&line);
}

void log_msg(kerf_log_level level, const char *component, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vmsg(level, component, fmt, ap);
	va_end(ap);
}
