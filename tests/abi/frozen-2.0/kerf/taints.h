/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kerf/taints.h - taints and tolerations, with the Kubernetes matching rules.
 *
 * None of these functions blocks or keeps a pointer to its arguments.
 */
#ifndef KERF_TAINTS_H
#define KERF_TAINTS_H

#include <stdbool.h>
#include <stddef.h>

#include <kerf/error.h>
#include <kerf/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Kubernetes' ToleratesTaint: true when the toleration's effect is ANY or
 * equal to the taint's, its key is NULL/empty or equal to the taint's, and
 * either the operator is Exists or the values are equal (NULL and "" are
 * the same value).  ABI 2.0.
 */
bool kerf_toleration_tolerates(const struct kerf_toleration *tol, const struct kerf_taint *taint);

/* True when any toleration in tols (NULL: none) tolerates taint.  ABI 2.0. */
bool kerf_tolerations_tolerate(const struct kerf_tolerations *tols, const struct kerf_taint *taint);

/*
 * True when every taint (NULL: none) is tolerated.  With
 * ignore_prefer_no_schedule, PreferNoSchedule taints are skipped: they
 * steer the scheduler but never block it.  On false and first_untolerated
 * not NULL, *first_untolerated points at the first taint (in list order)
 * nothing tolerates; it is set to NULL on true.  ABI 2.0.
 */
bool kerf_tolerations_tolerate_all(const struct kerf_tolerations *tols,
				   const struct kerf_taints *taints, bool ignore_prefer_no_schedule,
				   const struct kerf_taint **first_untolerated);

/*
 * Parses kubectl's taint syntax, "key=value:Effect" or "key:Effect", with
 * Effect one of NoSchedule, PreferNoSchedule, NoExecute.  The key must be a
 * valid label key and the value a valid label value; an empty value is
 * stored as NULL.  On success *out is a new taint the caller frees with
 * kerf_taint_free(); otherwise it is NULL.  Returns 0, KERF_E_PARSE
 * (message names the text) or KERF_E_NOMEM.  ABI 2.0.
 */
int kerf_taint_parse(const char *text, struct kerf_taint **out, struct kerf_error *err);

/*
 * Writes the taint as kubectl prints it ("key=value:NoSchedule",
 * "key:NoExecute") into buf of len bytes.  Returns the length, or
 * KERF_E_RANGE when it does not fit (buf then holds a truncated,
 * NUL-terminated prefix).  ABI 2.0.
 */
int kerf_taint_format(const struct kerf_taint *t, char *buf, size_t len);

/* True when key, value (NULL == "") and effect are all equal.  ABI 2.0. */
bool kerf_taint_equal(const struct kerf_taint *a, const struct kerf_taint *b);

/*
 * Kubernetes' MatchTaint: true when key and effect are equal, whatever the
 * values.  Two taints that match cannot both be on a node.  ABI 2.0.
 */
bool kerf_taint_match(const struct kerf_taint *a, const struct kerf_taint *b);

/* True when some taint in t is kerf_taint_equal() to taint.  ABI 2.0. */
bool kerf_taints_contains(const struct kerf_taints *t, const struct kerf_taint *taint);

/*
 * The taint in t with this key and effect, or NULL.  Borrowed: valid until
 * t changes.  ABI 2.0.
 */
const struct kerf_taint *kerf_taints_find(const struct kerf_taints *t, const char *key,
					  kerf_taint_effect effect);

/*
 * Adds a copy of taint to t, replacing the taint with the same key and
 * effect when there is one (so t keeps Kubernetes' uniqueness rule).
 * Returns 0, KERF_E_INVALID (NULL or keyless taint) or KERF_E_NOMEM (t
 * unchanged).  ABI 2.0.
 */
int kerf_taints_add(struct kerf_taints *t, const struct kerf_taint *taint);

#ifdef __cplusplus
}
#endif
#endif
