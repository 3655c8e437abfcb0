/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ec2_launch.h - the EC2 requests behind node class resolution and
 * launches, and the readers of their answers.
 *
 * Builders fill struct aws_params (aws.h) in the order EC2's Query API
 * names them; readers take parsed responses.  Nothing here calls AWS, so
 * all of it is tested against fixtures.  Memory is malloc'd; out of memory
 * aborts.
 */
#ifndef KERF_EC2_LAUNCH_H
#define KERF_EC2_LAUNCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libxml/tree.h>

#include <kerf/kerf.h>

#include "aws.h"
#include "nodeclass.h"

/* ------------------------------------------------------------ resolution */

enum ec2_selectable { EC2_SUBNETS, EC2_SECURITY_GROUPS, EC2_IMAGES };

/*
 * The Describe* request parameters for one selector term: ids as
 * SubnetId.1 / GroupId.1 / ImageId.1, names as the group-name or name
 * filter, owners as Owner.1, each tag as a tag:KEY filter (a value of "*"
 * as a tag-key filter, any value).  An image term by name alone is looked
 * for among the account's own and Amazon's, as Karpenter does.
 */
void ec2_term_params(const struct ec2_selector_term *t, enum ec2_selectable what,
		     struct aws_params *p);

struct ec2_subnet {
	char *id, *zone, *zone_id;
	int64_t free_ips;
};
struct ec2_group {
	char *id, *name;
};
struct ec2_image {
	char *id, *name, *arch; /* arch "amd64" or "arm64" */
	char *created;		/* ISO 8601 */
};

struct ec2_resolved {
	size_t n_subnets, n_groups, n_images;
	struct ec2_subnet *subnets;
	struct ec2_group *groups;
	struct ec2_image
	    *images; /* the newest per architecture once ec2_resolved_pick_images ran */
	char *instance_profile;
};

/* Add the items of a DescribeSubnets / DescribeSecurityGroups / DescribeImages page (deduplicated).
 */
int ec2_add_subnets(struct ec2_resolved *r, const xmlDoc *page, struct kerf_error *err);
int ec2_add_groups(struct ec2_resolved *r, const xmlDoc *page, struct kerf_error *err);
int ec2_add_images(struct ec2_resolved *r, const xmlDoc *page, struct kerf_error *err);
/* Adds one image known by id and architecture (an alias's SSM answer). */
void ec2_add_image(struct ec2_resolved *r, const char *id, const char *arch);
/* Keeps the newest image of each architecture (creation date, then name), as Karpenter does. */
void ec2_resolved_pick_images(struct ec2_resolved *r);
/* The image for arch, NULL when none. */
const struct ec2_image *ec2_resolved_image(const struct ec2_resolved *r, const char *arch);
/* The subnet in zone with the most free addresses, NULL when none. */
const struct ec2_subnet *ec2_resolved_subnet(const struct ec2_resolved *r, const char *zone);
void ec2_resolved_clear(struct ec2_resolved *r);

/*
 * The public SSM parameter holding the EKS-optimised AMI of `alias`
 * ("al2023@latest", "al2@v20240807", "bottlerocket@1.20.1",
 * "windows2022@latest") for Kubernetes `k8s` ("1.31") and arch
 * ("amd64"/"arm64").  *out malloc'd.  KERF_E_INVALID for an unknown
 * family; KERF_E_NOTFOUND when the family has no image for arch (Windows
 * on arm64).
 */
int ec2_alias_parameter(const char *alias, const char *k8s, const char *arch, char **out,
			struct kerf_error *err);

/* ------------------------------------------------------- launch templates */

struct ec2_template_input {
	const struct ec2_node_class *nc;
	const char *cluster;
	const char *image_id;
	const char *user_data; /* plain text; base64-encoded here */
	const char *instance_profile;
	size_t n_groups;
	const char *const *group_ids;
};

/*
 * LaunchTemplateData.* for a resolved option set: image, base64 user data,
 * instance profile, security groups, metadata options (IMDSv2 required
 * unless the class says otherwise), block device mappings, monitoring,
 * public address, and the class's tags on volumes and network
 * interfaces.  Their SHA-256 names the template: *name is
 * "kerf/<cluster>/<first 20 hex digits>" (malloc'd), the same for the same
 * options, so templates are reused.
 */
void ec2_template_params(const struct ec2_template_input *in, struct aws_params *data, char **name);

/* ------------------------------------------------------------- fleets */

struct ec2_override {
	const char *template_name;
	const char *type;
	const char *subnet;
	const char *zone;
	int64_t price;
};

/* EC2 allows at most this many overrides in one CreateFleet request. */
#define EC2_MAX_OVERRIDES 60

/*
 * CreateFleet type instant for one instance: overrides grouped into one
 * launch template config per template (at most EC2_MAX_OVERRIDES in all,
 * cheapest first as given), lowest-price on demand or
 * price-capacity-optimized spot, the tags on the instance, its volumes and
 * network interfaces, and the ClientToken that makes a retry with the
 * same token return the first request's instance.
 */
void ec2_fleet_params(const char *client_token, kerf_capacity_type ct, size_t n,
		      const struct ec2_override *o, const struct kerf_labels *tags,
		      struct aws_params *p);

/* A ClientToken for the claim (malloc'd): a hash of its name and uid, 64 characters at most. */
char *ec2_client_token(const struct kerf_nodeclaim *claim);

struct ec2_fleet_error {
	char *code, *message, *type, *zone;
};
struct ec2_fleet_result {
	char *instance_id, *type, *zone, *subnet; /* NULL when nothing was launched */
	kerf_capacity_type ct;
	size_t n_errors;
	struct ec2_fleet_error *errors;
};

/* Reads a CreateFleet response.  KERF_E_PARSE when it is not one. */
int ec2_fleet_read(const xmlDoc *doc, struct ec2_fleet_result *r, struct kerf_error *err);
void ec2_fleet_result_clear(struct ec2_fleet_result *r);

/* ------------------------------------------------------------ instances */

/* "aws:///us-east-1a/i-0123" for an instance; NULL pieces give NULL. */
char *ec2_provider_id(const char *zone, const char *instance_id);
/* The instance id of a provider id ("i-0123"), NULL when it is not one of EC2's. */
const char *ec2_instance_id(const char *provider_id);

/*
 * Appends the instances of a DescribeInstances page to l (provider id,
 * type, zone, capacity type, image, tags, launch time, state).  With
 * `subnets`/`groups` not NULL, each instance's subnet and security groups
 * ("sg-1,sg-2", sorted) are appended to those arrays in the same order
 * (malloc'd strings).  KERF_E_PARSE when it is not such a response.
 */
int ec2_instances_read(const xmlDoc *page, struct kerf_instance_list *l, char ***subnets,
		       char ***groups, struct kerf_error *err);

/* "2026-12-07T22:41:02.000Z" as milliseconds since the epoch, 0 when unreadable. */
kerf_wall_ms_t ec2_parse_time(const char *iso);

#endif
