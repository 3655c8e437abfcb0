/* SPDX-License-Identifier: Apache-2.0 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "kerfd_run.h"
#include "slurp.h"

#define KERFD KERF_TEST_BUILDDIR "/core/kerfd"

json_t *kerfd_read_lines(const char *path)
{
	/* A batch refusing thousands of pods is one long line. */
	char *line = NULL;
	size_t cap = 0;
	json_t *a = json_array();
	FILE *f = fopen(path, "r");

	ck_assert_ptr_nonnull(f);
	while (getline(&line, &cap, f) > 0) {
		json_error_t jerr;
		json_t *o = json_loads(line, 0, &jerr);
		ck_assert_msg(json_is_object(o), "not a JSON object: %.200s (%s)", line, jerr.text);
		json_array_append_new(a, o);
	}
	free(line);
	fclose(f);
	return a;
}

void kerfd_run(struct kerfd_run *r, const char *dir, const char *config, const char *args)
{
	char report[] = "/tmp/check_kerfd_run.json.XXXXXX";
	char log[] = "/tmp/check_kerfd_run.jsonl.XXXXXX";
	char cmd[4096];
	int rfd = mkstemp(report), lfd = mkstemp(log);

	ck_assert_int_ge(rfd, 0);
	ck_assert_int_ge(lfd, 0);
	close(rfd);
	close(lfd);
	ck_assert_int_lt(
	    snprintf(cmd, sizeof(cmd),
		     "cd '%s' && '%s' --config '%s' --report '%s' --decision-log '%s' %s", dir,
		     KERFD, config, report, log, args),
	    (int)sizeof(cmd));
	r->status = run_captured(cmd, &r->out, &r->err);
	ck_assert_msg(r->status == 0, "kerfd failed: %s", r->err);
	r->report = json_load_file(report, 0, NULL);
	ck_assert_msg(r->report != NULL, "no report: %s", r->err);
	r->log = kerfd_read_lines(log);
	unlink(report);
	unlink(log);
}

void kerfd_run_free(struct kerfd_run *r)
{
	json_decref(r->report);
	json_decref(r->log);
	free(r->out);
	free(r->err);
}
