/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kerfd - the kerf daemon: the command line around daemon.h's loop.
 */
#include <config.h>

#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kerf/kerf.h>

#include "daemon.h"
#include "log.h"

#define EXIT_USAGE 2

static volatile int stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

static void install_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a blocking wait should return so the loop sees the flag. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* A peer closing a connection must be an error on that request, not the end of kerfd. */
	signal(SIGPIPE, SIG_IGN);
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: kerfd --config FILE [--check] [--until DURATION] [--report FILE]\n"
		"             [--decision-log FILE]\n"
		"  -c, --config FILE  kerf.yaml to run with (required)\n"
		"      --check        validate the configuration, load and create every plugin,\n"
		"                     then exit\n"
		"      --until DURATION  stop after this much cluster time (\"2h\", \"90s\")\n"
		"      --report FILE  write the summary printed at the end as JSON\n"
		"      --decision-log FILE  append decisions as JSON lines here instead of\n"
		"                     settings.decision_log's file\n"
		"  -h, --help         show this help\n"
		"  -V, --version      show the version\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"check", no_argument, NULL, 'k'},
	    {"until", required_argument, NULL, 'u'},
	    {"report", required_argument, NULL, 'r'},
	    {"decision-log", required_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	const char *config = NULL, *report = NULL, *decision_log = NULL;
	int64_t until = 0;
	bool check = false;
	int o;
	while ((o = getopt_long(argc, argv, "c:hV", opts, NULL)) != -1) {
		switch (o) {
		case 'c':
			config = optarg;
			break;
		case 'k':
			check = true;
			break;
		case 'u':
			if (kerf_duration_parse(optarg, false, &until, NULL) != 0 || until <= 0) {
				fprintf(stderr, "kerfd: --until: \"%s\" is not a positive duration\n",
					optarg);
				return EXIT_USAGE;
			}
			break;
		case 'r':
			report = optarg;
			break;
		case 'd':
			decision_log = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("kerfd (kerf) %s, plugin ABI %d.%d\n", PACKAGE_VERSION,
			       KERF_ABI_MAJOR, KERF_ABI_MINOR);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "kerfd: unexpected argument \"%s\"\n", argv[optind]);
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!config) {
		fprintf(stderr, "kerfd: --config is required\n");
		usage(stderr);
		return EXIT_USAGE;
	}

	log_init(KERF_LOG_INFO, false);
	install_signals();
	const struct daemon_options opt = {
	    .config = config,
	    .report = report,
	    .decision_log = decision_log,
	    .until_ms = until,
	    .stop = &stop_signal,
	};
	struct daemon *d = NULL;
	int rc = daemon_start(&opt, &d);
	if (rc == 0 && check && daemon_stopped(d)) {
		/* Not every check ran: the configuration is not known to be good. */
		rc = 1;
	} else if (rc == 0 && check) {
		printf("configuration ok: %s\n", config);
		daemon_print_instances(d, stdout);
	} else if (rc == 0) {
		rc = daemon_run(d);
	}
	if (stop_signal)
		log_info("kerfd", "%s received", strsignal(stop_signal));
	daemon_free(d);
	log_shutdown();
	return rc ? 1 : 0;
}
