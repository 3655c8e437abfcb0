/*
 * ffd.h - the first-fit-decreasing solver, shared by the binpack-ffd plugin
 * and binpack-ilp (which starts from FFD's plan).  Internal to the build:
 * not part of the installed SDK.
 */
#ifndef KERF_FFD_H
#define KERF_FFD_H

#include <stddef.h>

#include <kerf/plugin.h>

/*
 * Packs `p` first-fit decreasing, at most max_types options per new node.
 * On success *out is a plan built with host's allocator (lower_bound 0,
 * optimal false) and 0 is returned; otherwise a negative KERF_E_* with err
 * set (an invalid problem is KERF_E_INVALID).  Logs one debug line.
 */
int ffd_pack(const struct kerf_host *host, size_t max_types, const struct kerf_pack_problem *p,
	     struct kerf_pack_plan **out, struct kerf_error *err);

/* Frees a plan built with host's allocator that was never handed over; NULL allowed. */
void ffd_plan_discard(const struct kerf_host *host, struct kerf_pack_plan *plan);

#endif
