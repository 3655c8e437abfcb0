/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: workloads (Pods, Deployments, ... kerf/workload.h), with the full report. */
#include <stdlib.h>

#include <kerf/workload.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kerf_workload_list *l = NULL;
	struct kerf_error err = KERF_ERROR_INIT;
	char *report = NULL;

	if (kerf_workloads_parse_report("fuzz.yaml", (const char *)data, size, &l, &report,
					&err) == 0)
		kerf_workload_list_free(l);
	free(report);
	return 0;
}
