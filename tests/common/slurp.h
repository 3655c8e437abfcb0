/* slurp.h - reads what a test's child process wrote, for the tests that run kerfd and kerfctl. */
#ifndef KERF_TESTS_SLURP_H
#define KERF_TESTS_SLURP_H

#include <stdio.h>

/* Everything left in f as one NUL-terminated string (malloc'd); fails the test on no memory. */
char *slurp(FILE *f);

/*
 * Runs cmd with /bin/sh, its stdout and stderr captured (malloc'd, into *out
 * and *err); fails the test unless it exits normally.  Returns its exit status.
 */
int run_captured(const char *cmd, char **out, char **err);

#endif
