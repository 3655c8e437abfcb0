/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fake_kube_main - the fake Kubernetes API server as a process, for shell
 * tests and for trying a client by hand:
 *
 *   fake_kube_main [--tls] [--client-certs] [--token TOKEN] [--dir DIR]
 *                  [--load FILE]...
 *
 * --load stores the objects of FILE, one JSON object per line, before the
 * server answers (a benchmark's 100,000 pods, in a process of their own so
 * the client's memory is measured alone).  It prints the kubeconfig's path
 * on stdout (one line, flushed) once the server listens, then serves until
 * SIGTERM or SIGINT, and removes its files on the way out.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>

#include "fake_kube.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* Stores every line of path; false, with the line on stderr, at the first
 * that is not an object of a served kind. */
static bool load(struct fake_kube *f, const char *path)
{
	FILE *fp = fopen(path, "r");
	if (!fp) {
		perror(path);
		return false;
	}
	char *line = NULL;
	size_t cap = 0;
	unsigned long n = 0;
	bool ok = true;
	while (ok && getline(&line, &cap, fp) > 0) {
		n++;
		if (line[strspn(line, " \t\r\n")] == '\0')
			continue;
		if (fake_kube_put(f, line) != 0) {
			fprintf(stderr, "%s:%lu: not an object of a kind the fake serves\n", path,
				n);
			ok = false;
		}
	}
	free(line);
	fclose(fp);
	return ok;
}

int main(int argc, char **argv)
{
	struct fake_kube_options o = {0};
	const char *loads[16];
	int n_loads = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--tls") == 0) {
			o.tls = true;
		} else if (strcmp(argv[i], "--client-certs") == 0) {
			o.client_certs = true;
		} else if (strcmp(argv[i], "--token") == 0 && i + 1 < argc) {
			o.token = argv[++i];
		} else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc) {
			o.dir = argv[++i];
		} else if (strcmp(argv[i], "--load") == 0 && i + 1 < argc && n_loads < 16) {
			loads[n_loads++] = argv[++i];
		} else {
			fprintf(stderr,
				"usage: %s [--tls] [--client-certs] [--token TOKEN] [--dir DIR] "
				"[--load FILE]...\n",
				argv[0]);
			return 2;
		}
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	struct fake_kube *f = fake_kube_start(&o);
	if (!f)
		return 1;
	for (int i = 0; i < n_loads; i++) {
		if (!load(f, loads[i])) {
			fake_kube_stop(f);
			return 1;
		}
	}
	printf("%s\n", fake_kube_kubeconfig(f));
	fflush(stdout);
	while (!stop)
		pause();
	fake_kube_stop(f);
	return 0;
}
