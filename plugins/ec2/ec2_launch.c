/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ec2_launch.c - requests and answers of resolution and launches
 * (ec2_launch.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "ec2_launch.h"
#include "ec2_xml.h"

static char *dup(const char *s)
{
	char *d = strdup(s ? s : "");

	if (!d)
		abort();
	return d;
}

static void *grow(void *p, size_t n, size_t size)
{
	p = realloc(p, (n + 1) * size);
	if (!p)
		abort();
	return p;
}

/* ------------------------------------------------------------ resolution */

void ec2_term_params(const struct ec2_selector_term *t, enum ec2_selectable what,
		     struct aws_params *p)
{
	static const char *const id_param[] = {"SubnetId.1", "GroupId.1", "ImageId.1"};
	size_t f = 0;

	if (t->id)
		aws_params_add(p, id_param[what], t->id);
	if (t->name && what != EC2_SUBNETS) {
		f++;
		aws_params_addf(p, "Filter.1.Name", "%s",
				what == EC2_IMAGES ? "name" : "group-name");
		aws_params_add(p, "Filter.1.Value.1", t->name);
	}
	if (what == EC2_IMAGES && t->owner) {
		aws_params_add(p, "Owner.1", t->owner);
	} else if (what == EC2_IMAGES && t->name && !t->id) {
		aws_params_add(p, "Owner.1", "self");
		aws_params_add(p, "Owner.2", "amazon");
	}
	for (size_t i = 0; i < t->tags.n; i++) {
		const struct kerf_label *l = t->tags.items[i];
		char name[64], value[64];

		f++;
		snprintf(name, sizeof(name), "Filter.%zu.Name", f);
		snprintf(value, sizeof(value), "Filter.%zu.Value.1", f);
		if (l->value && strcmp(l->value, "*") == 0) {
			aws_params_add(p, name, "tag-key");
			aws_params_add(p, value, l->key);
		} else {
			aws_params_addf(p, name, "tag:%s", l->key);
			aws_params_add(p, value, l->value ? l->value : "");
		}
	}
	if (what == EC2_IMAGES) {
		/* Only images that can launch. */
		char name[64], value[64];

		f++;
		snprintf(name, sizeof(name), "Filter.%zu.Name", f);
		snprintf(value, sizeof(value), "Filter.%zu.Value.1", f);
		aws_params_add(p, name, "state");
		aws_params_add(p, value, "available");
	}
}

static int need_set(const xmlDoc *page, const char *set, const char *action, struct kerf_error *err)
{
	const xmlNode *root = xmlDocGetRootElement(page);

	if (!root || !aws_xml_child(root, set))
		return kerf_error_set(err, KERF_E_PARSE, "%s: the response has no %s", action, set);
	return 0;
}

int ec2_add_subnets(struct ec2_resolved *r, const xmlDoc *page, struct kerf_error *err)
{
	int rc = need_set(page, "subnetSet", "DescribeSubnets", err);

	for (const xmlNode *it = rc ? NULL : ec2_xml_items(xmlDocGetRootElement(page), "subnetSet");
	     it; it = aws_xml_next(it)) {
		char *id = ec2_xml_str(it, "subnetId"), *zone = ec2_xml_str(it, "availabilityZone");
		bool seen = !id || !zone;
		for (size_t i = 0; !seen && i < r->n_subnets; i++)
			seen = strcmp(r->subnets[i].id, id) == 0;
		if (!seen) {
			struct ec2_subnet *s;
			r->subnets = grow(r->subnets, r->n_subnets, sizeof(*r->subnets));
			s = &r->subnets[r->n_subnets++];
			s->id = id;
			s->zone = zone;
			s->zone_id = ec2_xml_str(it, "availabilityZoneId");
			s->free_ips = 0;
			ec2_xml_int(it, "availableIpAddressCount", &s->free_ips);
			continue;
		}
		free(id);
		free(zone);
	}
	return rc;
}

int ec2_add_groups(struct ec2_resolved *r, const xmlDoc *page, struct kerf_error *err)
{
	int rc = need_set(page, "securityGroupInfo", "DescribeSecurityGroups", err);

	for (const xmlNode *it =
		 rc ? NULL : ec2_xml_items(xmlDocGetRootElement(page), "securityGroupInfo");
	     it; it = aws_xml_next(it)) {
		char *id = ec2_xml_str(it, "groupId");
		bool seen = !id;
		for (size_t i = 0; !seen && i < r->n_groups; i++)
			seen = strcmp(r->groups[i].id, id) == 0;
		if (!seen) {
			r->groups = grow(r->groups, r->n_groups, sizeof(*r->groups));
			r->groups[r->n_groups].id = id;
			r->groups[r->n_groups++].name = ec2_xml_str(it, "groupName");
			continue;
		}
		free(id);
	}
	return rc;
}

static const char *arch_name(const char *ec2_arch)
{
	if (ec2_arch && strcmp(ec2_arch, "x86_64") == 0)
		return "amd64";
	if (ec2_arch && strcmp(ec2_arch, "arm64") == 0)
		return "arm64";
	return NULL;
}

static struct ec2_image *image_add(struct ec2_resolved *r, const char *id, const char *arch)
{
	struct ec2_image *im;

	for (size_t i = 0; i < r->n_images; i++)
		if (strcmp(r->images[i].id, id) == 0 && strcmp(r->images[i].arch, arch) == 0)
			return NULL;
	r->images = grow(r->images, r->n_images, sizeof(*r->images));
	im = &r->images[r->n_images++];
	im->id = dup(id);
	im->arch = dup(arch);
	im->name = NULL;
	im->created = NULL;
	return im;
}

void ec2_add_image(struct ec2_resolved *r, const char *id, const char *arch)
{
	image_add(r, id, arch);
}

int ec2_add_images(struct ec2_resolved *r, const xmlDoc *page, struct kerf_error *err)
{
	int rc = need_set(page, "imagesSet", "DescribeImages", err);

	for (const xmlNode *it = rc ? NULL : ec2_xml_items(xmlDocGetRootElement(page), "imagesSet");
	     it; it = aws_xml_next(it)) {
		char *id = ec2_xml_str(it, "imageId"), *a = ec2_xml_str(it, "architecture");
		const char *arch = arch_name(a);
		struct ec2_image *im = id && arch ? image_add(r, id, arch) : NULL;

		if (im) {
			im->name = ec2_xml_str(it, "name");
			im->created = ec2_xml_str(it, "creationDate");
		}
		free(id);
		free(a);
	}
	return rc;
}

static bool newer(const struct ec2_image *a, const struct ec2_image *b)
{
	int c = strcmp(a->created ? a->created : "", b->created ? b->created : "");

	if (c)
		return c > 0;
	return strcmp(a->name ? a->name : "", b->name ? b->name : "") > 0;
}

static void image_free(struct ec2_image *im)
{
	free(im->id);
	free(im->name);
	free(im->arch);
	free(im->created);
}

void ec2_resolved_pick_images(struct ec2_resolved *r)
{
	size_t n = 0;

	for (size_t i = 0; i < r->n_images; i++) {
		size_t k;
		for (k = 0; k < n && strcmp(r->images[k].arch, r->images[i].arch) != 0; k++)
			;
		if (k == n) {
			r->images[n++] = r->images[i];
		} else if (newer(&r->images[i], &r->images[k])) {
			image_free(&r->images[k]);
			r->images[k] = r->images[i];
		} else {
			image_free(&r->images[i]);
		}
	}
	r->n_images = n;
}

const struct ec2_image *ec2_resolved_image(const struct ec2_resolved *r, const char *arch)
{
	for (size_t i = 0; i < r->n_images; i++)
		if (strcmp(r->images[i].arch, arch) == 0)
			return &r->images[i];
	return NULL;
}

const struct ec2_subnet *ec2_resolved_subnet(const struct ec2_resolved *r, const char *zone)
{
	const struct ec2_subnet *best = NULL;

	for (size_t i = 0; i < r->n_subnets; i++)
		if (strcmp(r->subnets[i].zone, zone) == 0 &&
		    (!best || r->subnets[i].free_ips > best->free_ips))
			best = &r->subnets[i];
	return best;
}

void ec2_resolved_clear(struct ec2_resolved *r)
{
	for (size_t i = 0; i < r->n_subnets; i++) {
		free(r->subnets[i].id);
		free(r->subnets[i].zone);
		free(r->subnets[i].zone_id);
	}
	for (size_t i = 0; i < r->n_groups; i++) {
		free(r->groups[i].id);
		free(r->groups[i].name);
	}
	for (size_t i = 0; i < r->n_images; i++)
		image_free(&r->images[i]);
	free(r->subnets);
	free(r->groups);
	free(r->images);
	free(r->instance_profile);
	memset(r, 0, sizeof(*r));
}

int ec2_alias_parameter(const char *alias, const char *k8s, const char *arch, char **out,
			struct kerf_error *err)
{
	const char *at = strchr(alias, '@');
	const char *ver = at ? at + 1 : "latest";
	bool latest = strcmp(ver, "latest") == 0, arm = strcmp(arch, "arm64") == 0;
	const char *a = arm ? "arm64" : "x86_64";
	size_t flen = at ? (size_t)(at - alias) : strlen(alias);
	int n = -1;

	*out = NULL;
	if (flen == 6 && strncmp(alias, "al2023", 6) == 0) {
		n = latest ? asprintf(out,
				      "/aws/service/eks/optimized-ami/%s/amazon-linux-2023/%s/"
				      "standard/recommended/image_id",
				      k8s, a)
			   : asprintf(out,
				      "/aws/service/eks/optimized-ami/%s/amazon-linux-2023/%s/"
				      "standard/amazon-eks-node-al2023-%s-standard-%s-%s/image_id",
				      k8s, a, a, k8s, ver);
	} else if (flen == 3 && strncmp(alias, "al2", 3) == 0) {
		const char *dir = arm ? "amazon-linux-2-arm64" : "amazon-linux-2";
		n = latest
			? asprintf(out, "/aws/service/eks/optimized-ami/%s/%s/recommended/image_id",
				   k8s, dir)
			: asprintf(out,
				   "/aws/service/eks/optimized-ami/%s/%s/amazon-eks-%snode-%s-%s/"
				   "image_id",
				   k8s, dir, arm ? "arm64-" : "", k8s, ver);
	} else if (flen == 12 && strncmp(alias, "bottlerocket", 12) == 0) {
		n = asprintf(out, "/aws/service/bottlerocket/aws-k8s-%s/%s/%s/image_id", k8s, a,
			     latest ? "latest" : (ver[0] == 'v' ? ver + 1 : ver));
	} else if ((flen == 11 && strncmp(alias, "windows2019", 11) == 0) ||
		   (flen == 11 && strncmp(alias, "windows2022", 11) == 0)) {
		if (arm)
			return kerf_error_set(
			    err, KERF_E_NOTFOUND,
			    "amiSelectorTerms alias %s: Windows has no arm64 image", alias);
		n = asprintf(out,
			     "/aws/service/ami-windows-latest/Windows_Server-%.4s-English-Core-EKS_"
			     "Optimized-%s/image_id",
			     alias + 7, k8s);
	} else {
		return kerf_error_set(err, KERF_E_INVALID,
				      "amiSelectorTerms alias %s: unknown family", alias);
	}
	if (n < 0)
		abort();
	return 0;
}

/* ------------------------------------------------------- launch templates */

static void base64(const char *in, char **out)
{
	size_t n = strlen(in);
	unsigned char *b = malloc(4 * ((n + 2) / 3) + 1);

	if (!b)
		abort();
	EVP_EncodeBlock(b, (const unsigned char *)in, (int)n);
	*out = (char *)b;
}

static void block_devices(const struct ec2_node_class *nc, struct aws_params *d)
{
	static const struct ec2_block_device_mapping al = {.device_name = "/dev/xvda",
							   .volume_size_bytes = 20ll << 30,
							   .volume_type = "gp3",
							   .encrypted = true,
							   .has_encrypted = true};
	static const struct ec2_block_device_mapping br[] = {{.device_name = "/dev/xvda",
							      .volume_size_bytes = 4ll << 30,
							      .volume_type = "gp3",
							      .encrypted = true,
							      .has_encrypted = true},
							     {.device_name = "/dev/xvdb",
							      .volume_size_bytes = 20ll << 30,
							      .volume_type = "gp3",
							      .encrypted = true,
							      .has_encrypted = true}};
	static const struct ec2_block_device_mapping win = {.device_name = "/dev/sda1",
							    .volume_size_bytes = 50ll << 30,
							    .volume_type = "gp3",
							    .encrypted = true,
							    .has_encrypted = true};
	const struct ec2_block_device_mapping *m = nc->block_device_mappings;
	size_t n = nc->n_block_device_mappings;
	const char *fam = nc->ami_family ? nc->ami_family : "AL2023";

	/* The AMI family's own volumes when the class names none, as Karpenter gives them. */
	if (n == 0 && strcmp(fam, "Custom") != 0) {
		if (strcmp(fam, "Bottlerocket") == 0) {
			m = br;
			n = 2;
		} else {
			m = strncmp(fam, "Windows", 7) == 0 ? &win : &al;
			n = 1;
		}
	}
	for (size_t i = 0; i < n; i++) {
		char k[96];
#define BDM(field)                                                                                 \
	(snprintf(k, sizeof(k), "LaunchTemplateData.BlockDeviceMapping.%zu." field, i + 1), k)
		aws_params_add(d, BDM("DeviceName"), m[i].device_name);
		if (m[i].volume_size_bytes > 0)
			aws_params_addf(
			    d, BDM("Ebs.VolumeSize"), "%lld",
			    (long long)((m[i].volume_size_bytes + (1ll << 30) - 1) >> 30));
		if (m[i].volume_type && *m[i].volume_type)
			aws_params_add(d, BDM("Ebs.VolumeType"), m[i].volume_type);
		if (m[i].iops > 0)
			aws_params_addf(d, BDM("Ebs.Iops"), "%lld", (long long)m[i].iops);
		if (m[i].throughput > 0)
			aws_params_addf(d, BDM("Ebs.Throughput"), "%lld",
					(long long)m[i].throughput);
		if (m[i].has_encrypted)
			aws_params_add(d, BDM("Ebs.Encrypted"), m[i].encrypted ? "true" : "false");
		aws_params_add(d, BDM("Ebs.DeleteOnTermination"),
			       !m[i].has_delete_on_termination || m[i].delete_on_termination
				   ? "true"
				   : "false");
		if (m[i].kms_key_id && *m[i].kms_key_id)
			aws_params_add(d, BDM("Ebs.KmsKeyId"), m[i].kms_key_id);
		if (m[i].snapshot_id && *m[i].snapshot_id)
			aws_params_add(d, BDM("Ebs.SnapshotId"), m[i].snapshot_id);
#undef BDM
	}
}

static void tag_spec(struct aws_params *p, const char *prefix, size_t n, const char *resource,
		     const struct kerf_labels *tags)
{
	char k[128];

	snprintf(k, sizeof(k), "%sTagSpecification.%zu.ResourceType", prefix, n);
	aws_params_add(p, k, resource);
	for (size_t i = 0; i < tags->n; i++) {
		snprintf(k, sizeof(k), "%sTagSpecification.%zu.Tag.%zu.Key", prefix, n, i + 1);
		aws_params_add(p, k, tags->items[i]->key);
		snprintf(k, sizeof(k), "%sTagSpecification.%zu.Tag.%zu.Value", prefix, n, i + 1);
		aws_params_add(p, k, tags->items[i]->value ? tags->items[i]->value : "");
	}
}

void ec2_template_params(const struct ec2_template_input *in, struct aws_params *d, char **name)
{
	const struct ec2_node_class *nc = in->nc;
	unsigned char md[SHA256_DIGEST_LENGTH];
	EVP_MD_CTX *ctx;
	char *ud = NULL, hex[21];

	aws_params_add(d, "LaunchTemplateData.ImageId", in->image_id);
	if (in->user_data && *in->user_data) {
		base64(in->user_data, &ud);
		aws_params_add(d, "LaunchTemplateData.UserData", ud);
		free(ud);
	}
	if (in->instance_profile)
		aws_params_add(d, "LaunchTemplateData.IamInstanceProfile.Name",
			       in->instance_profile);
	if (nc->associate_public_ip_address >= 0) {
		/* A public address is a property of the interface, which then holds the groups. */
		aws_params_add(d, "LaunchTemplateData.NetworkInterface.1.DeviceIndex", "0");
		aws_params_add(d, "LaunchTemplateData.NetworkInterface.1.AssociatePublicIpAddress",
			       nc->associate_public_ip_address ? "true" : "false");
	}
	for (size_t i = 0; i < in->n_groups; i++) {
		char k[96];
		snprintf(k, sizeof(k),
			 nc->associate_public_ip_address >= 0
			     ? "LaunchTemplateData.NetworkInterface.1.SecurityGroupId.%zu"
			     : "LaunchTemplateData.SecurityGroupId.%zu",
			 i + 1);
		aws_params_add(d, k, in->group_ids[i]);
	}
	aws_params_add(d, "LaunchTemplateData.MetadataOptions.HttpEndpoint",
		       nc->http_endpoint ? nc->http_endpoint : "enabled");
	aws_params_add(d, "LaunchTemplateData.MetadataOptions.HttpProtocolIpv6",
		       nc->http_protocol_ipv6 ? nc->http_protocol_ipv6 : "disabled");
	aws_params_addf(d, "LaunchTemplateData.MetadataOptions.HttpPutResponseHopLimit", "%d",
			nc->http_put_response_hop_limit > 0 ? nc->http_put_response_hop_limit : 1);
	aws_params_add(d, "LaunchTemplateData.MetadataOptions.HttpTokens",
		       nc->http_tokens ? nc->http_tokens : "required");
	block_devices(nc, d);
	aws_params_add(d, "LaunchTemplateData.Monitoring.Enabled",
		       nc->detailed_monitoring ? "true" : "false");
	if (nc->tags.n)
		tag_spec(d, "LaunchTemplateData.", 1, "volume", &nc->tags);

	/* The name is the options' digest: the same options find the same template. */
	ctx = EVP_MD_CTX_new();
	if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL))
		abort();
	for (size_t i = 0; i < d->n; i++) {
		EVP_DigestUpdate(ctx, d->items[i].name, strlen(d->items[i].name) + 1);
		EVP_DigestUpdate(ctx, d->items[i].value, strlen(d->items[i].value) + 1);
	}
	EVP_DigestFinal_ex(ctx, md, NULL);
	EVP_MD_CTX_free(ctx);
	for (size_t i = 0; i < 10; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	if (asprintf(name, "kerf/%s/%s", in->cluster, hex) < 0)
		abort();
}

