/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_scenarios.c - provisioning scenarios end to end on the simulator,
 * table-driven: each entry of `scenarios` names a directory under
 * tests/data/scenarios/ holding the manifests and an `expect` file with the
 * exact results.
 *
 * A directory with a kerfd.yaml is run as `kerfd --config kerfd.yaml
 * --report FILE` in that directory (the virtual clock: several batches,
 * registration); any other runs the built `kerfctl simulate -o json` on
 * every *.yaml in it but config.yaml, which is passed with -c when present
 * (sim settings such as unavailable offerings).
 *
 * expect, one assertion a line ('#' starts a comment, '*' matches anything):
 *
 *   claims N                  NodeClaims created
 *   type TYPE CT ZONE N       claims with that instance type, capacity type
 *                             and zone; the counts of the type lines must
 *                             add up to `claims`
 *   pool NAME N               claims of a NodePool
 *   zone ZONE N               claims in a zone
 *   pods-in-zone ZONE N       pods on the claims in a zone
 *   pods-per-claim K N        claims carrying exactly K pods
 *   pod POD TYPE              the claim holding POD has instance type TYPE
 *   apart POD POD             the two pods are on different claims
 *   options-only T...         every option of every claim is one of T...
 *   no-option-family F...     no option of any claim is of family F
 *   min-option-families N     each claim's options span at least N families
 *   total MICRO               total price, micro-USD per hour
 *   unschedulable N           pods left pending
 *   reasons POD N             POD has N reasons
 *   reason POD POOL TEXT      POD has a reason from POOL containing TEXT (the
 *                             rest of the line); every pending pod needs one
 *   report KEY N              kerfd: integer at KEY (dotted path) in the report
 *   by-type TYPE CT N         kerfd: nodes.by_type entry
 *   by-types N                kerfd: entries in nodes.by_type
 *   pending POD TEXT          kerfd: POD pending with a reason containing TEXT
 */
#include <check.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <dirent.h>
#include <unistd.h>

#include "../common/slurp.h"

#define KERFCTL KERF_TEST_BUILDDIR "/core/kerfctl"
#define KERFD KERF_TEST_BUILDDIR "/core/kerfd"
#define SCENARIOS KERF_TEST_DATADIR "/scenarios/"

static const char *const scenarios[] = {
    "01-cpu-memory",
    "02-memory-heavy",
    "03-ephemeral-storage",
    "04-pods-capacity",
    "05-nvidia-gpu",
    "06-amd-gpu",
    "07-init-containers",
    "08-sidecar-overhead",
    "09-zone-selector",
    "10-arm64-selector",
    "11-instance-type-selector",
    "12-capacity-type-selector",
    "13-affinity-or-terms",
    "14-instance-cpu-gt-lt",
    "15-preferred-relaxed",
    "16-taint-tolerated",
    "17-taint-not-tolerated",
    "18-toleration-exists",
    "19-startup-taints",
    "20-zone-spread-skew1",
    "21-zone-spread-skew2",
    "22-hostname-spread",
    "23-hostname-anti-affinity",
    "24-zone-anti-affinity",
    "25-zone-pod-affinity",
    "26-host-ports",
    "27-daemonset-overhead",
    "28-weights",
    "29-limit-cpu",
    "30-limit-memory",
    "31-limit-nodes",
    "32-min-values",
    "33-min-values-unsatisfiable",
    "34-spot-preferred",
    "35-on-demand-only",
    "36-spot-unavailable",
    "37-gpu-excluded-for-cpu",
    "38-bare-metal-excluded",
    "39-arm64-cheaper",
    "40-ray-worker",
    "41-no-pool-fits",
    "42-two-tainted-pools",
    "43-deployment-replicas",
    "44-statefulset",
    "45-job-parallelism",
    "46-second-batch-reuse",
    "47-registration",
    "48-node-class-missing",
    "49-static-nodepool",
    "50-min-values-packed",
    "51-min-values-truncated",
    "52-min-values-over-max",
    "53-kubelet-max-pods",
    "54-root-volume",
    "55-root-volume-kerfd",
    "56-affinity-unsatisfiable",
    "57-prefer-no-schedule",
    "58-daemonset-per-type",
    "59-schedule-anyway",
    "60-min-domains",
    "62-preferred-anti-affinity",
    "63-preferred-anti-affinity-relaxed",
    "64-affinity-same-batch-zone",
    "65-affinity-same-batch-hostname",
    "66-hostname-min-domains",
    "67-schedule-anyway-zone-relaxed",
    "68-zone-spread-unreachable-domain",
    "69-schedule-anyway-hostname-relaxed",
    "70-spread-before-preferred-zone",
    "71-affinity-same-batch-upsize",
    "72-affinity-same-batch-no-room",
    "73-zone-anti-affinity-inverse",
    "74-zone-spread-domains-honor",
    "75-node-preference-after-pod-preferences",
    "76-prefer-no-schedule-after-spread",
#ifdef BUILD_PLUGIN_BINPACK_ILP
    "61-min-values-packed-ilp",
#endif
};

