/* SPDX-License-Identifier: Apache-2.0 */
/*
 * command.h - runs a helper program (a kubeconfig's credential plugin) for
 * the host's run_command service (kerf/host.h, ABI 2.1).
 */
#ifndef KERF_CORE_COMMAND_H
#define KERF_CORE_COMMAND_H

#include <stddef.h>
#include <stdint.h>

#include <kerf/error.h>

struct strbuf;

/*
 * Runs argv (argv[0] searched in PATH) with the process environment plus
 * env ("NAME=value", NULL-terminated, NULL for none; these win), stdin
 * /dev/null.  Standard output is appended to out (at most max_output
 * bytes, 0: 1 MiB; more kills the program: KERF_E_RANGE), standard error
 * to errout (NULL: dropped; at most 16 KiB kept).  Waits at most
 * timeout_ms (0: 30 s; then the program is killed: KERF_E_TIMEOUT).  On 0
 * *exit_status is the exit code (128 + signal when killed by one).
 * KERF_E_IO when it cannot be started.  Blocks; thread-safe.
 */
int command_run(const char *const *argv, const char *const *env, int64_t timeout_ms,
		size_t max_output, struct strbuf *out, struct strbuf *errout, int *exit_status,
		struct kerf_error *err);

#endif
