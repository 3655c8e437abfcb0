/* SPDX-License-Identifier: Apache-2.0 */
/*
 * log.h - the process-wide logger of kerfd, kerfctl and the plugin hosts.
 *
 * One line per message on stderr, either text
 *
 *   2025-01-31T12:00:00.123Z INFO  provider/sim: launched i-0001
 *
 * or JSON (one object per line, for log shippers)
 *
 *   {"time":"2025-01-31T12:00:00.123Z","level":"info","component":"provider/sim","msg":"..."}
 *
 * Every message is redacted before it is written: each registered secret
 * (exact substring) and every credential-looking value (the rest of an
 * "Authorization:" or "Cookie:" header, a "Bearer " token, the value after
 * X-Amz-Security-Token, X-Amz-Signature, aws_secret_access_key,
 * aws_session_token, SecretAccessKey, SessionToken, client_secret,
 * password, "token=") becomes "[REDACTED]".  A keyword counts only when a
 * separator (':', '=' or '>', quotes and blanks allowed) follows it, so
 * prose such as "authorization failed" is left alone.  Plugins get the same through kerf_host.log,
 * so a plugin that logs a request verbatim still cannot leak its signature.
 *
 * Thread-safe: a mutex serialises the secret list and the output, so lines
 * from different threads never interleave.
 */
#ifndef KERF_CORE_LOG_H
#define KERF_CORE_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kerf/host.h>

#define LOG_REDACTED "[REDACTED]"

/* Sets the threshold (messages above it are dropped) and the format. */
void log_init(kerf_log_level level, bool json);
void log_set_level(kerf_log_level level);
kerf_log_level log_get_level(void);
/* True when a message at `level` would be written; lets callers skip work. */
bool log_enabled(kerf_log_level level);

/* "error", "warn", "info", "debug", "trace"; "unknown" out of range. */
const char *log_level_name(kerf_log_level level);

/*
 * Writes one message.  component names the source ("kerfd", "provider/sim")
 * and may be NULL.  Newlines and other control characters inside the
 * message are escaped so one call is always one line.
 */
void log_msg(kerf_log_level level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void log_vmsg(kerf_log_level level, const char *component, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

#define log_error(comp, ...) log_msg(KERF_LOG_ERROR, (comp), __VA_ARGS__)
#define log_warn(comp, ...) log_msg(KERF_LOG_WARN, (comp), __VA_ARGS__)
#define log_info(comp, ...) log_msg(KERF_LOG_INFO, (comp), __VA_ARGS__)
#define log_debug(comp, ...) log_msg(KERF_LOG_DEBUG, (comp), __VA_ARGS__)

/*
 * Registers a string (copied) that must never appear in output.  Empty
 * strings and strings already registered are ignored.
 */
void log_register_secret(const char *secret);

/*
 * Returns a newly allocated copy of text with every secret and credential
 * value replaced by LOG_REDACTED.  Exposed so other output (the decision
 * log, kerfctl's error messages) can share the same rules.
 */
char *log_redact(const char *text);

/*
 * Where finished lines go.  fn gets each line including its trailing
 * newline; NULL restores stderr.  Tests use it to capture output.  fn runs
 * under the logger's lock, so it must not log.
 */
typedef void (*log_sink_fn)(void *arg, kerf_log_level level, const char *line, size_t len);
void log_set_sink(log_sink_fn fn, void *arg);

/*
 * The clock that stamps lines, in milliseconds since the epoch.  NULL
 * restores the real clock; the simulator installs its virtual clock so
 * logs read in simulated time.
 */
typedef int64_t (*log_time_fn)(void *arg);
void log_set_time(log_time_fn fn, void *arg);

/* Forgets the secrets and restores every default (level info, text, stderr). */
void log_shutdown(void);

#endif