/* ------------------------------------------------------------- fleets */

void ec2_fleet_params(const char *client_token, kerf_capacity_type ct, size_t n,
		      const struct ec2_override *o, const struct kerf_labels *tags,
		      struct aws_params *p)
{
	bool spot = ct == KERF_CAPACITY_SPOT;
	size_t configs = 0;
	char k[128];

	if (n > EC2_MAX_OVERRIDES)
		n = EC2_MAX_OVERRIDES;
	aws_params_add(p, "Type", "instant");
	aws_params_add(p, "ClientToken", client_token);
	aws_params_add(p, "TargetCapacitySpecification.TotalTargetCapacity", "1");
	aws_params_add(p, "TargetCapacitySpecification.DefaultTargetCapacityType",
		       spot ? "spot" : "on-demand");
	if (spot)
		aws_params_add(p, "SpotOptions.AllocationStrategy", "price-capacity-optimized");
	else
		aws_params_add(p, "OnDemandOptions.AllocationStrategy", "lowest-price");
	/* One config per template, in the order templates first appear. */
	for (size_t i = 0; i < n; i++) {
		size_t m = 0;
		bool first = true;
		for (size_t j = 0; j < i && first; j++)
			first = strcmp(o[j].template_name, o[i].template_name) != 0;
		if (!first)
			continue;
		configs++;
		snprintf(k, sizeof(k),
			 "LaunchTemplateConfigs.%zu.LaunchTemplateSpecification.LaunchTemplateName",
			 configs);
		aws_params_add(p, k, o[i].template_name);
		snprintf(k, sizeof(k),
			 "LaunchTemplateConfigs.%zu.LaunchTemplateSpecification.Version", configs);
		aws_params_add(p, k, "$Latest");
		for (size_t j = i; j < n; j++) {
			if (strcmp(o[j].template_name, o[i].template_name) != 0)
				continue;
			m++;
			snprintf(k, sizeof(k),
				 "LaunchTemplateConfigs.%zu.Overrides.%zu.InstanceType", configs,
				 m);
			aws_params_add(p, k, o[j].type);
			snprintf(k, sizeof(k), "LaunchTemplateConfigs.%zu.Overrides.%zu.SubnetId",
				 configs, m);
			aws_params_add(p, k, o[j].subnet);
			snprintf(k, sizeof(k),
				 "LaunchTemplateConfigs.%zu.Overrides.%zu.AvailabilityZone",
				 configs, m);
			aws_params_add(p, k, o[j].zone);
		}
	}
	tag_spec(p, "", 1, "instance", tags);
	tag_spec(p, "", 2, "volume", tags);
	tag_spec(p, "", 3, "fleet", tags);
}

