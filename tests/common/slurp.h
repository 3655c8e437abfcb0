/* SPDX-License-Identifier: Apache-2.0 */
/*
 * slurp.h - reads what a test's child process wrote, for the tests that run
 * kerfd and kerfctl, and the JSON lookups those tests check it with.
 */
#ifndef KERF_TESTS_SLURP_H
#define KERF_TESTS_SLURP_H

#include <jansson.h>
#include <stdio.h>

/* Everything left in f as one NUL-terminated string (malloc'd); fails the test on no memory. */
char *slurp(FILE *f);

/*
 * Runs cmd with /bin/sh, its stdout and stderr captured (malloc'd, into *out
 * and *err); fails the test unless it exits normally.  Returns its exit status.
 */
int run_captured(const char *cmd, char **out, char **err);

/*
 * The value at a dotted path ("pods.scheduled") in o; fails the test when it
 * is missing or of another type.  Keys may not contain dots.
 */
json_int_t int_at(const json_t *o, const char *path);
double real_at(const json_t *o, const char *path); /* an integer or a real */
const char *str_at(const json_t *o, const char *path);

#endif
