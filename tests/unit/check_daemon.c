/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_daemon - the whole daemon in process, on the blocking test plugin
 * (tests/plugins/blocking.c): launches run in parallel up to
 * settings.launch_parallelism, and while every one of them blocks in the
 * provider the loop keeps ticking and the cluster's events keep being
 * applied.  Everything is asserted by counts and by the order things
 * happen in; the waits have no deadline but Check's own timeout.
 *
 * Also: a provider with create_batch gets a batch's claims in one call,
 * and kerfd on the real clock provisions a simulated world end to end.
 */
#include <config.h>

#include <check.h>
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../plugins/blocking.h"
#include "daemon.h"
#include "log.h"

#define PLUGIN_DIR KERF_TEST_BUILDDIR "/tests/plugins/.libs"

static struct blocking_ctl *open_plugin(const char *name, void **handle)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s.so", PLUGIN_DIR, name);
	*handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	ck_assert_msg(*handle, "dlopen: %s", dlerror());
	struct blocking_ctl *(*fn)(void) = (struct blocking_ctl * (*)(void)) dlsym(*handle, "blocking_ctl");
	ck_assert_msg(fn, "blocking_ctl: %s", dlerror());
	return fn();
}

static char *write_config(const char *plugin, unsigned parallelism)
{
	char dir[] = "/tmp/check_daemon.XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	char *path = NULL;
	ck_assert_int_gt(asprintf(&path, "%s/kerf.yaml", dir), 0);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f,
		"plugin_dir: %s\n"
		"cluster: %s\n"
		"provider: %s\n"
		"packers: [binpack-ffd]\n"
		"settings:\n"
		"  batch_idle_duration: 1ms\n"
		"  batch_max_duration: 1s\n"
		"  launch_parallelism: %u\n"
		"  log_level: warn\n"
		"  metrics_address: \"\"\n"
		"  health_address: \"\"\n",
		PLUGIN_DIR, plugin, plugin, parallelism);
	ck_assert_int_eq(fclose(f), 0);
	return path;
}

static void *run(void *arg)
{
	return (void *)(intptr_t)daemon_run(arg);
}

/* Waits on the plugin's condition variable until pred holds. */
#define WAIT_CTL(ctl, pred)                                                                        \
	do {                                                                                       \
		pthread_mutex_lock(&(ctl)->mu);                                                    \
		while (!(pred))                                                                    \
			pthread_cond_wait(&(ctl)->cv, &(ctl)->mu);                                 \
		pthread_mutex_unlock(&(ctl)->mu);                                                  \
	} while (0)

/* The daemon's counters change without a signal to wait on: look again after a pause. */
static void pause_briefly(void)
{
	struct timespec ts = {0, 1000000};
	nanosleep(&ts, NULL);
}

static unsigned ctl_get(struct blocking_ctl *ctl, const unsigned *field)
{
	pthread_mutex_lock(&ctl->mu);
	unsigned v = *field;
	pthread_mutex_unlock(&ctl->mu);
	return v;
}

