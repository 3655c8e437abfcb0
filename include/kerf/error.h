/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kerf/error.h - return codes and the error detail struct.
 *
 * Every fallible kerf function, in the core and in plugins, returns an int:
 * KERF_OK (0) or one negative KERF_E_* code.  Detail travels in a
 * caller-supplied struct kerf_error, which may be NULL when the caller does
 * not want it.  The codes are append-only: a number is never reused or
 * renumbered (ABI 2.0).
 */
#ifndef KERF_ERROR_H
#define KERF_ERROR_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

enum kerf_rc {
	KERF_OK = 0,
	KERF_E_INTERNAL = -1,    /* a bug or an impossible state */
	KERF_E_NOMEM = -2,       /* allocation failed */
	KERF_E_INVALID = -3,     /* an argument or object is invalid */
	KERF_E_PARSE = -4,       /* malformed input (YAML, JSON, XML, quantity) */
	KERF_E_CONFIG = -5,      /* configuration does not validate */
	KERF_E_NOTFOUND = -6,    /* the object asked for does not exist */
	KERF_E_CONFLICT = -7,    /* the object changed or exists already */
	KERF_E_UNSUPPORTED = -8, /* the plugin does not implement this op */
	KERF_E_TIMEOUT = -9,     /* the deadline passed */
	KERF_E_THROTTLED = -10,  /* the remote side asked us to slow down */
	KERF_E_AUTH = -11,       /* credentials rejected or missing */
	KERF_E_CAPACITY = -12,   /* the cloud has no capacity for the request */
	KERF_E_INFEASIBLE = -13, /* no solution exists for the problem */
	KERF_E_IO = -14,         /* reading a file or a socket failed */
	KERF_E_HTTP = -15,       /* the remote side answered with an error status */
	KERF_E_RANGE = -16,      /* a number is out of range (overflow) */

	/* Plugin loading; one code per reason a plugin is rejected. */
	KERF_E_PLUGIN_NOTFOUND = -100,      /* no file in any searched directory */
	KERF_E_PLUGIN_DLOPEN = -101,        /* not a shared object / unresolved symbols */
	KERF_E_PLUGIN_NO_DESCRIPTOR = -102, /* no kerf_plugin_descriptor symbol */
	KERF_E_PLUGIN_BAD_MAGIC = -103,     /* descriptor magic or size is wrong */
	KERF_E_PLUGIN_ABI_MAJOR = -104,     /* built for another ABI major */
	KERF_E_PLUGIN_ABI_MINOR = -105,     /* built for a newer ABI minor */
	KERF_E_PLUGIN_KIND = -106,          /* the kind asked for is not offered */
	KERF_E_PLUGIN_INCOMPLETE = -107,    /* a required field or op is missing */
	KERF_E_PLUGIN_DUPLICATE = -108,     /* another plugin has the same name */
	KERF_E_PLUGIN_CREATE = -109,        /* the plugin's create() failed */
	KERF_E_PLUGIN_SCHEMA = -110,        /* the config schema is malformed (ABI 2.0) */
	KERF_E_PLUGIN_CAPABILITY = -111,    /* capability bits and optional ops disagree (ABI 2.0) */
};

#define KERF_ERROR_MSG_MAX 512

/*
 * Detail of one failure.  A fixed buffer, so an error can be reported even
 * when memory has run out.  Messages are one line and never hold secrets.
 * A minor may append fields, as to an object (kerf/types.h), but callers
 * declare errors themselves, so an error carries its own size.  ABI 2.0.
 *
 * size:          sizeof(struct kerf_error) as whoever set it up saw it
 *                (kerf_error_clear(), KERF_ERROR_INIT).  A writer never
 *                writes a field that lies past `size`, except that the
 *                fields of 2.0 are always there (a size of 0, as from
 *                `= {0}`, means 2.0's).  Writers leave `size` as they
 *                found it.
 * code:          the same value the function returned.
 * retryable:     1 when the same call may succeed later unchanged.
 * http_status:   the HTTP status behind the failure, 0 when none.
 * retry_after_ms: with KERF_E_THROTTLED (or any retryable error), how long
 *                the remote side asked the caller to wait (HTTP
 *                Retry-After, an API's back-off hint); 0 when it said
 *                nothing and the caller picks its own back-off.
 * line, column:  1-based position in the input for parse and config errors,
 *                0 when not applicable.
 * provider_code: the remote side's own code ("RequestLimitExceeded",
 *                a Kubernetes reason), empty when none.
 * message:       "file:line:column: what went wrong" or plain text, at most
 *                KERF_ERROR_MSG_MAX bytes with the NUL.
 */
struct kerf_error {
	uint32_t size;
	int code;
	int retryable;
	int http_status;
	int64_t retry_after_ms;
	unsigned line;
	unsigned column;
	char provider_code[64];
	char message[KERF_ERROR_MSG_MAX];
};

/* An initializer for a cleared error: `struct kerf_error err = KERF_ERROR_INIT;`.  ABI 2.0. */
#define KERF_ERROR_INIT {.size = sizeof(struct kerf_error)}

/* Returns static English text for a code; never NULL.  ABI 2.0. */
const char *kerf_strerror(int code);

/*
 * Clears err (NULL allowed) and sets its size to this header's
 * sizeof(struct kerf_error).  Header-only so plugins need no library for
 * it.  ABI 2.0.
 */
static inline void kerf_error_clear(struct kerf_error *err)
{
	if (err) {
		memset(err, 0, sizeof(*err));
		err->size = sizeof(*err);
	}
}

/*
 * Records code and a printf-style message in err (NULL allowed) and returns
 * code, so a failure reads `return kerf_error_set(err, KERF_E_PARSE, ...)`.
 * The provider code, line and column already in err are kept.  ABI 2.0.
 */
static inline int kerf_error_vset(struct kerf_error *err, int code, const char *fmt, va_list ap)
{
	if (err) {
		err->code = code;
		vsnprintf(err->message, sizeof(err->message), fmt, ap);
	}
	return code;
}

static inline int kerf_error_set(struct kerf_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static inline int kerf_error_set(struct kerf_error *err, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	kerf_error_vset(err, code, fmt, ap);
	va_end(ap);
	return code;
}

#ifdef __cplusplus
}
#endif
#endif
