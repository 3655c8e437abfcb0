/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the positioned YAML tree (every YAML kerf reads goes through it). */
#include "fuzz.h"
#include "yamltree.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct yt_stream *s = NULL;
	struct kerf_error err = KERF_ERROR_INIT;

	if (yt_parse_string("fuzz.yaml", (const char *)data, size, &s, &err) != 0)
		return 0;
	/* The typed getters on every scalar, as the readers call them. */
	for (size_t i = 0; i < s->n_nodes; i++) {
		const struct yt_node *n = s->nodes[i];
		int64_t v;
		bool b;
		(void)yt_get_int64(n, &v);
		(void)yt_get_bool(n, &b);
		(void)yt_is_null(n);
		(void)yt_scalar_str(n);
	}
	yt_stream_free(s);
	return 0;
}
