/*
 * check_cxx.cc - the plugin SDK as a C++17 plugin sees it.
 *
 * Built with -std=c++17 -Wall -Wextra -Werror -pedantic, so every header of
 * include/kerf must parse as C++ without a warning.  Linking against
 * libkerf proves the declarations carry C linkage: a header missing its
 * extern "C" would leave mangled names the library does not define.
 * tests/headers.sh compiles each header alone, as C11 and as C++17.
 */
#include <kerf/kerf.h>

/* Each one by name too, so a header kerf.h forgets is still compiled here. */
#include <kerf/cluster.h>
#include <kerf/error.h>
#include <kerf/host.h>
#include <kerf/packer.h>
#include <kerf/plugin.h>
#include <kerf/provider.h>
#include <kerf/quantity.h>
#include <kerf/requirements.h>
#include <kerf/scheduling.h>
#include <kerf/taints.h>
#include <kerf/types.h>
#include <kerf/workload.h>

#include <cstddef>
#include <cstdio>
#include <cstring>

/* The frozen header reads the same from C++ as the loader reads it from C. */
static_assert(offsetof(kerf_plugin_descriptor, magic) == 0, "magic moved");
static_assert(offsetof(kerf_plugin_descriptor, abi_major) == 4, "abi_major moved");
static_assert(offsetof(kerf_plugin_descriptor, abi_minor) == 6, "abi_minor moved");
static_assert(offsetof(kerf_plugin_descriptor, size) == 8, "size moved");

static int n_passed, n_failed;

static void expect(bool ok, const char *what)
{
	if (ok) {
		n_passed++;
		return;
	}
	n_failed++;
	std::printf("FAIL: %s\n", what);
}

static int gone(void *, const char *, kerf_error *err)
{
	return kerf_error_set(err, KERF_E_NOTFOUND, "instance %s is gone", "i-1");
}

int main()
{
	expect(std::strcmp(kerf_strerror(KERF_E_NOTFOUND), "not found") == 0,
	       "kerf_strerror resolves from libkerf with C linkage");

	kerf_reqset *set = kerf_reqset_new();
	expect(set != nullptr, "kerf_reqset_new returns a set");
	kerf_reqset_free(set);

	kerf_provider_ops ops{};
	ops.delete_instance = gone;
	kerf_error err;
	kerf_error_clear(&err);
	int rc = ops.delete_instance(nullptr, "i-1", &err);
	expect(rc == KERF_E_NOTFOUND && err.code == KERF_E_NOTFOUND,
	       "the header-only kerf_error_set returns and records the code");
	expect(std::strcmp(err.message, "instance i-1 is gone") == 0,
	       "kerf_error_set formats the message");

	std::printf("%d passed, %d failed\n", n_passed, n_failed);
	return n_failed ? 1 : 0;
}