START_TEST(launches_in_parallel_while_events_flow)
{
	enum { PODS = 100, BOUND = 8, NOISE = 50 };
	void *handle;
	struct blocking_ctl *ctl = open_plugin("blocking", &handle);
	ctl->pods = PODS;
	char *config = write_config("blocking", BOUND);
	const struct daemon_options opt = {.config = config};
	struct daemon *d = NULL;
	ck_assert_int_eq(daemon_start(&opt, &d), 0);
	pthread_t loop;
	ck_assert_int_eq(pthread_create(&loop, NULL, run, d), 0);

	/* One batch of 100 claims: exactly BOUND launches reach the provider, and they block. */
	WAIT_CTL(ctl, ctl->in_flight == BOUND);
	ck_assert_uint_eq(ctl_get(ctl, &ctl->creates), BOUND);

	/* While they block, the loop ticks and applies events from the plugin's own thread. */
	struct daemon_stats before, now;
	daemon_get_stats(d, &before);
	pthread_mutex_lock(&ctl->mu);
	ctl->noise = NOISE;
	pthread_cond_broadcast(&ctl->cv);
	pthread_mutex_unlock(&ctl->mu);
	WAIT_CTL(ctl, ctl->noise_sent == NOISE);
	do {
		pause_briefly();
		daemon_get_stats(d, &now);
	} while (now.events < before.events + NOISE);
	ck_assert_uint_gt(now.ticks, before.ticks);
	ck_assert_uint_ge(now.in_flight, PODS);
	/* Still nothing released: every launch is where it was. */
	ck_assert_uint_eq(ctl_get(ctl, &ctl->in_flight), BOUND);
	ck_assert_uint_eq(ctl_get(ctl, &ctl->creates), BOUND);
	ck_assert_uint_eq(now.nodeclaims, PODS);

	pthread_mutex_lock(&ctl->mu);
	ctl->released = true;
	pthread_cond_broadcast(&ctl->cv);
	pthread_mutex_unlock(&ctl->mu);
	WAIT_CTL(ctl, ctl->creates == PODS && ctl->in_flight == 0);
	do {
		pause_briefly();
		daemon_get_stats(d, &now);
	} while (now.in_flight > 0);
	ck_assert_uint_eq(ctl_get(ctl, &ctl->max_in_flight), BOUND);
	ck_assert_uint_eq(now.nodeclaims, PODS);

	daemon_request_stop(d);
	void *rc;
	ck_assert_int_eq(pthread_join(loop, &rc), 0);
	ck_assert_int_eq((int)(intptr_t)rc, 0);
	daemon_free(d);
	free(config);
	dlclose(handle);
}
END_TEST

struct start_arg {
	const struct daemon_options *opt;
	struct daemon *d;
	int rc;
};

static void *start(void *arg)
{
	struct start_arg *a = arg;
	a->rc = daemon_start(a->opt, &a->d);
	return NULL;
}

/*
 * A SIGINT while a plugin's create() is still running (kerfd's signal
 * flag set) stops the start-up at the next step: nothing after it runs,
 * the cluster is never started, and the daemon shuts down cleanly.
 */
START_TEST(stop_during_startup)
{
	void *handle;
	struct blocking_ctl *ctl = open_plugin("blocking", &handle);
	ctl->pods = 3;
	ctl->hold_create = true;
	char *config = write_config("blocking", 2);
	volatile int signalled = 0;
	const struct daemon_options opt = {.config = config, .stop = &signalled};
	struct start_arg a = {.opt = &opt};
	pthread_t t;
	ck_assert_int_eq(pthread_create(&t, NULL, start, &a), 0);
	WAIT_CTL(ctl, ctl->in_create);
	signalled = SIGINT;
	pthread_mutex_lock(&ctl->mu);
	ctl->hold_create = false;
	pthread_cond_broadcast(&ctl->cv);
	pthread_mutex_unlock(&ctl->mu);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_int_eq(a.rc, 0);
	ck_assert(daemon_stopped(a.d));
	ck_assert_int_eq(daemon_run(a.d), 0);
	ck_assert_uint_eq(ctl_get(ctl, &ctl->starts), 0);
	ck_assert_uint_eq(ctl_get(ctl, &ctl->creates), 0);
	daemon_free(a.d);
	free(config);
	dlclose(handle);
}
END_TEST

