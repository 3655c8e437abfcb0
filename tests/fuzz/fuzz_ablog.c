/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the decision log as kerfctl ab-report reads and prints it. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "ab.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *sink;
	struct ab_report *r = ab_new();
	struct kerf_error err = KERF_ERROR_INIT;
	char path[64];
	int fd = fuzz_memfile(data, size, path, sizeof(path));

	if (!sink && !(sink = fopen("/dev/null", "w")))
		abort();
	if (ab_read_file(r, path, &err) == 0)
		ab_print(r, sink);
	ab_free(r);
	close(fd);
	return 0;
}
