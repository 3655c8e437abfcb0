/* slurp.c - see slurp.h. */
#include <check.h>
#include <stdlib.h>

#include "slurp.h"

char *slurp(FILE *f)
{
	size_t cap = 4096, n = 0, got;
	char *buf = malloc(cap);

	ck_assert_ptr_nonnull(buf);
	while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
		n += got;
		if (n + 1 == cap) {
			cap *= 2;
			buf = realloc(buf, cap);
			ck_assert_ptr_nonnull(buf);
		}
	}
	buf[n] = '\0';
	return buf;
}
