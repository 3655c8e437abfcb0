/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kerf/requirements.h - Karpenter's requirement-set semantics and the label
 * rules around them (aliases, well-known labels, restricted domains, syntax).
 *
 * A requirement set maps each label key to what it allows: either a finite
 * set of values (In; DoesNotExist when empty) or everything except a finite
 * set (NotIn; Exists when nothing is excluded), optionally narrowed by
 * inclusive integer bounds (Gt n is kept as Gte n+1, Lt n as Lte n-1).
 * Adding a requirement for a key already present intersects the two, as
 * Karpenter's scheduling.Requirements.Add does; minValues is kept per key,
 * the larger one winning.  Keys are normalised on input, so a requirement on
 * beta.kubernetes.io/arch constrains kubernetes.io/arch.
 *
 * No function here blocks or keeps a pointer to its arguments.  A set is not
 * thread-safe: share it read-only or lock around writes.
 */
#ifndef KERF_REQUIREMENTS_H
#define KERF_REQUIREMENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kerf/error.h>
#include <kerf/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Opaque; create with kerf_reqset_new() or kerf_reqset_copy().  ABI 2.0. */
struct kerf_reqset;

/* ------------------------------------------------------------ lifetime */

/* A new, empty set (every key allowed), or NULL when out of memory.  ABI 2.0. */
struct kerf_reqset *kerf_reqset_new(void);

/* Frees s and everything it owns; NULL is allowed.  ABI 2.0. */
void kerf_reqset_free(struct kerf_reqset *s);

/*
 * A deep copy of s (NULL gives a new empty set), or NULL when out of memory.
 * The caller frees it with kerf_reqset_free().  ABI 2.0.
 */
struct kerf_reqset *kerf_reqset_copy(const struct kerf_reqset *s);

/* ------------------------------------------------------------ building */

/*
 * Intersects the set with one requirement: `key op values`, with minValues
 * min_values (0: none).  In and NotIn use every value; Exists and
 * DoesNotExist ignore them; Gt, Lt, Gte and Lte need exactly one value that
 * is a base-10 int64.  Strings are copied.  Returns 0, KERF_E_INVALID (bad
 * operator, bound value or negative min_values; the set is unchanged) or
 * KERF_E_NOMEM (the set is unchanged).  ABI 2.0.
 */
int kerf_reqset_add(struct kerf_reqset *s, const char *key, kerf_operator op,
		    const char *const *values, size_t n_values, int32_t min_values,
		    struct kerf_error *err);

/* kerf_reqset_add() for one struct kerf_requirement.  ABI 2.0. */
int kerf_reqset_add_requirement(struct kerf_reqset *s, const struct kerf_requirement *r,
				struct kerf_error *err);

/*
 * Intersects the set with every requirement of r in turn.  On failure the
 * requirements before the failing one stay applied.  ABI 2.0.
 */
int kerf_reqset_add_requirements(struct kerf_reqset *s, const struct kerf_requirements *r,
				 struct kerf_error *err);

/*
 * Intersects the set with `key In [value]` for every label (a node
 * selector, a NodePool's template labels).  Errors as kerf_reqset_add().
 * ABI 2.0.
 */
int kerf_reqset_add_labels(struct kerf_reqset *s, const struct kerf_labels *l,
			   struct kerf_error *err);

/* dst = dst intersected with src, key by key.  Returns 0 or KERF_E_NOMEM.  ABI 2.0. */
int kerf_reqset_intersect(struct kerf_reqset *dst, const struct kerf_reqset *src,
			  struct kerf_error *err);

/* Forgets everything about key (it becomes undefined).  ABI 2.0. */
void kerf_reqset_remove(struct kerf_reqset *s, const char *key);

/* ------------------------------------------------------------ querying */

/* Number of keys defined.  ABI 2.0. */
size_t kerf_reqset_count(const struct kerf_reqset *s);

/*
 * The i-th key in byte order (0 <= i < count), or NULL.  Borrowed: valid
 * until the set is next modified or freed.  ABI 2.0.
 */
const char *kerf_reqset_key(const struct kerf_reqset *s, size_t i);

/* True when key (normalised) is defined in s.  ABI 2.0. */
bool kerf_reqset_has_key(const struct kerf_reqset *s, const char *key);

/*
 * The effective operator for key, as Karpenter reports it: In (finite,
 * non-empty), DoesNotExist (finite, empty), NotIn (complement with
 * exclusions) or Exists (complement without exclusions; integer bounds
 * come with it and are read with kerf_reqset_bounds()).  An undefined key
 * gives Exists.  ABI 2.0.
 */
kerf_operator kerf_reqset_operator(const struct kerf_reqset *s, const char *key);

/*
 * The sorted, unique values stored for key: the allowed ones for In, the
 * excluded ones for NotIn, none otherwise.  *values (NULL allowed) gets a
 * borrowed array valid until the set is next modified or freed.  Returns
 * the count.  ABI 2.0.
 */
size_t kerf_reqset_values(const struct kerf_reqset *s, const char *key, const char *const **values);

/*
 * The inclusive integer bounds on key: *min (INT64_MIN when none) and *max
 * (INT64_MAX when none); either pointer may be NULL.  Returns true when key
 * has at least one bound.  ABI 2.0.
 */
bool kerf_reqset_bounds(const struct kerf_reqset *s, const char *key, int64_t *min, int64_t *max);

/* minValues for key, 0 when none.  ABI 2.0. */
int32_t kerf_reqset_min_values(const struct kerf_reqset *s, const char *key);

/*
 * True when a node whose label key has `value` satisfies the set for that
 * key.  value NULL asks about a node without the label: allowed by
 * DoesNotExist and plain NotIn only.  An undefined key allows everything.
 * ABI 2.0.
 */
