/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kerfd_run.h - runs the built kerfd to the end of a simulation and reads
 * back what it wrote: its --report and its decision log, line by line.
 */
#ifndef KERF_TEST_KERFD_RUN_H
#define KERF_TEST_KERFD_RUN_H

#include <jansson.h>

struct kerfd_run {
	int status;
	char *out, *err;
	json_t *report;
	json_t *log; /* the decision log's lines, in order */
};

/*
 * Runs `kerfd --config CONFIG --report TMP --decision-log TMP ARGS` in dir
 * (args may be ""); it must exit 0 and leave a report.  Free with
 * kerfd_run_free().
 */
void kerfd_run(struct kerfd_run *r, const char *dir, const char *config, const char *args);
void kerfd_run_free(struct kerfd_run *r);

/* The JSON objects of a file of JSON lines, each asserted to be one. */
json_t *kerfd_read_lines(const char *path);

#endif