#define N_SCENARIOS (sizeof(scenarios) / sizeof(scenarios[0]))

struct result {
	char dir[1024];
	char *out;
	char *err;
	json_t *doc;
	bool kerfd;
};

static bool exists(const char *dir, const char *name)
{
	char path[1200];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return stat(path, &st) == 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs the scenario in dir: kerfctl simulate on its manifests, or kerfd. */
static void run_scenario(struct result *r, const char *name)
{
	char cmd[8192];
	int n, status;

	snprintf(r->dir, sizeof(r->dir), SCENARIOS "%s", name);
	r->kerfd = exists(r->dir, "kerfd.yaml");
	if (r->kerfd) {
		char report[] = "/tmp/check_scenarios.json.XXXXXX";
		int fd = mkstemp(report);
		ck_assert_int_ge(fd, 0);
		close(fd);
		n = snprintf(cmd, sizeof(cmd), "cd '%s' && '%s' --config kerfd.yaml --report '%s'",
			     r->dir, KERFD, report);
		ck_assert_int_lt(n, (int)sizeof(cmd));
		status = run_captured(cmd, &r->out, &r->err);
		ck_assert_msg(status == 0, "%s: kerfd exited %d: %.2000s", name, status, r->err);
		r->doc = json_load_file(report, 0, NULL);
		unlink(report);
		ck_assert_msg(r->doc != NULL, "%s: no report: %.2000s", name, r->err);
		return;
	}

	DIR *d = opendir(r->dir);
	struct dirent *e;
	char *files[32];
	size_t nf = 0;

	ck_assert_msg(d != NULL, "%s: no directory", r->dir);
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);
		if (len > 5 && strcmp(e->d_name + len - 5, ".yaml") == 0 &&
		    strcmp(e->d_name, "config.yaml") != 0) {
			ck_assert_uint_lt(nf, 32);
			files[nf++] = strdup(e->d_name);
		}
	}
	closedir(d);
	ck_assert_msg(nf > 0, "%s: no manifests", name);
	qsort(files, nf, sizeof(files[0]), by_name);
	n = snprintf(cmd, sizeof(cmd), "cd '%s' && '%s' simulate -o json", r->dir, KERFCTL);
	if (exists(r->dir, "config.yaml"))
		n += snprintf(cmd + n, sizeof(cmd) - (size_t)n, " -c config.yaml");
	for (size_t i = 0; i < nf; i++) {
		n += snprintf(cmd + n, sizeof(cmd) - (size_t)n, " -f '%s'", files[i]);
		free(files[i]);
	}
	ck_assert_int_lt(n, (int)sizeof(cmd));
	status = run_captured(cmd, &r->out, &r->err);
	ck_assert_msg(status == 0, "%s: kerfctl exited %d: %.2000s", name, status, r->err);
	r->doc = json_loads(r->out, 0, NULL);
	ck_assert_msg(r->doc != NULL, "%s: not JSON: %.2000s", name, r->out);
}

static bool matches(const char *pattern, const char *s)
{
	return strcmp(pattern, "*") == 0 || strcmp(pattern, s) == 0;
}

static long number(const char *name, int line, const char *tok)
{
	char *end;
	long v;

	ck_assert_msg(tok != NULL, "%s:expect:%d: missing number", name, line);
	v = strtol(tok, &end, 10);
	ck_assert_msg(*end == '\0', "%s:expect:%d: \"%s\" is not a number", name, line, tok);
	return v;
}

/* The claim holding pod, or NULL. */
static const json_t *claim_of(const json_t *doc, const char *pod)
{
	const json_t *c, *p;
	size_t i, k;

	json_array_foreach(json_object_get(doc, "nodeclaims"), i, c)
		json_array_foreach(json_object_get(c, "pods"), k, p)
			if (strcmp(json_string_value(p), pod) == 0)
				return c;
	return NULL;
}

