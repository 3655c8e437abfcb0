/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kerf/quantity.h - Kubernetes quantities, durations and resource lists.
 *
 * Units are fixed everywhere in kerf: CPU in millicores, memory and storage
 * in bytes, counts (pods, GPUs, any extended resource) in whole units,
 * durations in milliseconds.  No floating point is involved: "1.5Gi" and
 * "129e6" are parsed exactly.
 */
#ifndef KERF_QUANTITY_H
#define KERF_QUANTITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kerf/error.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Parses a Kubernetes quantity ("500m", "2", "1.5", "320Gi", "1G", "129e6",
 * "1Ki") and stores it in *out scaled by 10^scale and rounded up, the way
 * Kubernetes rounds: scale 3 gives milli-units (CPU), scale 0 whole units
 * (bytes, counts).  Negative quantities are rejected (no resource in kerf is
 * negative).  Returns 0, KERF_E_PARSE for text that is not a quantity or
 * KERF_E_RANGE when the value does not fit in int64.  Does not block.
 * ABI 2.0.
 */
int kerf_quantity_parse(const char *text, int scale, int64_t *out, struct kerf_error *err);

/*
 * Writes a value in whole units (scale 0) or milli-units (scale 3) as the
 * shortest exact quantity ("1500m", "2", "320Gi", "1G") into buf of len
 * bytes.  Returns the length written, or a negative code when buf is too
 * small.  ABI 2.0.
 */
int kerf_quantity_format(int64_t value, int scale, char *buf, size_t len);

/* A duration of "Never" (expireAfter, terminationGracePeriod). */
#define KERF_DURATION_NEVER INT64_MAX

/*
 * Parses a Go-style duration ("300ms", "30s", "1h30m", "720h", "0s") into
 * milliseconds.  When allow_never is true the literal "Never" gives
 * KERF_DURATION_NEVER.  Negative durations and units below a millisecond
 * that do not add up to whole milliseconds are rejected with KERF_E_PARSE.
 * ABI 2.0.
 */
int kerf_duration_parse(const char *text, bool allow_never, int64_t *out_ms, struct kerf_error *err);

/* Writes ms as a Go duration ("1h30m0s", "30s", "Never") into buf; returns length or negative. ABI 2.0. */
int kerf_duration_format(int64_t ms, char *buf, size_t len);

/* Well-known resource names. */
#define KERF_RESOURCE_CPU "cpu"
#define KERF_RESOURCE_MEMORY "memory"
#define KERF_RESOURCE_EPHEMERAL "ephemeral-storage"
#define KERF_RESOURCE_PODS "pods"
#define KERF_RESOURCE_NVIDIA_GPU "nvidia.com/gpu"
#define KERF_RESOURCE_AMD_GPU "amd.com/gpu"
#define KERF_RESOURCE_NEURON "aws.amazon.com/neuron"

/*
 * Extended resources a single list can hold, and the longest name: part of
 * struct kerf_resources' frozen layout, fixed for the whole major.
 */
#define KERF_RESOURCES_EXT_MAX 16
#define KERF_RESOURCE_NAME_MAX 64

struct kerf_resource {
	char name[KERF_RESOURCE_NAME_MAX]; /* NUL-terminated */
	int64_t value;                     /* whole units */
};

/* Bits of kerf_resources.present for the four fixed dimensions. */
#define KERF_RES_CPU (1u << 0)
#define KERF_RES_MEMORY (1u << 1)
#define KERF_RES_EPHEMERAL (1u << 2)
#define KERF_RES_PODS (1u << 3)

/*
 * A resource list (requests, allocatable, limits).  A value (kerf/types.h):
 * its layout, and struct kerf_resource's, is frozen for the whole major, so
 * objects embed it.  No pointers: copy it with '='.  A fixed dimension
 * counts only when its bit is in `present` (so a NodePool limit of 0
 * differs from no limit); extended resources are kept sorted by name, and
 * present when listed.  ABI 2.0.
 */
struct kerf_resources {
	int64_t cpu_millis;
	int64_t memory_bytes;
	int64_t ephemeral_bytes;
	int64_t pods;
	uint32_t present;
	uint32_t n_ext;
	struct kerf_resource ext[KERF_RESOURCES_EXT_MAX];
};

/* Empties r.  ABI 2.0. */
void kerf_resources_init(struct kerf_resources *r);

/*
 * Sets resource `name` to value (units as above).  Returns KERF_E_RANGE when
 * the list already holds KERF_RESOURCES_EXT_MAX extended resources and
 * KERF_E_INVALID for a name that is empty or too long.  ABI 2.0.
 */
int kerf_resources_set(struct kerf_resources *r, const char *name, int64_t value, struct kerf_error *err);

/*
 * Parses `quantity` for resource `name` (millicores for cpu, whole units for
 * the rest) and sets it.  Errors as kerf_quantity_parse and
 * kerf_resources_set; the message names the resource.  ABI 2.0.
 */
int kerf_resources_set_quantity(struct kerf_resources *r, const char *name, const char *quantity,
				struct kerf_error *err);

/* The value of `name`, 0 when absent.  *present (NULL allowed) says whether it is set.  ABI 2.0. */
int64_t kerf_resources_get(const struct kerf_resources *r, const char *name, bool *present);

/*
 * dst += src, dimension by dimension (a dimension present in either is
 * present in the result).  Saturates at INT64_MAX instead of overflowing.
 * Returns KERF_E_RANGE when an extended resource has no room.  ABI 2.0.
 */
int kerf_resources_add(struct kerf_resources *dst, const struct kerf_resources *src);

/* dst -= src, never below zero for any dimension.  ABI 2.0. */
void kerf_resources_sub(struct kerf_resources *dst, const struct kerf_resources *src);

/*
 * True when every resource requested in `want` fits in `have` (a resource
 * missing from `have` counts as 0).  When it does not fit and `failed` is
 * not NULL, the name of the first dimension that did not fit is copied into
 * it (at most KERF_RESOURCE_NAME_MAX bytes).  ABI 2.0.
 */
bool kerf_resources_fit(const struct kerf_resources *want, const struct kerf_resources *have,
			char failed[KERF_RESOURCE_NAME_MAX]);

/*
 * True when some dimension present in `limit` is strictly exceeded by
 * `used`; its name is copied to `failed` as above.  ABI 2.0.
 */
bool kerf_resources_exceed(const struct kerf_resources *used, const struct kerf_resources *limit,
			   char failed[KERF_RESOURCE_NAME_MAX]);

#ifdef __cplusplus
}
#endif
#endif