char *ec2_client_token(const struct kerf_nodeclaim *claim)
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	const char *name = claim->meta->name ? claim->meta->name : "";
	const char *uid = claim->meta->uid ? claim->meta->uid : "";
	char *out = malloc(5 + 2 * 24 + 1);

	if (!ctx || !out || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL))
		abort();
	EVP_DigestUpdate(ctx, name, strlen(name) + 1);
	EVP_DigestUpdate(ctx, uid, strlen(uid));
	EVP_DigestFinal_ex(ctx, md, NULL);
	EVP_MD_CTX_free(ctx);
	memcpy(out, "kerf-", 5);
	for (size_t i = 0; i < 24; i++)
		snprintf(out + 5 + 2 * i, 3, "%02x", md[i]);
	return out;
}

int ec2_fleet_read(const xmlDoc *doc, struct ec2_fleet_result *r, struct kerf_error *err)
{
	const xmlNode *root = xmlDocGetRootElement(doc);
	const xmlNode *it;

	memset(r, 0, sizeof(*r));
	if (!root || strcmp((const char *)root->name, "CreateFleetResponse") != 0)
		return kerf_error_set(err, KERF_E_PARSE, "CreateFleet: not a CreateFleetResponse");
	for (it = ec2_xml_items(root, "errorSet"); it; it = aws_xml_next(it)) {
		struct ec2_fleet_error *e;
		r->errors = grow(r->errors, r->n_errors, sizeof(*r->errors));
		e = &r->errors[r->n_errors++];
		e->code = ec2_xml_str(it, "errorCode");
		e->message = ec2_xml_str(it, "errorMessage");
		e->type = ec2_xml_str(it, "launchTemplateAndOverrides/overrides/instanceType");
		e->zone = ec2_xml_str(it, "launchTemplateAndOverrides/overrides/availabilityZone");
	}
	/* The first launched instance; an entry without one says nothing. */
	for (it = ec2_xml_items(root, "fleetInstanceSet"); it && !r->instance_id;
	     it = aws_xml_next(it)) {
		r->instance_id = ec2_xml_str(it, "instanceIds/item");
		if (!r->instance_id)
			continue;
		char *life = ec2_xml_str(it, "lifecycle");
		r->type = ec2_xml_str(it, "instanceType");
		if (!r->type)
			r->type =
			    ec2_xml_str(it, "launchTemplateAndOverrides/overrides/instanceType");
		r->zone = ec2_xml_str(it, "launchTemplateAndOverrides/overrides/availabilityZone");
		r->subnet = ec2_xml_str(it, "launchTemplateAndOverrides/overrides/subnetId");
		r->ct = life && strcmp(life, "spot") == 0 ? KERF_CAPACITY_SPOT
							  : KERF_CAPACITY_ON_DEMAND;
		free(life);
	}
	return 0;
}

