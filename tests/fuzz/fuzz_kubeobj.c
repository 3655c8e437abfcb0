/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: an object as the Kubernetes API sends it, through the kube
 * plugin's path: its JSON limits (kube_json_parse), then the host's one
 * decoder (decode_object: the workload, manifest and Node readers); and
 * the same text as a list page split without JSON (kube_page_scan), each
 * item span read back.  The first byte picks the object kind.
 */
#include <stdlib.h>

#include "../../plugins/kube/kube.h"
#include "fuzz.h"
#include "host.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct kerf_host *h;
	struct kerf_error err = KERF_ERROR_INIT;
	void *out = NULL;

	if (size < 1)
		return 0;
	struct kube_page pg;
	if (kube_page_scan((const char *)data + 1, size - 1, &pg) == 0) {
		for (size_t i = 0; i < pg.n; i++) {
			json_t *it =
			    kube_json_parse("fuzz item", (const char *)data + 1 + pg.items[i].off,
					    pg.items[i].len, KUBE_MAX_OBJECT_BYTES, &err);
			json_decref(it);
		}
		kube_page_clear(&pg);
	}
	if (!h)
		h = host_new("cluster/kube", NULL, NULL, NULL);
	kerf_object_kind kind = (kerf_object_kind)(data[0] % 6);
	json_t *j =
	    kube_json_parse("fuzz", (const char *)data + 1, size - 1, KUBE_MAX_OBJECT_BYTES, &err);
	if (!j)
		return 0;
	free(kube_json_key(j));
	if (kube_decode(h, kind, "fuzz", j, &out, &err) == 0)
		kube_object_free(kind, out);
	json_decref(j);
	return 0;
}