/* The unschedulable (simulate) or pending (kerfd) entry for pod, or NULL. */
static const json_t *pending_entry(const struct result *r, const char *pod)
{
	const json_t *u;
	size_t i;

	json_array_foreach(json_object_get(r->doc, r->kerfd ? "pending" : "unschedulable"), i, u)
		if (strcmp(str_at(u, "pod"), pod) == 0)
			return u;
	return NULL;
}

static void family_of(const char *type, char *fam, size_t size)
{
	size_t len = strcspn(type, ".");

	ck_assert_uint_lt(len, size);
	memcpy(fam, type, len);
	fam[len] = '\0';
}

static size_t distinct_families(const json_t *options)
{
	char fams[64][32];
	size_t n = 0, i, k;
	const json_t *o;

	json_array_foreach(options, i, o) {
		char f[32];
		family_of(json_string_value(o), f, sizeof(f));
		for (k = 0; k < n && strcmp(fams[k], f) != 0; k++)
			;
		if (k == n && n < 64)
			strcpy(fams[n++], f);
	}
	return n;
}

/* Counts claims whose key1..key3 match the given patterns (NULL keys are ignored). */
static long count_claims(const json_t *doc, const char *k1, const char *v1, const char *k2,
			 const char *v2, const char *k3, const char *v3)
{
	const json_t *c;
	size_t i;
	long n = 0;

	json_array_foreach(json_object_get(doc, "nodeclaims"), i, c)
		if (matches(v1, str_at(c, k1)) && (!k2 || matches(v2, str_at(c, k2))) &&
		    (!k3 || matches(v3, str_at(c, k3))))
			n++;
	return n;
}

/* Checks one line of expect against a kerfctl simulate result. */
static void check_simulate_line(const struct result *r, const char *name, int line, char *verb,
				char *save)
{
	const json_t *doc = r->doc, *claims = json_object_get(doc, "nodeclaims"), *c;
	char *a = strtok_r(NULL, " \t", &save);
	size_t i, k;

	if (strcmp(verb, "claims") == 0) {
		ck_assert_msg(json_array_size(claims) == (size_t)number(name, line, a),
			      "%s: %zu claims, expected %s\n%.2000s", name, json_array_size(claims), a,
			      r->out);
	} else if (strcmp(verb, "type") == 0) {
		char *ct = strtok_r(NULL, " \t", &save), *zone = strtok_r(NULL, " \t", &save);
		long want = number(name, line, strtok_r(NULL, " \t", &save));
		long got = count_claims(doc, "instance_type", a, "capacity_type", ct, "zone", zone);
		ck_assert_msg(got == want, "%s:%d: %ld claims of %s %s %s, expected %ld\n%.2000s", name,
			      line, got, a, ct, zone, want, r->out);
	} else if (strcmp(verb, "pool") == 0 || strcmp(verb, "zone") == 0) {
		long want = number(name, line, strtok_r(NULL, " \t", &save));
		long got = count_claims(doc, verb[0] == 'p' ? "nodepool" : "zone", a, NULL, NULL,
					NULL, NULL);
		ck_assert_msg(got == want, "%s:%d: %ld claims in %s %s, expected %ld\n%.2000s", name,
			      line, got, verb, a, want, r->out);
	} else if (strcmp(verb, "pods-in-zone") == 0) {
		long want = number(name, line, strtok_r(NULL, " \t", &save)), got = 0;
		json_array_foreach(claims, i, c)
			if (strcmp(str_at(c, "zone"), a) == 0)
				got += (long)json_array_size(json_object_get(c, "pods"));
		ck_assert_msg(got == want, "%s:%d: %ld pods in %s, expected %ld\n%.2000s", name, line,
			      got, a, want, r->out);
	} else if (strcmp(verb, "pods-per-claim") == 0) {
		long per = number(name, line, a), got = 0;
		long want = number(name, line, strtok_r(NULL, " \t", &save));
		json_array_foreach(claims, i, c)
			if ((long)json_array_size(json_object_get(c, "pods")) == per)
				got++;
		ck_assert_msg(got == want, "%s:%d: %ld claims with %ld pods, expected %ld\n%.2000s",
			      name, line, got, per, want, r->out);
	} else if (strcmp(verb, "pod") == 0) {
		const char *type = strtok_r(NULL, " \t", &save);
		c = claim_of(doc, a);
		ck_assert_msg(c != NULL, "%s:%d: %s is on no claim\n%.2000s", name, line, a, r->out);
		ck_assert_msg(type && strcmp(str_at(c, "instance_type"), type) == 0,
			      "%s:%d: %s is on a %s", name, line, a, str_at(c, "instance_type"));
	} else if (strcmp(verb, "apart") == 0) {
		const char *b = strtok_r(NULL, " \t", &save);
		const json_t *ca = claim_of(doc, a), *cb = b ? claim_of(doc, b) : NULL;
		ck_assert_msg(ca && cb && ca != cb, "%s:%d: %s and %s not on two claims\n%.2000s", name,
			      line, a, b, r->out);
	} else if (strcmp(verb, "options-only") == 0 || strcmp(verb, "no-option-family") == 0) {
		/* The allowed types or the excluded families, from a and the rest of the line. */
		const char *set[32];
		size_t n = 0;
		bool only = verb[0] == 'o';
		for (char *t = a; t; t = strtok_r(NULL, " \t", &save)) {
			ck_assert_uint_lt(n, 32);
			set[n++] = t;
		}
		ck_assert_msg(n > 0, "%s:expect:%d: empty list", name, line);
		json_array_foreach(claims, i, c) {
			const json_t *o;
			json_array_foreach(json_object_get(c, "options"), k, o) {
				const char *type = json_string_value(o);
				char fam[32];
				bool in = false;
				family_of(type, fam, sizeof(fam));
				for (size_t j = 0; j < n; j++)
					in = in || strcmp(set[j], only ? type : fam) == 0;
				ck_assert_msg(in == only, "%s:%d: claim %s has option %s", name, line,
					      str_at(c, "name"), type);
			}
		}
	} else if (strcmp(verb, "min-option-families") == 0) {
		size_t want = (size_t)number(name, line, a);
		json_array_foreach(claims, i, c) {
			size_t got = distinct_families(json_object_get(c, "options"));
			ck_assert_msg(got >= want, "%s:%d: claim %s spans %zu families", name, line,
				      str_at(c, "name"), got);
		}
	} else if (strcmp(verb, "total") == 0) {
		json_int_t got = int_at(doc, "total_price_micro_usd_per_hour");
		ck_assert_msg(got == number(name, line, a), "%s: total %lld, expected %s\n%.2000s", name,
			      (long long)got, a, r->out);
	} else if (strcmp(verb, "unschedulable") == 0) {
		size_t got = json_array_size(json_object_get(doc, "unschedulable"));
		ck_assert_msg(got == (size_t)number(name, line, a),
			      "%s: %zu unschedulable, expected %s\n%.2000s", name, got, a, r->out);
	} else {
		ck_abort_msg("%s:expect:%d: unknown assertion \"%s\"", name, line, verb);
	}
}