void ec2_fleet_result_clear(struct ec2_fleet_result *r)
{
	for (size_t i = 0; i < r->n_errors; i++) {
		free(r->errors[i].code);
		free(r->errors[i].message);
		free(r->errors[i].type);
		free(r->errors[i].zone);
	}
	free(r->errors);
	free(r->instance_id);
	free(r->type);
	free(r->zone);
	free(r->subnet);
	memset(r, 0, sizeof(*r));
}

/* ------------------------------------------------------------ instances */

char *ec2_provider_id(const char *zone, const char *instance_id)
{
	char *s;

	if (!zone || !instance_id)
		return NULL;
	if (asprintf(&s, "aws:///%s/%s", zone, instance_id) < 0)
		abort();
	return s;
}

const char *ec2_instance_id(const char *provider_id)
{
	const char *slash = provider_id ? strrchr(provider_id, '/') : NULL;

	if (!provider_id || strncmp(provider_id, "aws:///", 7) != 0 || !slash ||
	    strncmp(slash + 1, "i-", 2) != 0)
		return NULL;
	return slash + 1;
}

kerf_wall_ms_t ec2_parse_time(const char *iso)
{
	struct tm tm;
	const char *rest;
	int64_t ms = 0;

	memset(&tm, 0, sizeof(tm));
	if (!iso || !(rest = strptime(iso, "%Y-%m-%dT%H:%M:%S", &tm)))
		return 0;
	if (*rest == '.') {
		int digits = 0;
		for (rest++; *rest >= '0' && *rest <= '9'; rest++)
			if (digits < 3) {
				ms = ms * 10 + (*rest - '0');
				digits++;
			}
		for (; digits < 3; digits++)
			ms *= 10;
	}
	return (kerf_wall_ms_t)timegm(&tm) * 1000 + ms;
}

