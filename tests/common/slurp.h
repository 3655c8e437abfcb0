/* slurp.h - reads what a test's child process wrote, for the tests that run kerfd and kerfctl. */
#ifndef KERF_TESTS_SLURP_H
#define KERF_TESTS_SLURP_H

#include <stdio.h>

/* Everything left in f as one NUL-terminated string (malloc'd); fails the test on no memory. */
char *slurp(FILE *f);

#endif
