/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: kerf.yaml, as kerfd and kerfctl load it. */
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cfg *c = NULL;
	struct kerf_error err = KERF_ERROR_INIT;
	/* cfg_load_string takes C text: the input up to its first NUL, as a file read would be. */
	char *text = malloc(size + 1);

	if (!text)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	if (cfg_load_string("kerf.yaml", text, &c, &err) == 0)
		cfg_free(c);
	free(text);
	return 0;
}
