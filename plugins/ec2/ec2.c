/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ec2.c - the ec2 provider: instances on Amazon EC2, launched directly with
 * CreateFleet as Karpenter's AWS provider launches them.
 *
 * kerf.yaml:
 *
 *   provider: ec2
 *   plugins:
 *     ec2:
 *       region: us-west-2
 *       cluster_name: demo
 *       # from eks:DescribeCluster when left out:
 *       cluster_endpoint: https://ABCD.gr7.us-west-2.eks.amazonaws.com
 *       cluster_ca_bundle: LS0tLS1CRUdJTi...
 *       kubernetes_version: "1.31"
 *
 * What the provider knows of EC2 is kept in two snapshots, each built
 * without the lock and swapped in whole, so readers never wait on AWS for
 * one another: the catalogue (instance types with their zones, on-demand
 * prices, spot prices), refreshed on its own periods, and per node class
 * its resolution (subnets, security groups, AMIs, instance profile),
 * refreshed after a minute.  Readers take a reference under the lock and
 * drop it when done.  Insufficient-capacity marks (ec2_prices.h) and the
 * launch templates known to exist are kept under the same lock.
 *
 * Offerings: every zone where the type is offered and the node class has
 * a subnet, on demand and spot as the type supports them; the on-demand
 * price from the Pricing API (else the compiled-in catalogue), the spot
 * price from DescribeSpotPriceHistory (else the catalogue's estimate); an
 * offering EC2 refused for capacity is unavailable for three minutes.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libxml/parser.h>
#include <openssl/evp.h>

#include <kerf/kerf.h>

#include "aws.h"
#include "ec2_batch.h"
#include "ec2_catalogue.h"
#include "ec2_launch.h"
#include "ec2_prices.h"
#include "ec2_status.h"
#include "ec2_types.h"
#include "ec2_userdata.h"
#include "ec2_xml.h"
#include "nodeclass.h"

#ifndef EC2_VERSION
#define EC2_VERSION "0.0.0"
#endif

#define TAG_NODECLAIM "karpenter.sh/nodeclaim"
#define TAG_NODEPOOL "karpenter.sh/nodepool"
#define TAG_NODECLASS "karpenter.k8s.aws/ec2nodeclass"
#define TAG_NODECLASS_HASH "karpenter.k8s.aws/ec2nodeclass-hash"
#define RESOLUTION_TTL_MS (60 * 1000)

/* clang-format off */
static const struct kerf_config_key ec2_schema[] = {
    {.key = "region", .type = KERF_CFG_STRING,
     .description = "AWS region; default AWS_REGION or AWS_DEFAULT_REGION"},
    {.key = "cluster_name", .type = KERF_CFG_STRING, .required = true,
     .description = "the EKS cluster instances join and are tagged for"},
    {.key = "cluster_endpoint", .type = KERF_CFG_STRING,
     .description = "the API server's URL; default from eks:DescribeCluster"},
    {.key = "cluster_ca_bundle", .type = KERF_CFG_STRING,
     .description = "the cluster CA, base64; default from eks:DescribeCluster"},
    {.key = "service_cidr", .type = KERF_CFG_STRING,
     .description = "the cluster's service CIDR; default from eks:DescribeCluster"},
    {.key = "cluster_dns", .type = KERF_CFG_STRING,
     .description = "the cluster DNS address given to kubelets; default the AMI's"},
    {.key = "kubernetes_version", .type = KERF_CFG_STRING,
     .description = "for AMI aliases; default from eks:DescribeCluster"},
    {.key = "profile", .type = KERF_CFG_STRING,
     .description = "shared config profile; default AWS_PROFILE or default"},
    {.key = "pricing_region", .type = KERF_CFG_STRING, .default_value = "us-east-1",
     .description = "region of the Pricing API endpoint"},
    {.key = "isolated_vpc", .type = KERF_CFG_BOOL, .default_value = "false",
     .description = "no Pricing API: on-demand prices from the compiled-in catalogue"},
    {.key = "vm_memory_overhead_percent", .type = KERF_CFG_STRING, .default_value = "7.5",
     .description = "memory taken off each type for the hypervisor, in percent"},
    {.key = "instance_types_refresh", .type = KERF_CFG_DURATION, .default_value = "1h",
     KERF_CFG_MIN(1000), .description = "how often instance types and zones are read again"},
    {.key = "on_demand_prices_refresh", .type = KERF_CFG_DURATION, .default_value = "12h",
     KERF_CFG_MIN(1000), .description = "how often on-demand prices are read again"},
    {.key = "spot_prices_refresh", .type = KERF_CFG_DURATION, .default_value = "5m",
     KERF_CFG_MIN(1000), .description = "how often spot prices are read again"},
    {.key = "max_attempts", .type = KERF_CFG_INT, .default_value = "5", KERF_CFG_RANGE(1, 20),
     .description = "attempts per AWS call, the first included"},
    {.key = "endpoint_ec2", .type = KERF_CFG_STRING, .description = "EC2 endpoint URL"},
    {.key = "endpoint_sts", .type = KERF_CFG_STRING, .description = "STS endpoint URL"},
    {.key = "endpoint_ssm", .type = KERF_CFG_STRING, .description = "SSM endpoint URL"},
    {.key = "endpoint_pricing", .type = KERF_CFG_STRING, .description = "Pricing endpoint URL"},
    {.key = "endpoint_imds", .type = KERF_CFG_STRING, .description = "instance metadata URL"},
    {.key = "endpoint_eks", .type = KERF_CFG_STRING, .description = "EKS endpoint URL"},
    {.key = NULL},
};
/* clang-format on */

/* One part of what EC2 offers, immutable once published, shared by reference. */
struct snap {
	int refs;
	kerf_mono_ms_t at;
	struct ec2_itypes types;  /* the types part */
	struct ec2_prices prices; /* the on-demand or spot part */
};

/* The three parts a caller holds while it reads them. */
struct catalogue {
	struct snap *types, *od, *spot;
};

/* A node class's resolution.  Immutable once published. */
struct resolution {
	int refs;
	char *key; /* name and resourceVersion */
	kerf_mono_ms_t at;
	struct ec2_resolved r;
};

struct ec2 {
	const struct kerf_host *host;
	struct aws_client *aws;
	pthread_mutex_t lock;
	const char *cluster, *region, *dns, *k8s_config;
	char *endpoint, *ca, *cidr, *k8s; /* given or from eks:DescribeCluster */
	bool isolated;
	int64_t vm_overhead_milli, types_ttl, od_ttl, spot_ttl;
	/* under lock */
	struct snap *types, *od, *spot;
	size_t n_res;
	struct resolution **res;
	struct ec2_ice ice;
	size_t n_templates;
	char **templates;
	bool cluster_known;
	/* get() and delete_instance() calls made at once share one AWS call. */
	struct ec2_batcher gets, deletes;
};

static char *dup(const char *s)
{
	char *d = s ? strdup(s) : NULL;

	if (s && !d)
		abort();
	return d;
}

static const char *cfg_str(const struct kerf_host *h, const char *key)
{
	const char *v = NULL;

	return h->config_string(h->ctx, key, &v) == 0 && v && *v ? v : NULL;
}

/* ------------------------------------------------------------ catalogue */

static void snap_put(struct ec2 *e, struct snap *sn)
{
	bool last;

	if (!sn)
		return;
	pthread_mutex_lock(&e->lock);
	last = --sn->refs == 0;
	pthread_mutex_unlock(&e->lock);
	if (last) {
		ec2_itypes_clear(&sn->types);
		ec2_prices_clear(&sn->prices);
		free(sn);
	}
}

static void catalogue_put(struct ec2 *e, struct catalogue *c)
{
	snap_put(e, c->types);
	snap_put(e, c->od);
	snap_put(e, c->spot);
	memset(c, 0, sizeof(*c));
}

static int types_page(void *arg, xmlDoc *doc, struct kerf_error *err)
{
	return ec2_itypes_add_page(arg, doc, err);
}

static int offerings_page(void *arg, xmlDoc *doc, struct kerf_error *err)
{
	return ec2_itypes_add_offerings(arg, doc, err);
}

static int spot_page(void *arg, xmlDoc *doc, struct kerf_error *err)
{
	return ec2_prices_add_spot(arg, doc, err);
}

static int read_types(struct ec2 *e, struct ec2_itypes *t, struct kerf_error *err)
{
	struct aws_params p = {0};
	int rc;

	aws_params_add(&p, "MaxResults", "100");
	rc = aws_query_pages(e->aws, AWS_EC2, "DescribeInstanceTypes", &p, 0, types_page, t, err);
	aws_params_clear(&p);
	if (rc)
		return rc;
	ec2_itypes_sort(t);
	aws_params_add(&p, "LocationType", "availability-zone");
	aws_params_add(&p, "MaxResults", "1000");
	rc = aws_query_pages(e->aws, AWS_EC2, "DescribeInstanceTypeOfferings", &p, 0,
			     offerings_page, t, err);
	aws_params_clear(&p);
	return rc;
}

static int read_on_demand(struct ec2 *e, struct ec2_prices *od, struct kerf_error *err)
{
	char *token = NULL;
	int rc = 0;

	for (int page = 0; page < 1000; page++) {
		json_t *req = ec2_products_request(e->region, token), *resp = NULL;
		const char *next;

		rc = aws_json(e->aws, AWS_PRICING, "AWSPriceListService.GetProducts", req, &resp,
			      err);
		json_decref(req);
		if (rc == 0)
			rc = ec2_prices_add_products(od, resp, err);
		free(token);
		token = NULL;
		next = rc == 0 ? json_string_value(json_object_get(resp, "NextToken")) : NULL;
		if (next && *next)
			token = dup(next);
		json_decref(resp);
		if (rc || !token)
			break;
	}
	free(token);
	ec2_prices_sort(od);
	return rc;
}

static int read_spot(struct ec2 *e, struct ec2_prices *spot, struct kerf_error *err)
{
	struct aws_params p = {0};
	int rc;

	/* With a start time of now, EC2 answers the price in force in each zone. */
	aws_params_add(&p, "ProductDescription.1", "Linux/UNIX");
	{
		time_t now = (time_t)(e->host->wall_ms(e->host->ctx) / 1000);
		struct tm tm;
		char iso[32];

		gmtime_r(&now, &tm);
		strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%SZ", &tm);
		aws_params_add(&p, "StartTime", iso);
	}
	aws_params_add(&p, "MaxResults", "1000");
	rc = aws_query_pages(e->aws, AWS_EC2, "DescribeSpotPriceHistory", &p, 0, spot_page, spot,
			     err);
	aws_params_clear(&p);
	ec2_prices_sort(spot);
	return rc;
}

/* A new part, refs 1, or NULL after a failed read (err set). */
static struct snap *snap_read(struct ec2 *e, int which, struct kerf_error *err)
{
	struct snap *sn = calloc(1, sizeof(*sn));
	int rc;

	if (!sn)
		abort();
	sn->refs = 1;
	sn->at = e->host->mono_ms(e->host->ctx);
	rc = which == 0	  ? read_types(e, &sn->types, err)
	     : which == 1 ? read_on_demand(e, &sn->prices, err)
			  : read_spot(e, &sn->prices, err);
	if (rc) {
		ec2_itypes_clear(&sn->types);
		ec2_prices_clear(&sn->prices);
		free(sn);
		return NULL;
	}
	return sn;
}

/*
 * Each part of the catalogue, read again when older than its period.
 * Types are required.  A price source that fails leaves the previous part
 * or, with none, the compiled-in catalogue's prices (logged), since kerf
 * can still decide on those.  An isolated VPC never asks the Pricing API.
 */
static int catalogue_get(struct ec2 *e, struct catalogue *c, struct kerf_error *err)
{
	const struct kerf_host *h = e->host;
	struct snap **slots[3] = {&e->types, &e->od, &e->spot};
	struct snap **mine[3] = {&c->types, &c->od, &c->spot};
	const int64_t ttl[3] = {e->types_ttl, e->od_ttl, e->spot_ttl};
	static const char *const what[3] = {"instance types", "on-demand prices", "spot prices"};
	kerf_mono_ms_t now = h->mono_ms(h->ctx);

	memset(c, 0, sizeof(*c));
	for (int k = 0; k < 3; k++) {
		struct kerf_error perr = KERF_ERROR_INIT;
		struct snap *cur, *fresh, *old = NULL;

		pthread_mutex_lock(&e->lock);
		cur = *slots[k];
		if (cur)
			cur->refs++;
		pthread_mutex_unlock(&e->lock);
		if ((cur && now - cur->at < ttl[k]) || (k == 1 && e->isolated && cur)) {
			*mine[k] = cur;
			continue;
		}
		fresh = k == 1 && e->isolated ? NULL : snap_read(e, k, &perr);
		if (!fresh && !cur && k == 0) {
			kerf_error_set(err, perr.code ? perr.code : KERF_E_INTERNAL, "%s",
				       perr.message);
			if (err)
				memcpy(err->provider_code, perr.provider_code,
				       sizeof(err->provider_code));
			catalogue_put(e, c);
			return perr.code ? perr.code : KERF_E_INTERNAL;
		}
		if (!fresh) {
			if (!(k == 1 && e->isolated))
				h->log(h->ctx, KERF_LOG_WARN, "%s not read (%s): using %s", what[k],
				       perr.message,
				       cur ? "the previous ones" : "the compiled-in catalogue's");
			/* An empty part, so the fallback is not asked for again at once. */
			fresh = calloc(1, sizeof(*fresh));
			if (!fresh)
				abort();
			fresh->refs = 1;
			fresh->at = now;
			if (cur) {
				snap_put(e, fresh);
				*mine[k] = cur;
				continue;
			}
		}
		pthread_mutex_lock(&e->lock);
		old = *slots[k];
		*slots[k] = fresh;
		fresh->refs++;
		pthread_mutex_unlock(&e->lock);
		snap_put(e, old);
		snap_put(e, cur);
		*mine[k] = fresh;
	}
	return 0;
}

static int64_t on_demand_price(const struct catalogue *c, const char *type)
{
	int64_t p = ec2_prices_get(&c->od->prices, type, "");
	const struct ec2_catalogue_row *row;

	if (p >= 0)
		return p;
	row = ec2_catalogue_find(type);
	return row ? row->on_demand : -1;
}

static int64_t spot_price(const struct catalogue *c, const char *type, const char *zone)
{
	int64_t p = ec2_prices_get(&c->spot->prices, type, zone);
	const struct ec2_catalogue_row *row;

	if (p >= 0)
		return p;
	row = ec2_catalogue_find(type);
	return row ? row->spot : -1;
}

/* ------------------------------------------------------------ resolution */

static void resolution_put(struct ec2 *e, struct resolution *r)
{
	bool last;

	if (!r)
		return;
	pthread_mutex_lock(&e->lock);
	last = --r->refs == 0;
	pthread_mutex_unlock(&e->lock);
	if (last) {
		ec2_resolved_clear(&r->r);
		free(r->key);
		free(r);
	}
}

struct page_ctx {
	struct ec2_resolved *r;
	int (*add)(struct ec2_resolved *r, const xmlDoc *page, struct kerf_error *err);
};

static int resolved_page(void *arg, xmlDoc *doc, struct kerf_error *err)
{
	struct page_ctx *pc = arg;
	return pc->add(pc->r, doc, err);
}

/* The value of SSM parameter `name` (malloc'd); KERF_E_NOTFOUND when it has none. */
static int ssm_value(struct ec2 *e, const char *name, char **out, struct kerf_error *err)
{
	json_t *req = json_pack("{s:s}", "Name", name), *resp = NULL;
	const char *v;
	int rc = aws_json(e->aws, AWS_SSM, "AmazonSSM.GetParameter", req, &resp, err);

	json_decref(req);
	v = rc ? NULL
	       : json_string_value(json_object_get(json_object_get(resp, "Parameter"), "Value"));
	if (rc == 0 && !v)
		rc = kerf_error_set(err, KERF_E_NOTFOUND, "SSM parameter %s has no value", name);
	*out = v ? dup(v) : NULL;
	json_decref(resp);
	return rc;
}

static int select_terms(struct ec2 *e, const struct ec2_selector_terms *terms,
			enum ec2_selectable what, struct ec2_resolved *r, struct kerf_error *err)
{
	static const char *const actions[] = {"DescribeSubnets", "DescribeSecurityGroups",
					      "DescribeImages"};
	struct page_ctx pc = {.r = r,
			      .add = what == EC2_SUBNETS	   ? ec2_add_subnets
				     : what == EC2_SECURITY_GROUPS ? ec2_add_groups
								   : ec2_add_images};
	int rc = 0;

	for (size_t i = 0; i < terms->n && rc == 0; i++) {
		struct aws_params p = {0};

		if (terms->items[i].alias)
			continue;
		if (what == EC2_IMAGES && terms->items[i].ssm_parameter) {
			/* A parameter naming an AMI: the image it names, by id. */
			char *id = NULL;
			if ((rc = ssm_value(e, terms->items[i].ssm_parameter, &id, err)) == 0) {
				aws_params_add(&p, "ImageId.1", id);
				rc = aws_query_pages(e->aws, AWS_EC2, "DescribeImages", &p, 0,
						     resolved_page, &pc, err);
			}
			free(id);
			aws_params_clear(&p);
			continue;
		}
		ec2_term_params(&terms->items[i], what, &p);
		rc =
		    aws_query_pages(e->aws, AWS_EC2, actions[what], &p, 0, resolved_page, &pc, err);
		aws_params_clear(&p);
	}
	return rc;
}

static int ensure_cluster(struct ec2 *e, struct kerf_error *err);

static int resolve_alias(struct ec2 *e, const char *alias, struct ec2_resolved *r,
			 struct kerf_error *err)
{
	static const char *const arches[] = {"amd64", "arm64"};
	int rc = ensure_cluster(e, err);

	for (size_t i = 0; rc == 0 && i < 2; i++) {
		char *name = NULL;
		json_t *req, *resp = NULL;
		const char *id;
		struct kerf_error aerr = KERF_ERROR_INIT;

		rc = ec2_alias_parameter(alias, e->k8s, arches[i], &name, &aerr);
		if (rc == KERF_E_NOTFOUND) {
			rc = 0;
			continue;
		}
		if (rc) {
			kerf_error_set(err, rc, "%s", aerr.message);
			break;
		}
		req = json_pack("{s:s}", "Name", name);
		rc = aws_json(e->aws, AWS_SSM, "AmazonSSM.GetParameter", req, &resp, &aerr);
		json_decref(req);
		id =
		    json_string_value(json_object_get(json_object_get(resp, "Parameter"), "Value"));
		if (rc == 0 && id)
			ec2_add_image(r, id, arches[i]);
		else if (rc == KERF_E_NOTFOUND || (rc == 0 && !id))
			rc = 0; /* no image of that architecture for the release */
		else
			kerf_error_set(err, rc, "SSM parameter %s: %s", name, aerr.message);
		json_decref(resp);
		free(name);
	}
	return rc;
}

/* What the class's selectors find now, whether or not each found something. */
static int resolve_lists(struct ec2 *e, const struct ec2_node_class *nc, struct ec2_resolved *r,
			 struct kerf_error *err)
{
	int rc;

	if ((rc = select_terms(e, &nc->subnet_selector_terms, EC2_SUBNETS, r, err)) == 0 &&
	    (rc = select_terms(e, &nc->security_group_selector_terms, EC2_SECURITY_GROUPS, r,
			       err)) == 0 &&
	    (rc = select_terms(e, &nc->ami_selector_terms, EC2_IMAGES, r, err)) == 0)
		for (size_t i = 0; rc == 0 && i < nc->ami_selector_terms.n; i++)
			if (nc->ami_selector_terms.items[i].alias)
				rc =
				    resolve_alias(e, nc->ami_selector_terms.items[i].alias, r, err);
	if (rc)
		return rc;
	ec2_resolved_pick_images(r);
	/*
	 * A role is turned into an instance profile by the one kerf would
	 * create for it; kerf does not call IAM, so the profile must exist
	 * under that name (docs/aws.md).
	 */
	r->instance_profile = dup(nc->instance_profile ? nc->instance_profile : nc->role);
	return 0;
}

/*
 * The class's resolution, from the cache while it is fresh (a minute, or
 * until the class changes), whether or not each selector found something:
 * a class that finds nothing is cached too, so its status and its failed
 * launches share one set of calls.
 */
static int resolution_get(struct ec2 *e, const struct kerf_node_class *node_class,
			  const struct ec2_node_class *nc, struct resolution **out,
			  struct kerf_error *err)
{
	const struct kerf_host *h = e->host;
	kerf_mono_ms_t now = h->mono_ms(h->ctx);
	struct resolution *r = NULL;
	char *key;
	int rc = 0;

	if (asprintf(&key, "%s@%s", node_class->meta->name ? node_class->meta->name : "",
		     node_class->meta->resource_version ? node_class->meta->resource_version : "") <
	    0)
		abort();
	pthread_mutex_lock(&e->lock);
	for (size_t i = 0; i < e->n_res; i++)
		if (strcmp(e->res[i]->key, key) == 0 && now - e->res[i]->at < RESOLUTION_TTL_MS) {
			r = e->res[i];
			r->refs++;
		}
	pthread_mutex_unlock(&e->lock);
	if (r) {
		free(key);
		*out = r;
		return 0;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		abort();
	r->refs = 1;
	r->key = key;
	r->at = now;
	if ((rc = resolve_lists(e, nc, &r->r, err)) != 0) {
		resolution_put(e, r);
		return rc;
	}
	pthread_mutex_lock(&e->lock);
	{
		struct resolution *old = NULL;
		size_t i;
		const char *at = strrchr(key, '@');
		size_t name_len = at ? (size_t)(at - key) : strlen(key);
		for (i = 0; i < e->n_res; i++)
			if (strncmp(e->res[i]->key, key, name_len + 1) == 0)
				break;
		if (i < e->n_res) {
			old = e->res[i];
		} else {
			e->res = realloc(e->res, (e->n_res + 1) * sizeof(*e->res));
			if (!e->res)
				abort();
			e->n_res++;
		}
		e->res[i] = r;
		r->refs++;
		pthread_mutex_unlock(&e->lock);
		resolution_put(e, old);
	}
	*out = r;
	return 0;
}

/* The class's resolution for launching: KERF_E_CONFIG when a selector found nothing. */
static int resolve(struct ec2 *e, const struct kerf_node_class *node_class,
		   const struct ec2_node_class *nc, struct resolution **out, struct kerf_error *err)
{
	struct resolution *r;
	int rc = resolution_get(e, node_class, nc, &r, err);

	if (rc)
		return rc;
	if (r->r.n_subnets == 0 || r->r.n_groups == 0 || r->r.n_images == 0) {
		rc = kerf_error_set(
		    err, KERF_E_CONFIG,
		    "EC2NodeClass %s: its selectors found %zu subnets, %zu security "
		    "groups and %zu AMIs; each needs at least one",
		    node_class->meta->name, r->r.n_subnets, r->r.n_groups, r->r.n_images);
		resolution_put(e, r);
		return rc;
	}
	*out = r;
	return 0;
}

/* --------------------------------------------------------- cluster facts */

static int ensure_cluster(struct ec2 *e, struct kerf_error *err)
{
	json_t *resp = NULL, *cl;
	char *path;
	int rc;
	bool known;

	pthread_mutex_lock(&e->lock);
	known = e->cluster_known;
	pthread_mutex_unlock(&e->lock);
	if (known)
		return 0;
	if (asprintf(&path, "/clusters/%s", e->cluster) < 0)
		abort();
	rc = aws_rest_json(e->aws, AWS_EKS, "GET", path, NULL, &resp, err);
	free(path);
	if (rc)
		return rc;
	cl = json_object_get(resp, "cluster");
	pthread_mutex_lock(&e->lock);
	if (!e->cluster_known) {
		if (!e->endpoint)
			e->endpoint = dup(json_string_value(json_object_get(cl, "endpoint")));
		if (!e->ca)
			e->ca = dup(json_string_value(
			    json_object_get(json_object_get(cl, "certificateAuthority"), "data")));
		if (!e->cidr)
			e->cidr = dup(json_string_value(json_object_get(
			    json_object_get(cl, "kubernetesNetworkConfig"), "serviceIpv4Cidr")));
		if (!e->k8s)
			e->k8s = dup(json_string_value(json_object_get(cl, "version")));
		e->cluster_known = e->endpoint && e->ca && e->k8s;
	}
	known = e->cluster_known;
	pthread_mutex_unlock(&e->lock);
	json_decref(resp);
	if (!known)
		return kerf_error_set(err, KERF_E_CONFIG,
				      "eks:DescribeCluster %s gave no endpoint, CA or version: set "
				      "cluster_endpoint, cluster_ca_bundle and kubernetes_version",
				      e->cluster);
	return 0;
}

/* ------------------------------------------------------------ instance types */

static bool zone_has_subnet(const struct resolution *r, const char *zone)
{
	return !r || ec2_resolved_subnet(&r->r, zone) != NULL;
}

static bool arch_has_image(const struct resolution *r, const char *arch)
{
	return !r || ec2_resolved_image(&r->r, arch) != NULL;
}

static void add_values(struct kerf_requirement *req, const char *key, const char *const *v,
		       size_t n)
{
	req->key = dup(key);
	req->op = n ? KERF_OP_IN : KERF_OP_DOES_NOT_EXIST;
	for (size_t i = 0; i < n; i++)
		kerf_requirement_add_value(req, v[i]);
}

static void fill_type(struct ec2 *e, const struct catalogue *c, const struct ec2_itype *t,
		      const struct ec2_node_class *nc, const struct resolution *r,
		      kerf_mono_ms_t now, struct kerf_instance_type *it)
{
	const char *zones[64], *cts[2];
	size_t n_zones = 0, n_ct = 0;

	ec2_itype_fill(t, e->region, nc, e->vm_overhead_milli, it);
	for (size_t z = 0; z < t->n_zones && n_zones < 64; z++) {
		const char *zone = t->zones[z];
		bool any = false;

		if (!zone_has_subnet(r, zone))
			continue;
		for (int k = 0; k < 2; k++) {
			kerf_capacity_type ct =
			    k == 0 ? KERF_CAPACITY_SPOT : KERF_CAPACITY_ON_DEMAND;
			int64_t price = ct == KERF_CAPACITY_SPOT ? spot_price(c, t->name, zone)
								 : on_demand_price(c, t->name);
			struct kerf_offering *o;

			if ((ct == KERF_CAPACITY_SPOT ? !t->spot : !t->on_demand) || price < 0)
				continue;
			o = kerf_instance_type_add_offering(it);
			o->zone = dup(zone);
			o->capacity_type = ct;
			o->price = price;
			o->available = !ec2_ice_blocked(&e->ice, t->name, zone, ct, now);
			any = true;
		}
		if (any)
			zones[n_zones++] = zone;
	}
	if (t->spot)
		cts[n_ct++] = "spot";
	if (t->on_demand)
		cts[n_ct++] = "on-demand";
	add_values(kerf_requirements_append(&it->requirements), "topology.kubernetes.io/zone",
		   zones, n_zones);
	add_values(kerf_requirements_append(&it->requirements), "karpenter.sh/capacity-type", cts,
		   n_ct);
}

/* Whether the type has an offering at all: a priced capacity type in a zone with a subnet. */
static bool offerable(const struct catalogue *c, const struct ec2_itype *t,
		      const struct resolution *r)
{
	if (!arch_has_image(r, t->arch))
		return false;
	for (size_t z = 0; z < t->n_zones; z++)
		if (zone_has_subnet(r, t->zones[z]) &&
		    ((t->on_demand && on_demand_price(c, t->name) >= 0) ||
		     (t->spot && spot_price(c, t->name, t->zones[z]) >= 0)))
			return true;
	return false;
}

static int load_class(struct ec2 *e, const struct kerf_node_class *node_class,
		      struct ec2_node_class **nc, struct resolution **r, struct kerf_error *err)
{
	int rc;

	*nc = NULL;
	*r = NULL;
	if (!node_class)
		return 0;
	if ((rc = ec2_node_class_parse(node_class, nc, err)) != 0)
		return rc;
	if ((rc = resolve(e, node_class, *nc, r, err)) != 0) {
		ec2_node_class_free(*nc);
		*nc = NULL;
	}
	return rc;
}

static int get_instance_types(void *inst, const struct kerf_node_class *node_class,
			      struct kerf_instance_type_list **out, struct kerf_error *err)
{
	struct ec2 *e = inst;
	struct catalogue c;
	struct ec2_node_class *nc;
	struct resolution *r;
	struct kerf_instance_type_list *l;
	kerf_mono_ms_t now = e->host->mono_ms(e->host->ctx);
	int rc;

	if ((rc = load_class(e, node_class, &nc, &r, err)) != 0)
		return rc;
	if ((rc = catalogue_get(e, &c, err)) != 0) {
		resolution_put(e, r);
		ec2_node_class_free(nc);
		return rc;
	}
	l = kerf_instance_type_list_new();
	pthread_mutex_lock(&e->lock);
	for (size_t i = 0; i < c.types->types.n; i++) {
		const struct ec2_itype *t = &c.types->types.items[i];
		if (offerable(&c, t, r))
			fill_type(e, &c, t, nc, r, now, kerf_instance_type_list_append(l));
	}
	pthread_mutex_unlock(&e->lock);
	catalogue_put(e, &c);
	resolution_put(e, r);
	ec2_node_class_free(nc);
	*out = l;
	return 0;
}

/* ------------------------------------------------------------ instances */

static int describe(struct ec2 *e, struct aws_params *p, struct kerf_instance_list *l,
		    char ***subnets, char ***groups, struct kerf_error *err);

struct describe_ctx {
	struct kerf_instance_list *l;
	char ***subnets, ***groups;
};

static int describe_page(void *arg, xmlDoc *doc, struct kerf_error *err)
{
	struct describe_ctx *d = arg;
	return ec2_instances_read(doc, d->l, d->subnets, d->groups, err);
}

static int describe(struct ec2 *e, struct aws_params *p, struct kerf_instance_list *l,
		    char ***subnets, char ***groups, struct kerf_error *err)
{
	struct describe_ctx d = {.l = l, .subnets = subnets, .groups = groups};

	return aws_query_pages(e->aws, AWS_EC2, "DescribeInstances", p, 0, describe_page, &d, err);
}

static void live_states(struct aws_params *p, size_t filter)
{
	static const char *const states[] = {"pending", "running", "stopping", "stopped",
					     "shutting-down"};
	char k[64];

	snprintf(k, sizeof(k), "Filter.%zu.Name", filter);
	aws_params_add(p, k, "instance-state-name");
	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
		snprintf(k, sizeof(k), "Filter.%zu.Value.%zu", filter, i + 1);
		aws_params_add(p, k, states[i]);
	}
}

static struct kerf_instance *take(struct kerf_instance_list *l, size_t i)
{
	struct kerf_instance *in = l->items[i];

	l->items[i] = NULL;
	return in;
}

/* Copies one call's failure to every request of its batch. */
static void fail_all(size_t n, struct ec2_batch_req **reqs, int rc, const struct kerf_error *err)
{
	for (size_t i = 0; i < n; i++) {
		reqs[i]->rc = rc;
		reqs[i]->err = *err;
	}
}

/*
 * One DescribeInstances for a batch of get() calls.  By an instance-id
 * filter rather than InstanceId.N: an id EC2 no longer knows is then
 * missing from the answer instead of failing the whole call.
 */
static void get_batch(void *ctx, size_t n, struct ec2_batch_req **reqs)
{
	struct ec2 *e = ctx;
	struct kerf_instance_list *l = kerf_instance_list_new();
	struct kerf_error err = KERF_ERROR_INIT;
	struct aws_params p = {0};
	int rc;

	aws_params_add(&p, "Filter.1.Name", "instance-id");
	for (size_t i = 0; i < n; i++) {
		char k[48];
		snprintf(k, sizeof(k), "Filter.1.Value.%zu", i + 1);
		aws_params_add(&p, k, reqs[i]->id);
	}
	rc = describe(e, &p, l, NULL, NULL, &err);
	aws_params_clear(&p);
	if (rc) {
		fail_all(n, reqs, rc, &err);
		kerf_instance_list_free(l);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct ec2_batch_req *r = reqs[i];
		r->rc = kerf_error_set(&r->err, KERF_E_NOTFOUND, "instance %s is gone", r->id);
		for (size_t k = 0; k < l->n; k++) {
			const char *id =
			    l->items[k] ? ec2_instance_id(l->items[k]->provider_id) : NULL;
			if (id && strcmp(id, r->id) == 0 && l->items[k]->state &&
			    strcmp(l->items[k]->state, "terminated") != 0) {
				r->out = take(l, k);
				r->rc = 0;
				break;
			}
		}
	}
	kerf_instance_list_free(l);
}

static int get(void *inst, const char *provider_id, struct kerf_instance **out,
	       struct kerf_error *err)
{
	struct ec2 *e = inst;
	struct ec2_batch_req r = {.id = ec2_instance_id(provider_id), .err = KERF_ERROR_INIT};

	if (!r.id)
		return kerf_error_set(err, KERF_E_NOTFOUND, "%s is not an EC2 instance",
				      provider_id ? provider_id : "(null)");
	ec2_batch_submit(&e->gets, &r);
	if (r.rc) {
		if (err)
			*err = r.err;
		return r.rc;
	}
	*out = r.out;
	return 0;
}

static int list(void *inst, struct kerf_instance_list **out, struct kerf_error *err)
{
	struct ec2 *e = inst;
	struct kerf_instance_list *l = kerf_instance_list_new();
	struct aws_params p = {0};
	int rc;

	aws_params_addf(&p, "Filter.1.Name", "tag:kubernetes.io/cluster/%s", e->cluster);
	aws_params_add(&p, "Filter.1.Value.1", "owned");
	aws_params_add(&p, "Filter.2.Name", "tag-key");
	aws_params_add(&p, "Filter.2.Value.1", TAG_NODEPOOL);
	live_states(&p, 3);
	rc = describe(e, &p, l, NULL, NULL, err);
	aws_params_clear(&p);
	if (rc) {
		kerf_instance_list_free(l);
		return rc;
	}
	*out = l;
	return 0;
}

/* TerminateInstances for reqs[0..n); each one's answer from its item. */
static int terminate(struct ec2 *e, size_t n, struct ec2_batch_req **reqs, struct kerf_error *err)
{
	struct aws_params p = {0};
	xmlDoc *doc = NULL;
	int rc;

	for (size_t i = 0; i < n; i++) {
		char k[32];
		snprintf(k, sizeof(k), "InstanceId.%zu", i + 1);
		aws_params_add(&p, k, reqs[i]->id);
	}
	rc = aws_query(e->aws, AWS_EC2, "TerminateInstances", &p, &doc, err);
	aws_params_clear(&p);
	if (rc)
		return rc;
	for (size_t i = 0; i < n; i++) {
		struct ec2_batch_req *r = reqs[i];
		r->rc = kerf_error_set(&r->err, KERF_E_NOTFOUND, "instance %s is gone", r->id);
		for (const xmlNode *it = ec2_xml_items(xmlDocGetRootElement(doc), "instancesSet");
		     it; it = aws_xml_next(it)) {
			char *id = ec2_xml_str(it, "instanceId");
			char *before = ec2_xml_str(it, "previousState/name");
			bool mine = id && strcmp(id, r->id) == 0;
			if (mine && before && strcmp(before, "terminated") == 0)
				kerf_error_set(&r->err, KERF_E_NOTFOUND,
					       "instance %s was terminated already", r->id);
			else if (mine)
				r->rc = 0;
			free(id);
			free(before);
			if (mine)
				break;
		}
	}
	xmlFreeDoc(doc);
	return 0;
}

static void delete_batch(void *ctx, size_t n, struct ec2_batch_req **reqs)
{
	struct ec2 *e = ctx;
	struct kerf_error err = KERF_ERROR_INIT;
	int rc = terminate(e, n, reqs, &err);

	/* One unknown id fails the whole call: then each goes alone. */
	if (rc == KERF_E_NOTFOUND && n > 1) {
		for (size_t i = 0; i < n; i++) {
			kerf_error_clear(&err);
			if ((rc = terminate(e, 1, &reqs[i], &err)) != 0) {
				reqs[i]->rc = rc;
				reqs[i]->err = err;
			}
		}
		return;
	}
	if (rc)
		fail_all(n, reqs, rc, &err);
}

static int delete_instance(void *inst, const char *provider_id, struct kerf_error *err)
{
	struct ec2 *e = inst;
	struct ec2_batch_req r = {.id = ec2_instance_id(provider_id), .err = KERF_ERROR_INIT};

	if (!r.id)
		return kerf_error_set(err, KERF_E_NOTFOUND, "%s is not an EC2 instance",
				      provider_id ? provider_id : "(null)");
	ec2_batch_submit(&e->deletes, &r);
	if (r.rc && err)
		*err = r.err;
	return r.rc;
}

/* ------------------------------------------------------------ launches */

static void hash_str(EVP_MD_CTX *ctx, const char *s)
{
	EVP_DigestUpdate(ctx, s ? s : "", s ? strlen(s) + 1 : 1);
}

/* The node class's launch-relevant fields, hashed: a change is NodeClassDrift. */
static char *class_hash(const struct ec2_node_class *nc)
{
	unsigned char md[32];
	char *hex = malloc(17);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	char buf[64];

	if (!ctx || !hex || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL))
		abort();
#define H(s) hash_str(ctx, s)
	H(nc->ami_family);
	H(nc->role);
	H(nc->instance_profile);
	H(nc->user_data);
	H(nc->http_endpoint);
	H(nc->http_protocol_ipv6);
	H(nc->http_tokens);
	snprintf(buf, sizeof(buf), "%d/%d/%d", nc->http_put_response_hop_limit,
		 nc->associate_public_ip_address, nc->detailed_monitoring);
	H(buf);
	for (size_t i = 0; i < nc->tags.n; i++) {
		H(nc->tags.items[i]->key);
		H(nc->tags.items[i]->value);
	}
	for (size_t i = 0; i < nc->n_block_device_mappings; i++) {
		const struct ec2_block_device_mapping *b = &nc->block_device_mappings[i];
		H(b->device_name);
		H(b->volume_type);
		H(b->kms_key_id);
		H(b->snapshot_id);
		snprintf(buf, sizeof(buf), "%lld/%lld/%lld/%d/%d", (long long)b->volume_size_bytes,
			 (long long)b->iops, (long long)b->throughput, b->encrypted,
			 b->delete_on_termination);
		H(buf);
	}
#undef H
	EVP_DigestFinal_ex(ctx, md, NULL);
	EVP_MD_CTX_free(ctx);
	for (size_t i = 0; i < 8; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return hex;
}

struct candidate {
	const struct ec2_itype *t;
	const char *zone;
	kerf_capacity_type ct;
	int64_t price;
};

static int by_price(const void *a, const void *b)
{
	const struct candidate *x = a, *y = b;
	int c;

	if (x->price != y->price)
		return x->price < y->price ? -1 : 1;
	c = strcmp(x->t->name, y->t->name);
	return c ? c : strcmp(x->zone, y->zone);
}

static bool type_allowed(struct ec2 *e, const struct ec2_itype *t, const struct ec2_node_class *nc,
			 const struct kerf_reqset *want, const struct kerf_nodeclaim *claim)
{
	struct ec2_label labels[EC2_MAX_LABELS];
	struct kerf_resources cap, alloc;
	size_t n;

	if (!kerf_reqset_allows(want, "node.kubernetes.io/instance-type", t->name))
		return false;
	ec2_default_resources(&t->fig, e->vm_overhead_milli, &cap, &alloc);
	ec2_node_class_resources(nc, &cap, &alloc);
	if (!kerf_resources_fit(&claim->resource_requests, &alloc, NULL))
		return false;
	n = ec2_itype_labels(t, e->region, "linux", NULL, labels);
	for (size_t i = 0; i < n; i++)
		if (strcmp(labels[i].key, "kubernetes.io/os") != 0 &&
		    strcmp(labels[i].key, "node.kubernetes.io/windows-build") != 0 &&
		    !kerf_reqset_allows(want, labels[i].key, labels[i].value))
			return false;
	return true;
}

/*
 * The offerings the claim allows that are available now, of one capacity
 * type: spot when the claim allows spot and some spot offering is
 * available, else on demand, as Karpenter prefers spot.  Cheapest first.
 */
static size_t candidates(struct ec2 *e, const struct catalogue *c, const struct ec2_node_class *nc,
			 const struct resolution *r, const struct kerf_reqset *want,
			 const struct kerf_nodeclaim *claim, kerf_mono_ms_t now,
			 struct candidate **out, kerf_capacity_type *ct_out)
{
	struct candidate *cand = NULL;
	size_t n = 0, cap = 0, n_spot = 0;

	for (size_t i = 0; i < c->types->types.n; i++) {
		const struct ec2_itype *t = &c->types->types.items[i];
		if (!arch_has_image(r, t->arch) || !type_allowed(e, t, nc, want, claim))
			continue;
		for (size_t z = 0; z < t->n_zones; z++) {
			if (!zone_has_subnet(r, t->zones[z]) ||
			    !kerf_reqset_allows(want, "topology.kubernetes.io/zone", t->zones[z]))
				continue;
			for (int k = 0; k < 2; k++) {
				kerf_capacity_type ct =
				    k == 0 ? KERF_CAPACITY_SPOT : KERF_CAPACITY_ON_DEMAND;
				int64_t price = ct == KERF_CAPACITY_SPOT
						    ? spot_price(c, t->name, t->zones[z])
						    : on_demand_price(c, t->name);
				if ((ct == KERF_CAPACITY_SPOT ? !t->spot : !t->on_demand) ||
				    price < 0 ||
				    !kerf_reqset_allows(want, "karpenter.sh/capacity-type",
							kerf_capacity_type_name(ct)) ||
				    ec2_ice_blocked(&e->ice, t->name, t->zones[z], ct, now))
					continue;
				if (n == cap) {
					cap = cap ? 2 * cap : 64;
					cand = realloc(cand, cap * sizeof(*cand));
					if (!cand)
						abort();
				}
				cand[n++] = (struct candidate){t, t->zones[z], ct, price};
				n_spot += ct == KERF_CAPACITY_SPOT;
			}
		}
	}
	*ct_out = n_spot ? KERF_CAPACITY_SPOT : KERF_CAPACITY_ON_DEMAND;
	{
		size_t k = 0;
		for (size_t i = 0; i < n; i++)
			if (cand[i].ct == *ct_out)
				cand[k++] = cand[i];
		n = k;
	}
	if (n)
		qsort(cand, n, sizeof(*cand), by_price);
	*out = cand;
	return n;
}

static bool template_known(struct ec2 *e, const char *name)
{
	bool known = false;

	pthread_mutex_lock(&e->lock);
	for (size_t i = 0; i < e->n_templates && !known; i++)
		known = strcmp(e->templates[i], name) == 0;
	pthread_mutex_unlock(&e->lock);
	return known;
}

static void template_remember(struct ec2 *e, const char *name)
{
	pthread_mutex_lock(&e->lock);
	e->templates = realloc(e->templates, (e->n_templates + 1) * sizeof(*e->templates));
	if (!e->templates)
		abort();
	e->templates[e->n_templates++] = dup(name);
	pthread_mutex_unlock(&e->lock);
}

/* Creates the template unless it exists; a template of that name has these very options. */
static int ensure_template(struct ec2 *e, const char *name, const struct aws_params *data,
			   struct kerf_error *err)
{
	struct aws_params p = {0};
	xmlDoc *doc = NULL;
	int rc;

	if (template_known(e, name))
		return 0;
	aws_params_add(&p, "LaunchTemplateName", name);
	for (size_t i = 0; i < data->n; i++)
		aws_params_add(&p, data->items[i].name, data->items[i].value);
	aws_params_add(&p, "TagSpecification.1.ResourceType", "launch-template");
	aws_params_addf(&p, "TagSpecification.1.Tag.1.Key", "kubernetes.io/cluster/%s", e->cluster);
	aws_params_add(&p, "TagSpecification.1.Tag.1.Value", "owned");
	rc = aws_query(e->aws, AWS_EC2, "CreateLaunchTemplate", &p, &doc, err);
	aws_params_clear(&p);
	xmlFreeDoc(doc);
	if (rc && err &&
	    strcmp(err->provider_code, "InvalidLaunchTemplateName.AlreadyExistsException") == 0)
		rc = 0;
	if (rc == 0)
		template_remember(e, name);
	return rc;
}

static void claim_tags(struct ec2 *e, const struct kerf_nodeclaim *claim,
		       const struct kerf_node_class *node_class, const struct ec2_node_class *nc,
		       struct kerf_labels *tags)
{
	char key[300];
	char *hash = class_hash(nc);

	/* The class's tags first: kerf's own win where they collide. */
	kerf_labels_copy(tags, &nc->tags);
	snprintf(key, sizeof(key), "kubernetes.io/cluster/%s", e->cluster);
	kerf_labels_set(tags, key, "owned");
	kerf_labels_set(tags, "eks:eks-cluster-name", e->cluster);
	kerf_labels_set(tags, TAG_NODEPOOL, claim->nodepool ? claim->nodepool : "");
	kerf_labels_set(tags, TAG_NODECLASS, node_class->meta->name);
	kerf_labels_set(tags, TAG_NODECLAIM, claim->meta->name);
	kerf_labels_set(tags, TAG_NODECLASS_HASH, hash);
	free(hash);
}

/* The instance launched for the claim before (a retry, a restart), NULL when none. */
static int find_launched(struct ec2 *e, const struct kerf_nodeclaim *claim,
			 struct kerf_instance **out, struct kerf_error *err)
{
	struct kerf_instance_list *l = kerf_instance_list_new();
	struct aws_params p = {0};
	int rc;

	*out = NULL;
	aws_params_add(&p, "Filter.1.Name", "tag:" TAG_NODECLAIM);
	aws_params_add(&p, "Filter.1.Value.1", claim->meta->name);
	aws_params_addf(&p, "Filter.2.Name", "tag:kubernetes.io/cluster/%s", e->cluster);
	aws_params_add(&p, "Filter.2.Value.1", "owned");
	live_states(&p, 3);
	rc = describe(e, &p, l, NULL, NULL, err);
	aws_params_clear(&p);
	if (rc == 0 && l->n)
		*out = take(l, 0);
	kerf_instance_list_free(l);
	return rc;
}

static int bootstrap_labels(const struct kerf_nodeclaim *claim, struct kerf_labels *labels)
{
	kerf_labels_copy(labels, &claim->meta->labels);
	if (claim->nodepool)
		kerf_labels_set(labels, TAG_NODEPOOL, claim->nodepool);
	/* A requirement with one value is a label the node is known to carry. */
	for (size_t i = 0; i < claim->requirements.n; i++) {
		const struct kerf_requirement *r = claim->requirements.items[i];
		if (r->op == KERF_OP_IN && r->n_values == 1 &&
		    strncmp(r->key, "karpenter.k8s.aws/", 18) != 0 &&
		    strcmp(r->key, "node.kubernetes.io/instance-type") != 0 &&
		    strcmp(r->key, "topology.kubernetes.io/zone") != 0 &&
		    strcmp(r->key, "karpenter.sh/capacity-type") != 0 &&
		    strcmp(r->key, "kubernetes.io/arch") != 0)
			kerf_labels_set(labels, r->key, r->values[0]);
	}
	return 0;
}

/* One launch template per architecture among the candidates; *names[i] for cand[i]. */
static int templates_for(struct ec2 *e, const struct kerf_nodeclaim *claim,
			 const struct ec2_node_class *nc, const struct resolution *r,
			 const struct candidate *cand, size_t n, const char **names, char *owned[2],
			 struct kerf_error *err)
{
	static const char *const arches[] = {"amd64", "arm64"};
	struct kerf_labels labels = {0};
	struct kerf_taints taints = {0};
	struct ec2_cluster_info ci;
	struct ec2_bootstrap b;
	const char *groups[64];
	int rc = 0;

	if ((rc = ensure_cluster(e, err)) != 0)
		return rc;
	bootstrap_labels(claim, &labels);
	/* Registered tainted until kerf has seen the node, as Karpenter registers it. */
	{
		struct kerf_taint *t = kerf_taints_append(&taints);
		t->key = dup("karpenter.sh/unregistered");
		t->effect = KERF_EFFECT_NO_EXECUTE;
	}
	kerf_taints_copy(&taints, &claim->taints);
	kerf_taints_copy(&taints, &claim->startup_taints);
	ci = (struct ec2_cluster_info){e->cluster, e->endpoint, e->ca, e->cidr, e->dns};
	b = (struct ec2_bootstrap){&labels, &taints, nc->kubelet.max_pods};
	for (size_t i = 0; i < r->r.n_groups && i < 64; i++)
		groups[i] = r->r.groups[i].id;
	for (size_t a = 0; a < 2 && rc == 0; a++) {
		const struct ec2_image *im = ec2_resolved_image(&r->r, arches[a]);
		struct aws_params data = {0};
		char *ud = NULL;
		bool used = false;

		for (size_t i = 0; i < n && !used; i++)
			used = strcmp(cand[i].t->arch, arches[a]) == 0;
		if (!used || !im)
			continue;
		if ((rc = ec2_user_data(nc->ami_family, &ci, &b, nc->user_data, &ud, err)) != 0)
			break;
		ec2_template_params(
		    &(struct ec2_template_input){nc, e->cluster, im->id, ud, r->r.instance_profile,
						 r->r.n_groups < 64 ? r->r.n_groups : 64, groups},
		    &data, &owned[a]);
		free(ud);
		rc = ensure_template(e, owned[a], &data, err);
		aws_params_clear(&data);
		for (size_t i = 0; i < n; i++)
			if (strcmp(cand[i].t->arch, arches[a]) == 0)
				names[i] = owned[a];
	}
	kerf_labels_clear(&labels);
	kerf_taints_clear(&taints);
	return rc;
}

static int fleet(struct ec2 *e, const struct kerf_nodeclaim *claim,
		 const struct kerf_node_class *node_class, const struct ec2_node_class *nc,
		 const struct resolution *r, struct catalogue *c, struct kerf_instance **out,
		 struct kerf_error *err)
{
	const struct kerf_host *h = e->host;
	kerf_mono_ms_t now = h->mono_ms(h->ctx);
	struct kerf_reqset *want = kerf_reqset_new();
	struct candidate *cand = NULL;
	struct ec2_override ov[EC2_MAX_OVERRIDES];
	const char *names[EC2_MAX_OVERRIDES] = {0};
	char *owned[2] = {NULL, NULL};
	struct kerf_labels tags = {0};
	struct aws_params p = {0};
	struct ec2_fleet_result res = {0};
	kerf_capacity_type ct;
	xmlDoc *doc = NULL;
	char *token = NULL;
	size_t n;
	int rc;

	if ((rc = kerf_reqset_add_requirements(want, &claim->requirements, err)) != 0) {
		kerf_reqset_free(want);
		return rc;
	}
	pthread_mutex_lock(&e->lock);
	n = candidates(e, c, nc, r, want, claim, now, &cand, &ct);
	pthread_mutex_unlock(&e->lock);
	kerf_reqset_free(want);
	if (n == 0) {
		free(cand);
		return kerf_error_set(err, KERF_E_CAPACITY,
				      "NodeClaim %s: no instance type, zone and capacity type it "
				      "allows is available",
				      claim->meta->name);
	}
	if (n > EC2_MAX_OVERRIDES)
		n = EC2_MAX_OVERRIDES;
	if ((rc = templates_for(e, claim, nc, r, cand, n, names, owned, err)) != 0)
		goto out;
	for (size_t i = 0; i < n; i++)
		ov[i] = (struct ec2_override){names[i], cand[i].t->name,
					      ec2_resolved_subnet(&r->r, cand[i].zone)->id,
					      cand[i].zone, cand[i].price};
	claim_tags(e, claim, node_class, nc, &tags);
	token = ec2_client_token(claim);
	ec2_fleet_params(token, ct, n, ov, &tags, &p);
	rc = aws_query(e->aws, AWS_EC2, "CreateFleet", &p, &doc, err);
	if (rc == 0)
		rc = ec2_fleet_read(doc, &res, err);
	if (rc)
		goto out;
	pthread_mutex_lock(&e->lock);
	for (size_t i = 0; i < res.n_errors; i++)
		if (ec2_is_capacity_code(res.errors[i].code) && res.errors[i].type &&
		    res.errors[i].zone)
			ec2_ice_mark(&e->ice, res.errors[i].type, res.errors[i].zone, ct, now);
	pthread_mutex_unlock(&e->lock);
	if (!res.instance_id) {
		bool capacity = res.n_errors > 0;
		for (size_t i = 0; i < res.n_errors; i++)
			capacity = capacity && ec2_is_capacity_code(res.errors[i].code);
		if (err && res.n_errors && res.errors[0].code)
			snprintf(err->provider_code, sizeof(err->provider_code), "%s",
				 res.errors[0].code);
		rc = kerf_error_set(
		    err, capacity ? KERF_E_CAPACITY : KERF_E_INVALID,
		    "CreateFleet for NodeClaim %s launched nothing: %s: %s", claim->meta->name,
		    res.n_errors && res.errors[0].code ? res.errors[0].code : "no error",
		    res.n_errors && res.errors[0].message ? res.errors[0].message : "");
		goto out;
	}
	{
		struct kerf_instance *in = kerf_instance_new();
		const struct ec2_itype *t =
		    ec2_itypes_find(&c->types->types, res.type ? res.type : "");
		const char *zone = res.zone;
		const struct ec2_image *im = t ? ec2_resolved_image(&r->r, t->arch) : NULL;

		for (size_t i = 0; !zone && res.subnet && i < r->r.n_subnets; i++)
			if (strcmp(r->r.subnets[i].id, res.subnet) == 0)
				zone = r->r.subnets[i].zone;
		in->provider_id = ec2_provider_id(zone, res.instance_id);
		in->instance_type = dup(res.type);
		in->zone = dup(zone);
		in->capacity_type = res.ct;
		in->image_id = dup(im ? im->id : NULL);
		kerf_labels_copy(&in->tags, &tags);
		in->launch_ms = h->wall_ms(h->ctx);
		in->state = dup("pending");
		*out = in;
	}
out:
	ec2_fleet_result_clear(&res);
	xmlFreeDoc(doc);
	free(token);
	aws_params_clear(&p);
	kerf_labels_clear(&tags);
	free(owned[0]);
	free(owned[1]);
	free(cand);
	return rc;
}

static int create(void *inst, const struct kerf_nodeclaim *claim,
		  const struct kerf_node_class *node_class, struct kerf_instance **out,
		  struct kerf_error *err)
{
	struct ec2 *e = inst;
	struct catalogue c;
	struct ec2_node_class *nc;
	struct resolution *r;
	int rc;

	if (!node_class)
		return kerf_error_set(err, KERF_E_INVALID,
				      "NodeClaim %s: the ec2 provider launches only with an "
				      "EC2NodeClass",
				      claim->meta->name);
	{
		struct kerf_error ferr = KERF_ERROR_INIT;
		/*
		 * An instance EC2 does not list yet, or a lookup that failed, is
		 * no reason to stop: the ClientToken makes CreateFleet return the
		 * first launch's instance rather than a second one.
		 */
		if (find_launched(e, claim, out, &ferr) == 0 && *out)
			return 0;
		if (ferr.code)
			e->host->log(
			    e->host->ctx, KERF_LOG_WARN,
			    "NodeClaim %s: looking for its instance failed (%s); launching "
			    "with its ClientToken",
			    claim->meta->name, ferr.message);
	}
	if ((rc = load_class(e, node_class, &nc, &r, err)) != 0)
		return rc;
	if ((rc = catalogue_get(e, &c, err)) == 0) {
		rc = fleet(e, claim, node_class, nc, r, &c, out, err);
		catalogue_put(e, &c);
	}
	resolution_put(e, r);
	ec2_node_class_free(nc);
	return rc;
}

/* ------------------------------------------------------------ drift */

static int is_drifted(void *inst, const struct kerf_nodeclaim *claim,
		      const struct kerf_node_class *node_class, bool *drifted, char **reason,
		      struct kerf_error *err)
{
	struct ec2 *e = inst;
	const struct kerf_host *h = e->host;
	const char *id = ec2_instance_id(claim->provider_id);
	struct kerf_instance_list *l;
	struct ec2_node_class *nc;
	struct resolution *r;
	struct aws_params p = {0};
	char **subnets = NULL, **groups = NULL;
	const char *why = NULL;
	int rc;

	*drifted = false;
	if (!id || !node_class)
		return 0;
	if ((rc = load_class(e, node_class, &nc, &r, err)) != 0)
		return rc;
	l = kerf_instance_list_new();
	aws_params_add(&p, "InstanceId.1", id);
	rc = describe(e, &p, l, &subnets, &groups, err);
	aws_params_clear(&p);
	if (rc == 0 && l->n) {
		const struct kerf_instance *in = l->items[0];
		const char *hash = kerf_labels_get(&in->tags, TAG_NODECLASS_HASH);
		char *want_hash = class_hash(nc);
		bool image = false, subnet = false;
		char *want_groups;
		size_t len = 0;

		for (size_t i = 0; i < r->r.n_images; i++)
			image |= in->image_id && strcmp(r->r.images[i].id, in->image_id) == 0;
		for (size_t i = 0; i < r->r.n_subnets; i++)
			subnet |= subnets[0] && strcmp(r->r.subnets[i].id, subnets[0]) == 0;
		/* The resolved groups as the instance's are written: sorted, comma-separated. */
		{
			struct kerf_labels set = {0};
			for (size_t i = 0; i < r->r.n_groups; i++)
				kerf_labels_set(&set, r->r.groups[i].id, "");
			for (size_t i = 0; i < set.n; i++)
				len += strlen(set.items[i]->key) + 1;
			want_groups = calloc(1, len + 1);
			if (!want_groups)
				abort();
			len = 0;
			for (size_t i = 0; i < set.n; i++) {
				size_t k = strlen(set.items[i]->key);
				if (i)
					want_groups[len++] = ',';
				memcpy(want_groups + len, set.items[i]->key, k);
				len += k;
			}
			kerf_labels_clear(&set);
		}
		if (!image)
			why = "AMIDrift";
		else if (!subnet)
			why = "SubnetDrift";
		/* An answer naming no group at all says nothing about them (EC2 always names one).
		 */
		else if (groups[0][0] && strcmp(groups[0], want_groups) != 0)
			why = "SecurityGroupDrift";
		else if (hash && strcmp(hash, want_hash) != 0)
			why = "NodeClassDrift";
		free(want_hash);
		free(want_groups);
	}
	for (size_t i = 0; i < l->n; i++) {
		free(subnets[i]);
		free(groups[i]);
	}
	free(subnets);
	free(groups);
	kerf_instance_list_free(l);
	resolution_put(e, r);
	ec2_node_class_free(nc);
	if (rc == 0 && why) {
		*drifted = true;
		*reason = h->strdup(h->ctx, why);
	}
	return rc;
}

/* ------------------------------------------------------------ lifetime */

static int ec2_create(const struct kerf_host *h, void **out, struct kerf_error *err)
{
	static const char *const endpoint_keys[AWS_SERVICE_COUNT] = {
	    "endpoint_ec2",	"endpoint_sts",	 "endpoint_ssm",
	    "endpoint_pricing", "endpoint_imds", "endpoint_eks"};
	struct aws_config cfg = {0};
	struct ec2 *e = calloc(1, sizeof(*e));
	const char *overhead;
	int64_t v, micro;
	bool b = false;
	int rc;

	if (!e)
		abort();
	/*
	 * libxml2 and jansson set up their globals on first use; done here,
	 * from the thread that creates the instance, launches on the host's
	 * workers never race to do it.
	 */
	xmlInitParser();
	json_object_seed(0);
	e->host = h;
	pthread_mutex_init(&e->lock, NULL);
	e->cluster = cfg_str(h, "cluster_name");
	e->endpoint = dup(cfg_str(h, "cluster_endpoint"));
	e->ca = dup(cfg_str(h, "cluster_ca_bundle"));
	e->cidr = dup(cfg_str(h, "service_cidr"));
	e->k8s = dup(cfg_str(h, "kubernetes_version"));
	e->dns = cfg_str(h, "cluster_dns");
	e->cluster_known = e->endpoint && e->ca && e->k8s;
	h->config_bool(h->ctx, "isolated_vpc", &b);
	e->isolated = b;
	overhead = cfg_str(h, "vm_memory_overhead_percent");
	if (!overhead || !ec2_parse_usd(overhead, &micro) || micro >= 100000000) {
		free(e->endpoint);
		free(e->ca);
		free(e->cidr);
		free(e->k8s);
		pthread_mutex_destroy(&e->lock);
		free(e);
		return kerf_error_set(err, KERF_E_CONFIG,
				      "plugins.ec2.vm_memory_overhead_percent: \"%s\" is not a "
				      "percentage below 100",
				      overhead ? overhead : "");
	}
	e->vm_overhead_milli = micro / 1000;
	h->config_duration(h->ctx, "instance_types_refresh", &e->types_ttl);
	h->config_duration(h->ctx, "on_demand_prices_refresh", &e->od_ttl);
	h->config_duration(h->ctx, "spot_prices_refresh", &e->spot_ttl);
	cfg.region = cfg_str(h, "region");
	cfg.profile = cfg_str(h, "profile");
	cfg.pricing_region = cfg_str(h, "pricing_region");
	if (h->config_int(h->ctx, "max_attempts", &v) == 0)
		cfg.max_attempts = (int)v;
	for (int s = 0; s < AWS_SERVICE_COUNT; s++)
		cfg.endpoint[s] = cfg_str(h, endpoint_keys[s]);
	if ((rc = aws_client_new(h, &cfg, &e->aws, err)) != 0) {
		pthread_mutex_destroy(&e->lock);
		free(e->endpoint);
		free(e->ca);
		free(e->cidr);
		free(e->k8s);
		free(e);
		return rc;
	}
	e->region = cfg.region ? cfg.region : h->getenv(h->ctx, "AWS_REGION");
	if (!e->region)
		e->region = h->getenv(h->ctx, "AWS_DEFAULT_REGION");
	e->region = dup(e->region);
	/* EC2 takes up to 1000 ids a call; a hundred keeps answers small. */
	ec2_batcher_init(&e->gets, 100, get_batch, e);
	ec2_batcher_init(&e->deletes, 100, delete_batch, e);
	h->log(h->ctx, KERF_LOG_INFO, "ec2: cluster %s in %s", e->cluster,
	       e->region ? e->region : "(region from the AWS config)");
	*out = e;
	return 0;
}

static void ec2_destroy(void *inst)
{
	struct ec2 *e = inst;

	if (!e)
		return;
	snap_put(e, e->types);
	snap_put(e, e->od);
	snap_put(e, e->spot);
	for (size_t i = 0; i < e->n_res; i++)
		resolution_put(e, e->res[i]);
	free(e->res);
	for (size_t i = 0; i < e->n_templates; i++)
		free(e->templates[i]);
	free(e->templates);
	ec2_ice_clear(&e->ice);
	ec2_batcher_destroy(&e->gets);
	ec2_batcher_destroy(&e->deletes);
	aws_client_free(e->aws);
	free(e->endpoint);
	free(e->ca);
	free(e->cidr);
	free(e->k8s);
	free((char *)e->region);
	pthread_mutex_destroy(&e->lock);
	free(e);
}

/* ------------------------------------------------------------- status */

static int node_class_status(void *inst, const struct kerf_node_class *node_class, char **status,
			     struct kerf_error *err)
{
	struct ec2 *e = inst;
	const struct kerf_host *h = e->host;
	struct ec2_node_class *nc;
	struct resolution *r = NULL;
	char *text;
	int rc;

	*status = NULL;
	if (!node_class)
		return kerf_error_set(err, KERF_E_INVALID, "no node class");
	if ((rc = ec2_node_class_parse(node_class, &nc, err)) != 0)
		return rc;
	rc = resolution_get(e, node_class, nc, &r, err);
	ec2_node_class_free(nc);
	if (rc)
		return rc;
	text = ec2_status_json(&r->r, kerf_doc_root(node_class->doc), h->wall_ms(h->ctx));
	resolution_put(e, r);
	*status = h->strdup(h->ctx, text);
	free(text);
	return 0;
}

static const struct kerf_provider_ops ec2_provider_ops = {
    .get_instance_types = get_instance_types,
    .create = create,
    .delete_instance = delete_instance,
    .get = get,
    .list = list,
    .is_drifted = is_drifted,
    .node_class_kinds = ec2_node_class_kinds,
    .validate_node_class = ec2_validate_node_class,
    .well_known_labels = ec2_well_known_labels,
    .restricted_label_domains = ec2_restricted_label_domains,
    .class_selectors = ec2_class_selectors,
    .node_class_status = node_class_status,
};

KERF_PLUGIN_DEFINE = {
    KERF_PLUGIN_HEADER,
    .name = "ec2",
    .version = EC2_VERSION,
    .description = "Amazon EC2 instances launched with CreateFleet, for EKS clusters",
    .license = "Apache-2.0",
    .kinds = KERF_KIND_PROVIDER,
    .capabilities = KERF_CAP_PROVIDER_SPOT | KERF_CAP_PROVIDER_DRIFT,
    KERF_PLUGIN_SCHEMA(ec2_schema),
    .create = ec2_create,
    .destroy = ec2_destroy,
    KERF_PLUGIN_OPS(provider, ec2_provider_ops),
};
