/* SPDX-License-Identifier: Apache-2.0 */
/*
 * command.c - the host's run_command service (kerf/host.h, ABI 2.1): a
 * credential helper run to completion with a bounded output and time.
 */
#include "command.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

extern char **environ;

#define COMMAND_DEFAULT_TIMEOUT_MS 30000
#define COMMAND_DEFAULT_MAX_OUTPUT ((size_t)1 << 20)
#define COMMAND_MAX_STDERR ((size_t)16 << 10)

static int64_t mono_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* environ with extra in front: getenv takes the first match, so the extras win. */
static char **merged_env(const char *const *extra)
{
	size_t n_env = 0, n_extra = 0;
	while (environ && environ[n_env])
		n_env++;
	while (extra && extra[n_extra])
		n_extra++;
	char **env = xcalloc(n_env + n_extra + 1, sizeof(char *));
	size_t k = 0;
	for (size_t i = 0; i < n_extra; i++)
		env[k++] = (char *)extra[i];
	for (size_t i = 0; i < n_env; i++)
		env[k++] = environ[i];
	return env;
}

int command_run(const char *const *argv, const char *const *env, int64_t timeout_ms,
		size_t max_output, struct strbuf *out, struct strbuf *errout, int *exit_status,
		struct kerf_error *err)
{
	int outp[2] = {-1, -1}, errp[2] = {-1, -1}, rc = 0;
	posix_spawn_file_actions_t fa;
	pid_t pid;

	if (!argv || !argv[0] || !*argv[0])
		return kerf_error_set(err, KERF_E_INVALID, "run_command: no program");
	if (timeout_ms <= 0)
		timeout_ms = COMMAND_DEFAULT_TIMEOUT_MS;
	if (max_output == 0)
		max_output = COMMAND_DEFAULT_MAX_OUTPUT;
	if (pipe2(outp, O_CLOEXEC) != 0 || pipe2(errp, O_CLOEXEC) != 0) {
		rc = kerf_error_set(err, KERF_E_IO, "run_command %s: pipe: %s", argv[0],
				    strerror(errno));
		goto close_pipes;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, outp[1], 1);
	posix_spawn_file_actions_adddup2(&fa, errp[1], 2);
	char **envp = merged_env(env);
	int serr = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv, envp);
	free(envp);
	posix_spawn_file_actions_destroy(&fa);
	close(outp[1]);
	close(errp[1]);
	outp[1] = errp[1] = -1;
	if (serr != 0) {
		rc = kerf_error_set(err, KERF_E_IO, "run_command %s: %s", argv[0], strerror(serr));
		goto close_pipes;
	}

	int64_t deadline = mono_now_ms() + timeout_ms;
	bool out_open = true, err_open = true, killed = false, too_big = false;
	char buf[4096];
	while (out_open || err_open) {
		struct pollfd p[2] = {{.fd = out_open ? outp[0] : -1, .events = POLLIN},
				      {.fd = err_open ? errp[0] : -1, .events = POLLIN}};
		int64_t left = deadline - mono_now_ms();
		if (left <= 0) {
			killed = true;
			break;
		}
		int pr = poll(p, 2, left > 1000 ? 1000 : (int)left);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr < 0)
			break;
		for (int i = 0; i < 2; i++) {
			if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			ssize_t got = read(p[i].fd, buf, sizeof(buf));
			if (got <= 0) {
				if (got < 0 && errno == EINTR)
					continue;
				if (i == 0)
					out_open = false;
				else
					err_open = false;
				continue;
			}
			if (i == 0) {
				if (out->len + (size_t)got > max_output) {
					too_big = true;
					killed = true;
					break;
				}
				sb_append(out, buf, (size_t)got);
			} else if (errout && errout->len < COMMAND_MAX_STDERR) {
				sb_append(errout, buf, (size_t)got);
			}
		}
		if (killed)
			break;
	}
	if (killed)
		kill(pid, SIGKILL);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (too_big)
		rc = kerf_error_set(err, KERF_E_RANGE, "run_command %s: output above %zu bytes",
				    argv[0], max_output);
	else if (killed)
		rc = kerf_error_set(err, KERF_E_TIMEOUT,
				    "run_command %s: still running after %lld ms", argv[0],
				    (long long)timeout_ms);
	else
		*exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
close_pipes:
	for (int i = 0; i < 2; i++) {
		if (outp[i] >= 0)
			close(outp[i]);
		if (errp[i] >= 0)
			close(errp[i]);
	}
	return rc;
}