static int by_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *group_list(const xmlNode *inst)
{
	char *ids[64], *out;
	size_t n = 0, len = 0;

	for (const xmlNode *g = ec2_xml_items(inst, "groupSet"); g && n < 64; g = aws_xml_next(g))
		if ((ids[n] = ec2_xml_str(g, "groupId")))
			n++;
	qsort(ids, n, sizeof(ids[0]), by_str);
	for (size_t i = 0; i < n; i++)
		len += strlen(ids[i]) + 1;
	out = malloc(len + 1);
	if (!out)
		abort();
	len = 0;
	for (size_t i = 0; i < n; i++) {
		size_t k = strlen(ids[i]);
		if (i)
			out[len++] = ',';
		memcpy(out + len, ids[i], k);
		len += k;
		free(ids[i]);
	}
	out[len] = '\0';
	return out;
}

int ec2_instances_read(const xmlDoc *page, struct kerf_instance_list *l, char ***subnets,
		       char ***groups, struct kerf_error *err)
{
	const xmlNode *root = xmlDocGetRootElement(page);
	int rc = need_set(page, "reservationSet", "DescribeInstances", err);

	for (const xmlNode *res = rc ? NULL : ec2_xml_items(root, "reservationSet"); res;
	     res = aws_xml_next(res))
		for (const xmlNode *it = ec2_xml_items(res, "instancesSet"); it;
		     it = aws_xml_next(it)) {
			struct kerf_instance *in = kerf_instance_list_append(l);
			char *id = ec2_xml_str(it, "instanceId"), *life, *launch;

			in->zone = ec2_xml_str(it, "placement/availabilityZone");
			in->provider_id = ec2_provider_id(in->zone, id);
			free(id);
			in->instance_type = ec2_xml_str(it, "instanceType");
			in->image_id = ec2_xml_str(it, "imageId");
			in->state = ec2_xml_str(it, "instanceState/name");
			life = ec2_xml_str(it, "instanceLifecycle");
			in->capacity_type = life && strcmp(life, "spot") == 0
						? KERF_CAPACITY_SPOT
						: KERF_CAPACITY_ON_DEMAND;
			free(life);
			launch = ec2_xml_str(it, "launchTime");
			in->launch_ms = ec2_parse_time(launch);
			free(launch);
			for (const xmlNode *t = ec2_xml_items(it, "tagSet"); t;
			     t = aws_xml_next(t)) {
				char *k = ec2_xml_str(t, "key"), *v = ec2_xml_str(t, "value");
				if (k)
					kerf_labels_set(&in->tags, k, v ? v : "");
				free(k);
				free(v);
			}
			if (subnets) {
				*subnets = grow(*subnets, l->n - 1, sizeof(**subnets));
				(*subnets)[l->n - 1] = ec2_xml_str(it, "subnetId");
			}
			if (groups) {
				*groups = grow(*groups, l->n - 1, sizeof(**groups));
				(*groups)[l->n - 1] = group_list(it);
			}
		}
	return rc;
}
