/* SPDX-License-Identifier: Apache-2.0 */
/*
 * disruption.h - the disruption controller: which of the nodes kerf
 * launched to take away, and when (docs/disruption.md).
 *
 * It reads the cluster state the provisioner shares and ends the nodes it
 * picks through the termination controller (termination.c), one decision
 * per pass, so the next pass sees what the last one changed.  Everything
 * runs on the loop thread.
 */
#ifndef KERF_CORE_DISRUPTION_H
#define KERF_CORE_DISRUPTION_H

#include <stdbool.h>

#include <kerf/cluster.h>
#include <kerf/types.h>

struct provisioner;
struct decision_log;
struct disruption;

/* p and log (NULL: off) are borrowed and outlive the controller. */
struct disruption *disruption_new(struct provisioner *p, struct decision_log *log);
void disruption_free(struct disruption *d); /* NULL allowed */

/* Every cluster object, after the state and the provisioner saw it (borrowed). */
void disruption_on_object(struct disruption *d, kerf_event_type type, kerf_object_kind kind,
			  const void *object);

/* Expiration, then emptiness, drift and consolidation: at most one decision a pass. */
void disruption_reconcile(struct disruption *d);

/*
 * True when nothing is waiting to be disrupted but time: no empty node
 * counting down its consolidateAfter.  Expiration is not waited for.
 */
bool disruption_settled(const struct disruption *d);

/* When a countdown ends; INT64_MAX: none. */
kerf_mono_ms_t disruption_next_ms(const struct disruption *d);

#endif
