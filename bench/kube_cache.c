/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kube_cache - the kube cluster plugin's informer cache at scale: how long
 * the initial list and sync of P pods and N nodes takes and how much
 * memory the cache holds afterwards.
 *
 *   kube_cache [PODS [NODES]]          (defaults 100000 and 10000)
 *
 * The fake API server (tests/fakes/fake_kube.h) runs in a child process,
 * so the parent's RSS is the plugin's alone: the parent loads the kube
 * plugin as kerfd does, calls start() (which returns once every kind is
 * listed and synced) and prints the time it took and the RSS before and
 * after.  Run it under `taskset -c 0` for one core.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <kerf/kerf.h>

#include "../tests/fakes/fake_kube.h"
#include "http.h"
#include "instance.h"
#include "loader.h"
#include "log.h"
#include "yamltree.h"

static long rss_kib(const char *field)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long v = -1;
	size_t n = strlen(field);
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, field, n) == 0)
			v = strtol(line + n + 1, NULL, 10);
	if (f)
		fclose(f);
	return v;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static unsigned long objects;

static void on_object(void *ctx, kerf_event_type type, kerf_object_kind kind, const void *obj)
{
	(void)ctx;
	(void)kind;
	(void)obj;
	if (type == KERF_EVENT_ADDED)
		__atomic_fetch_add(&objects, 1, __ATOMIC_RELAXED);
}

/* The child: the fake server with the objects; writes its kubeconfig's path, serves until EOF. */
static void serve(int out, int in, long pods, long nodes)
{
	char text[2048];
	struct fake_kube *f = fake_kube_start(NULL);
	if (!f)
		_exit(1);
	for (long i = 0; i < nodes; i++) {
		snprintf(
		    text, sizeof(text),
		    "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":"
		    "\"ip-10-%ld-%ld.ec2.internal\",\"labels\":{\"kubernetes.io/arch\":\"amd64\","
		    "\"kubernetes.io/os\":\"linux\",\"node.kubernetes.io/instance-type\":"
		    "\"m5.xlarge\",\"topology.kubernetes.io/zone\":\"us-east-1a\","
		    "\"karpenter.sh/nodepool\":\"default\",\"karpenter.sh/capacity-type\":"
		    "\"on-demand\"}},\"spec\":{\"providerID\":\"aws:///us-east-1a/i-%08lx\"},"
		    "\"status\":{\"capacity\":{\"cpu\":\"4\",\"memory\":\"16Gi\",\"pods\":\"58\"},"
		    "\"allocatable\":{\"cpu\":\"3920m\",\"memory\":\"15Gi\",\"pods\":\"58\"},"
		    "\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}}",
		    i / 250, i % 250, i);
		if (fake_kube_put(f, text) != 0)
			_exit(2);
	}
	for (long i = 0; i < pods; i++) {
		snprintf(
		    text, sizeof(text),
		    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"web-%ld\","
		    "\"namespace\":\"team-%ld\",\"labels\":{\"app\":\"web-%ld\",\"tier\":"
		    "\"frontend\"},\"ownerReferences\":[{\"apiVersion\":\"apps/v1\",\"kind\":"
		    "\"ReplicaSet\",\"name\":\"web-%ld-7d9f\",\"uid\":\"rs-%ld\",\"controller\":"
		    "true}]},\"spec\":{\"nodeName\":\"ip-10-%ld-%ld.ec2.internal\","
		    "\"containers\":[{\"name\":\"app\",\"image\":\"nginx:1.27\",\"ports\":[{"
		    "\"containerPort\":8080}],\"resources\":{\"requests\":{\"cpu\":\"250m\","
		    "\"memory\":\"256Mi\"},\"limits\":{\"memory\":\"512Mi\"}}}],"
		    "\"tolerations\":[{\"key\":\"node.kubernetes.io/not-ready\",\"operator\":"
		    "\"Exists\",\"effect\":\"NoExecute\",\"tolerationSeconds\":300}]},"
		    "\"status\":{\"phase\":\"Running\"}}",
		    i, i % 50, i % 500, i % 500, i % 500, (i % nodes) / 250, (i % nodes) % 250);
		if (fake_kube_put(f, text) != 0)
			_exit(3);
	}
	dprintf(out, "%s\n", fake_kube_kubeconfig(f));
	close(out);
	char c;
	while (read(in, &c, 1) > 0)
		;
	fake_kube_stop(f);
	_exit(0);
}