START_TEST(batching_provider_gets_one_call)
{
	enum { PODS = 40 };
	void *handle;
	struct blocking_ctl *ctl = open_plugin("batching", &handle);
	ctl->pods = PODS;
	char *config = write_config("batching", 4);
	const struct daemon_options opt = {.config = config};
	struct daemon *d = NULL;
	ck_assert_int_eq(daemon_start(&opt, &d), 0);
	pthread_t loop;
	ck_assert_int_eq(pthread_create(&loop, NULL, run, d), 0);
	WAIT_CTL(ctl, ctl->creates == PODS);
	struct daemon_stats now;
	do {
		pause_briefly();
		daemon_get_stats(d, &now);
	} while (now.nodeclaims < PODS || now.in_flight > 0);
	/* One NodePool, one node class: the whole batch is one fleet request. */
	ck_assert_uint_eq(ctl_get(ctl, &ctl->batch_calls), 1);
	ck_assert_uint_eq(ctl_get(ctl, &ctl->max_batch), PODS);
	/* The cluster offers a lease: nothing was launched before kerfd held it. */
	ck_assert_uint_gt(ctl_get(ctl, &ctl->lease_calls), 0);
	ck_assert_uint_eq(ctl_get(ctl, &ctl->before_lease), 0);
	ck_assert_uint_eq(now.nodeclaims, PODS);
	daemon_request_stop(d);
	void *rc;
	ck_assert_int_eq(pthread_join(loop, &rc), 0);
	ck_assert_int_eq((int)(intptr_t)rc, 0);
	daemon_free(d);
	free(config);
	dlclose(handle);
}
END_TEST

/*
 * settings.clock: real, a short batch window and a small simulated world:
 * kerfd launches, the nodes join, and every pod is bound.  The batch
 * window once compared wall-clock pod events with the monotonic clock and
 * never closed; this is the run that would have caught it.
 */
START_TEST(real_clock_provisions)
{
	char dir[] = "/tmp/check_daemon.XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	char *config = NULL, *report = NULL;
	ck_assert_int_gt(asprintf(&config, "%s/kerf.yaml", dir), 0);
	ck_assert_int_gt(asprintf(&report, "%s/report.json", dir), 0);
	FILE *f = fopen(config, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f,
		"cluster: sim\n"
		"provider: sim\n"
		"packers: [binpack-ffd]\n"
		"manifests: [%s/tests/data/restart/nodepool.yaml]\n"
		"plugins:\n"
		"  sim:\n"
		"    workloads: [%s/tests/data/restart/apps.yaml]\n"
		"    include_types: [\"m5.xlarge\"]\n"
		"    launch_delay: 300ms\n"
		"    ready_delay: 100ms\n"
		"settings:\n"
		"  batch_idle_duration: 50ms\n"
		"  batch_max_duration: 500ms\n"
		"  clock: real\n"
		"  log_level: warn\n"
		"  metrics_address: \"\"\n"
		"  health_address: \"\"\n",
		KERF_TEST_SRCDIR, KERF_TEST_SRCDIR);
	ck_assert_int_eq(fclose(f), 0);
	const struct daemon_options opt = {.config = config, .report = report};
	struct daemon *d = NULL;
	ck_assert_int_eq(daemon_start(&opt, &d), 0);
	pthread_t loop;
	ck_assert_int_eq(pthread_create(&loop, NULL, run, d), 0);
	struct daemon_stats now;
	do {
		pause_briefly();
		daemon_get_stats(d, &now);
	} while (now.pods_scheduled < 6);
	/* Six pods of 2.5 cpu on 4-cpu nodes: one node each, none more. */
	ck_assert_uint_eq(now.nodeclaims, 6);
	daemon_request_stop(d);
	void *rc;
	ck_assert_int_eq(pthread_join(loop, &rc), 0);
	ck_assert_int_eq((int)(intptr_t)rc, 0);
	daemon_free(d);
	ck_assert_int_eq(access(report, R_OK), 0);
	free(config);
	free(report);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("daemon");
	TCase *tc = tcase_create("concurrency");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, launches_in_parallel_while_events_flow);
	tcase_add_test(tc, batching_provider_gets_one_call);
	tcase_add_test(tc, stop_during_startup);
	tcase_add_test(tc, real_clock_provisions);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