bool kerf_reqset_allows(const struct kerf_reqset *s, const char *key, const char *value);

/*
 * True when a node with these labels satisfies every key of s.  When it does
 * not and why is not NULL, a one-line reason is written to it (why[0] = 0
 * otherwise).  ABI 2.0.
 */
bool kerf_reqset_matches_labels(const struct kerf_reqset *s, const struct kerf_labels *labels,
				char *why, size_t whylen);

/* Flags for kerf_reqset_compatible(). */
/* Well-known keys that b requires and a does not define are fine. */
#define KERF_REQSET_ALLOW_UNDEFINED_WELL_KNOWN (1u << 0)
/* Any key a does not define is fine: Karpenter's Intersects. */
#define KERF_REQSET_ALLOW_UNDEFINED (1u << 1)

/*
 * Karpenter's Compatible: can something allowed by `a` (a NodePool, an
 * instance type) satisfy `b` (a pod)?  For every key in b: when a defines it,
 * the two must overlap, unless both only exclude (NotIn/DoesNotExist); when
 * a does not, b's requirement must be NotIn or DoesNotExist, unless a flag
 * lets the key through.  With KERF_REQSET_ALLOW_UNDEFINED this is
 * Karpenter's Intersects.  On false and why not NULL, a one-line reason for
 * the first failing key (in key order) is written to it, e.g.
 * `key "node.kubernetes.io/instance-type" requires In [m5.large] but only
 * In [t3.medium] is allowed`; why[0] = 0 on true.  ABI 2.0.
 */
bool kerf_reqset_compatible(const struct kerf_reqset *a, const struct kerf_reqset *b,
			    unsigned flags, char *why, size_t whylen);

/*
 * Writes the set back as requirements, sorted by key: one In, NotIn, Exists
 * or DoesNotExist per key, plus a Gte and/or Lte for bounds (an Exists that
 * only carries bounds is left out); every one carries the key's minValues.
 * Adding the result to an empty set gives back an equal set.  *out is
 * overwritten (not cleared first); the caller frees it with
 * kerf_requirements_clear().  Returns 0 or KERF_E_NOMEM (*out empty).
 * ABI 2.0.
 */
int kerf_reqset_to_requirements(const struct kerf_reqset *s, struct kerf_requirements *out,
				struct kerf_error *err);

/*
 * Writes a one-line description ("kubernetes.io/arch In [amd64, arm64],
 * karpenter.k8s.aws/instance-cpu Gte 4") into buf; at most five values per
 * key are listed.  Returns the length, or KERF_E_RANGE when it did not fit
 * (buf then holds a truncated, NUL-terminated prefix).  ABI 2.0.
 */
int kerf_reqset_format(const struct kerf_reqset *s, char *buf, size_t len);

/* -------------------------------------------------------------- labels */

/*
 * The stable label a deprecated alias stands for (beta.kubernetes.io/arch
 * -> kubernetes.io/arch, beta.kubernetes.io/os, beta.kubernetes.io/
 * instance-type, failure-domain.beta.kubernetes.io/zone and /region), as a
 * static string; any other key is returned as is.  ABI 2.0.
 */
const char *kerf_label_normalize(const char *key);

/*
 * True for the labels Karpenter knows and lets NodePools and pods constrain:
 * karpenter.sh/nodepool, karpenter.sh/capacity-type,
 * topology.kubernetes.io/zone and /region, node.kubernetes.io/instance-type,
 * kubernetes.io/arch and /os, node.kubernetes.io/windows-build, and those
 * the process's providers declare (kerf_provider_ops.well_known_labels,
 * ABI 2.0).  Exact match: aliases are not well known.  ABI 2.0.
 */
bool kerf_label_is_well_known(const char *key);

/*
 * Karpenter's check on a NodePool template label key: karpenter.sh/nodepool
 * and kubernetes.io/hostname are restricted, and so is any key whose domain
 * ends in kubernetes.io, k8s.io, karpenter.sh or a domain a provider of the
 * process declares (kerf_provider_ops.restricted_label_domains, ABI 2.0),
 * unless the key is well known or its domain ends in kops.k8s.io,
 * node.kubernetes.io or node-restriction.kubernetes.io.  Returns 0 or
 * KERF_E_INVALID with a one-line reason in why (NULL allowed).  ABI 2.0.
 */
int kerf_label_check_restricted(const char *key, char *why, size_t whylen);

/*
 * The same check for a NodePool requirement key, which Karpenter applies
 * after normalising aliases.  ABI 2.0.
 */
int kerf_requirement_key_check_restricted(const char *key, char *why, size_t whylen);

/*
 * Kubernetes label key syntax: an optional DNS-1123 subdomain prefix of at
 * most 253 characters and '/', then a name of 1 to 63 characters from
 * [A-Za-z0-9-_.] that starts and ends alphanumeric.  On false and why not
 * NULL, the reason is written to it.  ABI 2.0.
 */
bool kerf_label_key_valid(const char *key, char *why, size_t whylen);

/* Kubernetes label value syntax: empty, or a name as above.  ABI 2.0. */
bool kerf_label_value_valid(const char *value, char *why, size_t whylen);

/*
 * Karpenter's validation of one NodePool requirement: a valid, unrestricted
 * key (after normalisation), valid values, In with at least one value and
 * at least minValues values, minValues at most 50, and Gt/Lt/Gte/Lte with
 * exactly one non-negative integer.  Returns 0 or KERF_E_INVALID with the
 * reason in err.  ABI 2.0.
 */
int kerf_requirement_validate(const struct kerf_requirement *r, struct kerf_error *err);

#ifdef __cplusplus
}
#endif
#endif
