/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the simulator's CSV trace, read through a test host. */
#include <string.h>

#include "fuzz.h"
#include "sim_cluster.h"
#include "sim_host.h"

static const uint8_t *input;
static size_t input_size;

/* The host's read_file, answering with the input whatever the path. */
static int input_read_file(void *ctx, const char *path, size_t max, char **out, size_t *len,
			   struct kerf_error *err)
{
	char *buf;

	(void)path;
	if (input_size > max)
		return kerf_error_set(err, KERF_E_RANGE, "larger than %zu bytes", max);
	buf = sim_fake_host.malloc(ctx, input_size + 1);
	memcpy(buf, input, input_size);
	buf[input_size] = '\0';
	*out = buf;
	*len = input_size;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kerf_host host = sim_fake_host;
	struct sim_script script = {0};
	struct kerf_error err = KERF_ERROR_INIT;

	input = data;
	input_size = size;
	host.read_file = input_read_file;
	(void)sim_trace_load(&host, "trace.csv", 1, &script, &err);
	sim_script_clear(&host, &script);
	return 0;
}