/* Checks one line of expect against a kerfd report. */
static void check_report_line(const struct result *r, const char *name, int line, char *verb,
			      char *save)
{
	const json_t *by = json_object_get(json_object_get(r->doc, "nodes"), "by_type"), *t;
	char *a = strtok_r(NULL, " \t", &save);
	size_t i;

	if (strcmp(verb, "report") == 0) {
		long want = number(name, line, strtok_r(NULL, " \t", &save));
		json_int_t got = int_at(r->doc, a);
		ck_assert_msg(got == want, "%s:%d: %s is %lld, expected %ld\n%.2000s", name, line, a,
			      (long long)got, want, r->err);
	} else if (strcmp(verb, "by-types") == 0) {
		ck_assert_msg(json_array_size(by) == (size_t)number(name, line, a),
			      "%s:%d: %zu instance types", name, line, json_array_size(by));
	} else if (strcmp(verb, "by-type") == 0) {
		const char *ct = strtok_r(NULL, " \t", &save);
		long want = number(name, line, strtok_r(NULL, " \t", &save)), got = 0;
		json_array_foreach(by, i, t)
			if (strcmp(str_at(t, "instance_type"), a) == 0 &&
			    strcmp(str_at(t, "capacity_type"), ct) == 0)
				got = (long)int_at(t, "count");
		ck_assert_msg(got == want, "%s:%d: %ld nodes %s %s, expected %ld", name, line, got,
			      a, ct, want);
	} else {
		ck_abort_msg("%s:expect:%d: unknown assertion \"%s\"", name, line, verb);
	}
}

