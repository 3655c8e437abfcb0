/* SPDX-License-Identifier: Apache-2.0 */
/*
 * budgets.h - NodePool disruption budgets: their cron schedules (UTC) and
 * how many of a pool's nodes a reason may disrupt at an instant.
 */
#ifndef KERF_CORE_BUDGETS_H
#define KERF_CORE_BUDGETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kerf/types.h>

/*
 * Whether the five-field cron expression (or @yearly, @monthly, @weekly,
 * @daily, @midnight, @hourly) fires at the minute holding wall_ms, read in
 * UTC.  Day of month and day of week, when both are restricted, match
 * when either does, as cron has it.  False for an expression the manifest
 * reader would have refused.
 */
bool budget_cron_matches(const char *expr, kerf_wall_ms_t wall_ms);

/*
 * Whether a budget is in force at wall_ms: always without a schedule,
 * otherwise from each time the schedule fires until `duration` later.
 */
bool budget_active(const struct kerf_budget *b, kerf_wall_ms_t wall_ms);

/*
 * How many nodes of a pool of `total` nodes may be disrupting at wall_ms
 * for `reason` (one KERF_REASON_* bit): the smallest of the active
 * budgets that name the reason (or every reason), a percentage of total
 * rounded up; SIZE_MAX when none applies.  Nodes already disrupting count
 * against it: the caller subtracts them.
 */
size_t budget_allowed(const struct kerf_nodepool *np, uint32_t reason, size_t total,
		      kerf_wall_ms_t wall_ms);

#endif
