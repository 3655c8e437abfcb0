/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fake_kube_main - the fake Kubernetes API server as a process, for shell
 * tests and for trying a client by hand:
 *
 *   fake_kube_main [--tls] [--client-certs] [--token TOKEN] [--dir DIR]
 *
 * prints the kubeconfig's path on stdout (one line, flushed) once the
 * server listens, then serves until SIGTERM or SIGINT, and removes its
 * files on the way out.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fake_kube.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	struct fake_kube_options o = {0};
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--tls") == 0) {
			o.tls = true;
		} else if (strcmp(argv[i], "--client-certs") == 0) {
			o.client_certs = true;
		} else if (strcmp(argv[i], "--token") == 0 && i + 1 < argc) {
			o.token = argv[++i];
		} else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc) {
			o.dir = argv[++i];
		} else {
			fprintf(stderr,
				"usage: %s [--tls] [--client-certs] [--token TOKEN] [--dir DIR]\n",
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
	printf("%s\n", fake_kube_kubeconfig(f));
	fflush(stdout);
	while (!stop)
		pause();
	fake_kube_stop(f);
	return 0;
}
