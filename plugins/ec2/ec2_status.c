/* SPDX-License-Identifier: Apache-2.0 */
#include "ec2_status.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int subnet_by_id(const void *a, const void *b)
{
	const struct ec2_subnet *x = *(const struct ec2_subnet *const *)a;
	const struct ec2_subnet *y = *(const struct ec2_subnet *const *)b;
	return strcmp(x->id, y->id);
}

static int group_by_id(const void *a, const void *b)
{
	const struct ec2_group *x = *(const struct ec2_group *const *)a;
	const struct ec2_group *y = *(const struct ec2_group *const *)b;
	return strcmp(x->id, y->id);
}

static void *sorted(const void *items, size_t n, size_t size,
		    int (*cmp)(const void *, const void *))
{
	const void **v = calloc(n ? n : 1, sizeof(*v));

	if (!v)
		abort();
	for (size_t i = 0; i < n; i++)
		v[i] = (const char *)items + i * size;
	qsort(v, n, sizeof(*v), cmp);
	return v;
}

/* Empty strings rather than nulls: the CRD types these fields as strings. */
static json_t *str(const char *s)
{
	return json_string(s ? s : "");
}

static json_t *subnets_json(const struct ec2_resolved *r)
{
	const struct ec2_subnet **v =
	    sorted(r->subnets, r->n_subnets, sizeof(*r->subnets), subnet_by_id);
	json_t *a = json_array();

	for (size_t i = 0; i < r->n_subnets; i++)
		json_array_append_new(a, json_pack("{s:o,s:o,s:o}", "id", str(v[i]->id), "zone",
						   str(v[i]->zone), "zoneID", str(v[i]->zone_id)));
	free(v);
	return a;
}

static json_t *groups_json(const struct ec2_resolved *r)
{
	const struct ec2_group **v =
	    sorted(r->groups, r->n_groups, sizeof(*r->groups), group_by_id);
	json_t *a = json_array();

	for (size_t i = 0; i < r->n_groups; i++)
		json_array_append_new(
		    a, json_pack("{s:o,s:o}", "id", str(v[i]->id), "name", str(v[i]->name)));
	free(v);
	return a;
}

static json_t *amis_json(const struct ec2_resolved *r)
{
	json_t *a = json_array();

	for (size_t i = 0; i < r->n_images; i++) {
		const struct ec2_image *im = &r->images[i];
		json_t *o = json_pack("{s:o}", "id", str(im->id));
		/* An alias's image is known by id alone; the CRD leaves name optional. */
		if (im->name && *im->name)
			json_object_set_new(o, "name", json_string(im->name));
		json_object_set_new(o, "requirements",
				    json_pack("[{s:s,s:s,s:[o]}]", "key", "kubernetes.io/arch",
					      "operator", "In", "values", str(im->arch)));
		json_array_append_new(a, o);
	}
	return a;
}

static void rfc3339(kerf_wall_ms_t ms, char out[32])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static const struct kerf_doc_node *old_condition(const struct kerf_doc_node *object,
						 const char *type)
{
	const struct kerf_doc_node *conds =
	    kerf_doc_get(kerf_doc_get(object, "status"), "conditions");

	for (size_t i = 0; i < kerf_doc_size(conds); i++) {
		const struct kerf_doc_node *c = kerf_doc_item(conds, i);
		const char *t = kerf_doc_scalar(kerf_doc_get(c, "type"));
		if (t && strcmp(t, type) == 0)
			return c;
	}
	return NULL;
}

struct conds {
	json_t *array;
	const struct kerf_doc_node *object;
	const char *now;
	int64_t generation; /* -1 when the object has none */
};

static void condition(struct conds *c, const char *type, bool ok, const char *reason,
		      const char *message)
{
	const char *status = ok ? "True" : "False";
	const struct kerf_doc_node *old = old_condition(c->object, type);
	const char *old_status = kerf_doc_scalar(kerf_doc_get(old, "status"));
	const char *since = kerf_doc_scalar(kerf_doc_get(old, "lastTransitionTime"));
	json_t *o;

	if (!old_status || strcmp(old_status, status) != 0 || !since)
		since = c->now;
	o = json_pack("{s:s,s:s,s:s,s:s,s:s}", "type", type, "status", status, "reason",
		      ok ? type : reason, "message", ok ? "" : message, "lastTransitionTime",
		      since);
	if (c->generation >= 0)
		json_object_set_new(o, "observedGeneration", json_integer(c->generation));
	json_array_append_new(c->array, o);
}

char *ec2_status_json(const struct ec2_resolved *r, const struct kerf_doc_node *object,
		      kerf_wall_ms_t now_ms)
{
	char now[32], *text, not_ready[200] = "";
	const char *gen =
	    kerf_doc_scalar(kerf_doc_get(kerf_doc_get(object, "metadata"), "generation"));
	struct conds c = {.array = json_array(), .object = object, .now = now, .generation = -1};
	bool profile = r->instance_profile && *r->instance_profile;
	const struct {
		const char *type;
		bool ok;
	} parts[] = {
	    {"SubnetsReady", r->n_subnets > 0},
	    {"SecurityGroupsReady", r->n_groups > 0},
	    {"AMIsReady", r->n_images > 0},
	    {"InstanceProfileReady", profile},
	};
	json_t *st;

	rfc3339(now_ms, now);
	if (gen) {
		char *end;
		long long g = strtoll(gen, &end, 10);
		if (*gen && !*end && g >= 0)
			c.generation = g;
	}
	condition(&c, "SubnetsReady", parts[0].ok, "SubnetsNotFound",
		  "SubnetSelector did not match any Subnets");
	condition(&c, "SecurityGroupsReady", parts[1].ok, "SecurityGroupsNotFound",
		  "SecurityGroupSelector did not match any SecurityGroups");
	condition(&c, "AMIsReady", parts[2].ok, "AMINotFound",
		  "AMISelector did not match any AMIs");
	condition(&c, "InstanceProfileReady", parts[3].ok, "InstanceProfileNotFound",
		  "neither role nor instanceProfile names an instance profile");
	/* The spec passed kerf's validation before any provider op saw it. */
	condition(&c, "ValidationSucceeded", true, NULL, NULL);
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		if (!parts[i].ok) {
			size_t len = strlen(not_ready);
			snprintf(not_ready + len, sizeof(not_ready) - len, "%s%s=False",
				 len ? ", " : "", parts[i].type);
		}
	condition(&c, "Ready", !*not_ready, "UnhealthyDependents", not_ready);
	st = json_pack("{s:o,s:o,s:o,s:o,s:o}", "subnets", subnets_json(r), "securityGroups",
		       groups_json(r), "amis", amis_json(r), "instanceProfile",
		       str(r->instance_profile), "conditions", c.array);
	text = json_dumps(st, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(st);
	if (!text)
		abort();
	return text;
}