/* reason/reasons/pending lines, shared by both kinds of run. */
static bool check_reason_line(const struct result *r, const char *name, int line, char *verb,
			      char *save)
{
	const json_t *u, *why;
	char *pod;
	size_t i;

	if (strcmp(verb, "reason") != 0 && strcmp(verb, "reasons") != 0 &&
	    strcmp(verb, "pending") != 0)
		return false;
	pod = strtok_r(NULL, " \t", &save);
	ck_assert_msg(pod != NULL, "%s:expect:%d: no pod", name, line);
	u = pending_entry(r, pod);
	ck_assert_msg(u != NULL, "%s:%d: %s is not pending\n%.2000s", name, line, pod, r->out);
	if (strcmp(verb, "reasons") == 0) {
		size_t want = (size_t)number(name, line, strtok_r(NULL, " \t", &save));
		ck_assert_msg(json_array_size(json_object_get(u, "reasons")) == want,
			      "%s:%d: %s has %zu reasons\n%.2000s", name, line, pod,
			      json_array_size(json_object_get(u, "reasons")), r->out);
		return true;
	}
	const char *pool = verb[0] == 'r' ? strtok_r(NULL, " \t", &save) : "*";
	const char *text = save + strspn(save, " \t");
	ck_assert_msg(pool && *text, "%s:expect:%d: reason needs a pool and a text", name, line);
	json_array_foreach(json_object_get(u, "reasons"), i, why)
		if (matches(pool, str_at(why, "nodepool")) && strstr(str_at(why, "reason"), text))
			return true;
	ck_abort_msg("%s:%d: %s has no reason from %s with \"%s\"\n%.2000s", name, line, pod, pool, text,
		     r->out);
	return true;
}

START_TEST(scenario)
{
	const char *name = scenarios[_i];
	struct result r = {0};
	char path[1200], buf[1024];
	FILE *f;
	int line = 0;
	long claims = -1, typed = 0;
	bool total = false, unsched = false;

	run_scenario(&r, name);
	snprintf(path, sizeof(path), "%s/expect", r.dir);
	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "%s: no expect file", name);
	while (fgets(buf, sizeof(buf), f)) {
		char *save, *verb;
		line++;
		buf[strcspn(buf, "#\n")] = '\0';
		verb = strtok_r(buf, " \t", &save);
		if (!verb)
			continue;
		if (check_reason_line(&r, name, line, verb, save))
			continue;
		if (r.kerfd) {
			check_report_line(&r, name, line, verb, save);
			continue;
		}
		/* Bookkeeping for the completeness rules below (strtok_r needs a copy). */
		if (strcmp(verb, "claims") == 0)
			claims = strtol(save, NULL, 10);
		else if (strcmp(verb, "type") == 0) {
			const char *last = strrchr(save, ' ');
			typed += strtol(last ? last + 1 : save, NULL, 10);
		}
		total = total || strcmp(verb, "total") == 0;
		unsched = unsched || strcmp(verb, "unschedulable") == 0;
		check_simulate_line(&r, name, line, verb, save);
	}
	fclose(f);
	if (!r.kerfd) {
		const json_t *c, *u;
		json_int_t sum = 0;
		size_t i;

		/* Exact: every claim accounted for by type, the total and the pending pods stated. */
		ck_assert_msg(claims >= 0 && total && unsched,
			      "%s: expect needs claims, total and unschedulable", name);
		ck_assert_msg(typed == claims, "%s: type lines cover %ld of %ld claims", name, typed,
			      claims);
		json_array_foreach(json_object_get(r.doc, "nodeclaims"), i, c) {
			sum += int_at(c, "price_micro_usd_per_hour");
			ck_assert_str_eq(json_string_value(json_array_get(json_object_get(c, "options"),
									  0)),
					 str_at(c, "instance_type"));
		}
		ck_assert_int_eq(sum, int_at(r.doc, "total_price_micro_usd_per_hour"));
		json_array_foreach(json_object_get(r.doc, "unschedulable"), i, u) {
			/* Every pending pod's reason is stated in expect. */
			char pattern[256];
			FILE *g = fopen(path, "r");
			bool found = false;
			ck_assert_ptr_nonnull(g);
			snprintf(pattern, sizeof(pattern), "reason %s ", str_at(u, "pod"));
			while (!found && fgets(buf, sizeof(buf), g))
				found = strncmp(buf, pattern, strlen(pattern)) == 0;
			fclose(g);
			ck_assert_msg(found, "%s: no reason line for pending %s", name,
				      str_at(u, "pod"));
		}
	}
	json_decref(r.doc);
	free(r.out);
	free(r.err);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("scenarios");
	TCase *tc = tcase_create("simulator");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, scenario, 0, (int)N_SCENARIOS);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
