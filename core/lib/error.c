/* SPDX-License-Identifier: Apache-2.0 */
/*
 * error.c - English text for the kerf return codes.
 */
#include <kerf/error.h>

const char *kerf_strerror(int code)
{
	switch ((enum kerf_rc)code) {
	case KERF_OK:
		return "success";
	case KERF_E_INTERNAL:
		return "internal error";
	case KERF_E_NOMEM:
		return "out of memory";
	case KERF_E_INVALID:
		return "invalid argument";
	case KERF_E_PARSE:
		return "malformed input";
	case KERF_E_CONFIG:
		return "invalid configuration";
	case KERF_E_NOTFOUND:
		return "not found";
	case KERF_E_CONFLICT:
		return "conflict";
	case KERF_E_UNSUPPORTED:
		return "operation not supported";
	case KERF_E_TIMEOUT:
		return "timed out";
	case KERF_E_THROTTLED:
		return "throttled";
	case KERF_E_AUTH:
		return "authentication failed";
	case KERF_E_CAPACITY:
		return "insufficient capacity";
	case KERF_E_INFEASIBLE:
		return "infeasible";
	case KERF_E_IO:
		return "input/output error";
	case KERF_E_HTTP:
		return "HTTP error";
	case KERF_E_RANGE:
		return "value out of range";
	case KERF_E_PLUGIN_NOTFOUND:
		return "plugin not found";
	case KERF_E_PLUGIN_DLOPEN:
		return "plugin could not be loaded";
	case KERF_E_PLUGIN_NO_DESCRIPTOR:
		return "plugin has no kerf_plugin_descriptor";
	case KERF_E_PLUGIN_BAD_MAGIC:
		return "plugin descriptor has a bad magic or size";
	case KERF_E_PLUGIN_ABI_MAJOR:
		return "plugin built for another ABI major version";
	case KERF_E_PLUGIN_ABI_MINOR:
		return "plugin built for a newer ABI minor version";
	case KERF_E_PLUGIN_KIND:
		return "plugin does not offer the requested kind";
	case KERF_E_PLUGIN_INCOMPLETE:
		return "plugin descriptor is incomplete";
	case KERF_E_PLUGIN_DUPLICATE:
		return "duplicate plugin name";
	case KERF_E_PLUGIN_CREATE:
		return "plugin instance could not be created";
	case KERF_E_PLUGIN_SCHEMA:
		return "plugin config schema is malformed";
	case KERF_E_PLUGIN_CAPABILITY:
		return "plugin capability bits and optional ops disagree";
	}
	/* Codes are append-only, so an old library can meet a newer number. */
	return "unknown error";
}