int main(int argc, char **argv)
{
	long pods = argc > 1 ? strtol(argv[1], NULL, 10) : 100000;
	long nodes = argc > 2 ? strtol(argv[2], NULL, 10) : 10000;
	int to_parent[2], to_child[2];
	char kubeconfig[512] = {0};

	if (pods < 0 || nodes < 1 || pipe(to_parent) || pipe(to_child))
		return 2;
	pid_t pid = fork();
	if (pid == 0) {
		close(to_parent[0]);
		close(to_child[1]);
		serve(to_parent[1], to_child[0], pods, nodes);
	}
	close(to_parent[1]);
	close(to_child[0]);
	double t0 = now_s();
	FILE *fp = fdopen(to_parent[0], "r");
	if (!fp || !fgets(kubeconfig, sizeof(kubeconfig), fp)) {
		fprintf(stderr, "kube_cache: the fake server did not start\n");
		return 1;
	}
	kubeconfig[strcspn(kubeconfig, "\n")] = '\0';
	fprintf(stderr, "fake server filled with %ld pods and %ld nodes in %.1f s\n", pods, nodes,
		now_s() - t0);

	struct kerf_error err = KERF_ERROR_INIT;
	const char *dirs[] = {KERF_BENCH_PLUGINDIR "/kube/.libs"};
	struct loader *ldr = NULL;
	const struct loader_plugin *p = NULL;
	char yaml[1024];
	struct yt_stream *st = NULL;
	struct plugin_instance in = {0};

	log_init(KERF_LOG_WARN, false);
	if (http_global_init(&err) || loader_new_dirs(dirs, 1, &ldr, &err) ||
	    loader_open(ldr, "kube", KERF_KIND_CLUSTER, &p, &err)) {
		fprintf(stderr, "kube_cache: %s\n", err.message);
		return 1;
	}
	/* No client-side limit: the list's own cost is measured, not client-go's pacing. */
	snprintf(yaml, sizeof(yaml), "kubeconfig: %s\nqps: 10000\nburst: 10000\n", kubeconfig);
	if (yt_parse_string("kerf.yaml", yaml, strlen(yaml), &st, &err))
		return 1;
	const struct instance_env env = {.config = st->docs[0].root, .network = true};
	in.plugin = p;
	long rss0 = rss_kib("VmRSS:");
	if (instance_create(&in, "cluster/kube", &env, &err)) {
		fprintf(stderr, "kube_cache: %s\n", err.message);
		return 1;
	}
	const struct kerf_event_sink sink = {.on_object = on_object};
	double t1 = now_s();
	struct timespec c0, c1;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
	int rc = p->cluster.start(in.state, &sink, &err);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
	double t2 = now_s();
	long rss1 = rss_kib("VmRSS:"), hwm = rss_kib("VmHWM:");
	if (rc) {
		fprintf(stderr, "kube_cache: start: %s\n", err.message);
		return 1;
	}
	printf("pods %ld nodes %ld: list+sync %.2f s wall, %.2f s CPU; %lu objects; RSS %.1f MB "
	       "before, %.1f MB after (peak %.1f MB)\n",
	       pods, nodes, t2 - t1,
	       (double)(c1.tv_sec - c0.tv_sec) + (double)(c1.tv_nsec - c0.tv_nsec) / 1e9, objects,
	       (double)rss0 / 1024, (double)rss1 / 1024, (double)hwm / 1024);
	instance_destroy(&in);
	yt_stream_free(st);
	loader_free(ldr);
	http_global_cleanup();
	close(to_child[1]);
	waitpid(pid, NULL, 0);
	return 0;
}
