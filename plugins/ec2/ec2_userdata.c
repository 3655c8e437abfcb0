/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ec2_userdata.c - user data per AMI family, merged with the
 * EC2NodeClass's own (ec2_userdata.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ec2_userdata.h"

#define BOUNDARY "//"

struct out {
	char *buf;
	size_t len;
	FILE *f;
};

static void out_open(struct out *o)
{
	o->buf = NULL;
	o->len = 0;
	o->f = open_memstream(&o->buf, &o->len);
	if (!o->f)
		abort();
}

static char *out_close(struct out *o)
{
	fclose(o->f);
	return o->buf;
}

/* "k=v,k2=v2" of the labels, and "k=v:Effect,..." of the taints. */
static void write_labels(FILE *f, const struct kerf_labels *l)
{
	for (size_t i = 0; l && i < l->n; i++)
		fprintf(f, "%s%s=%s", i ? "," : "", l->items[i]->key,
			l->items[i]->value ? l->items[i]->value : "");
}

static const char *effect(kerf_taint_effect e)
{
	return e == KERF_EFFECT_NO_EXECUTE	     ? "NoExecute"
	       : e == KERF_EFFECT_PREFER_NO_SCHEDULE ? "PreferNoSchedule"
						     : "NoSchedule";
}

static void write_taints(FILE *f, const struct kerf_taints *t)
{
	for (size_t i = 0; t && i < t->n; i++)
		fprintf(f, "%s%s=%s:%s", i ? "," : "", t->items[i]->key,
			t->items[i]->value ? t->items[i]->value : "", effect(t->items[i]->effect));
}

/* The boundary of a MIME archive the user wrote, or NULL when it is not one. */
static char *mime_boundary(const char *user)
{
	const char *b = strstr(user, "boundary=");
	size_t n;

	if (strncmp(user, "MIME-Version:", 13) != 0 || !b)
		return NULL;
	b += 9;
	if (*b == '"')
		b++;
	n = strcspn(b, "\"\r\n;");
	return n ? strndup(b, n) : NULL;
}

/* The user's userData as parts of kerf's archive: a MIME archive's own parts, or one part. */
static void write_user_parts(FILE *f, const char *user, const char *default_type)
{
	char *ub, *delim;
	const char *p, *end;

	if (!user || !*user)
		return;
	if (!(ub = mime_boundary(user))) {
		fprintf(f, "--" BOUNDARY "\nContent-Type: %s; charset=\"us-ascii\"\n\n%s%s\n",
			default_type, user, user[strlen(user) - 1] == '\n' ? "" : "\n");
		return;
	}
	if (asprintf(&delim, "\n--%s", ub) < 0)
		abort();
	/* Each part runs from the line after a delimiter to the next delimiter. */
	p = strstr(user, delim);
	while (p) {
		p += strlen(delim);
		if (strncmp(p, "--", 2) == 0)
			break;
		p += strspn(p, "\r");
		if (*p == '\n')
			p++;
		end = strstr(p, delim);
		if (!end)
			break;
		fprintf(f, "--" BOUNDARY "\n%.*s\n", (int)(end - p), p);
		p = end;
	}
	free(delim);
	free(ub);
}

static void mime_head(FILE *f)
{
	fputs("MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"" BOUNDARY "\"\n\n", f);
}

static void al2(FILE *f, const struct ec2_cluster_info *c, const struct ec2_bootstrap *b,
		const char *user)
{
	mime_head(f);
	write_user_parts(f, user, "text/x-shellscript");
	fputs("--" BOUNDARY "\nContent-Type: text/x-shellscript; charset=\"us-ascii\"\n\n", f);
	fputs("#!/bin/bash -xe\nexec > >(tee /var/log/user-data.log|logger -t user-data -s "
	      "2>/dev/console) 2>&1\n",
	      f);
	fprintf(f, "/etc/eks/bootstrap.sh '%s' --apiserver-endpoint '%s' --b64-cluster-ca '%s'",
		c->name, c->endpoint, c->ca_b64);
	if (c->dns_ip)
		fprintf(f, " \\\n--dns-cluster-ip '%s'", c->dns_ip);
	if (b->max_pods > 0)
		fputs(" \\\n--use-max-pods false", f);
	fputs(" \\\n--kubelet-extra-args '--node-labels=\"", f);
	write_labels(f, b->labels);
	fputc('"', f);
	if (b->taints && b->taints->n) {
		fputs(" --register-with-taints=\"", f);
		write_taints(f, b->taints);
		fputc('"', f);
	}
	if (b->max_pods > 0)
		fprintf(f, " --max-pods=%lld", (long long)b->max_pods);
	fputs("'\n--" BOUNDARY "--\n", f);
}

static void al2023(FILE *f, const struct ec2_cluster_info *c, const struct ec2_bootstrap *b,
		   const char *user)
{
	mime_head(f);
	/* nodeadm merges NodeConfigs in order: the user's come after kerf's and win. */
	fputs("--" BOUNDARY "\nContent-Type: application/node.eks.aws\n\n", f);
	fputs("apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec:\n  cluster:\n", f);
	fprintf(f, "    name: %s\n    apiServerEndpoint: %s\n    certificateAuthority: %s\n",
		c->name, c->endpoint, c->ca_b64);
	if (c->cidr)
		fprintf(f, "    cidr: %s\n", c->cidr);
	fputs("  kubelet:\n    config:\n", f);
	if (b->max_pods > 0)
		fprintf(f, "      maxPods: %lld\n", (long long)b->max_pods);
	if (c->dns_ip)
		fprintf(f, "      clusterDNS:\n      - %s\n", c->dns_ip);
	if (b->taints && b->taints->n) {
		fputs("      registerWithTaints:\n", f);
		for (size_t i = 0; i < b->taints->n; i++) {
			const struct kerf_taint *t = b->taints->items[i];
			fprintf(f, "      - key: %s\n", t->key);
			if (t->value)
				fprintf(f, "        value: %s\n", t->value);
			fprintf(f, "        effect: %s\n", effect(t->effect));
		}
	}
	fputs("    flags:\n    - --node-labels=", f);
	write_labels(f, b->labels);
	fputc('\n', f);
	write_user_parts(f, user, "application/node.eks.aws");
	fputs("--" BOUNDARY "--\n", f);
}

/* The keys kerf sets in [settings.kubernetes]; the user's lines for them are dropped. */
static bool kerf_key(const char *line, size_t len)
{
	static const char *const keys[] = {"cluster-name",   "api-server", "cluster-certificate",
					   "cluster-dns-ip", "max-pods",   NULL};

	while (len && (*line == ' ' || *line == '\t'))
		line++, len--;
	for (size_t i = 0; keys[i]; i++) {
		size_t k = strlen(keys[i]);
		if (len > k && strncmp(line, keys[i], k) == 0 && (line[k] == ' ' || line[k] == '='))
			return true;
	}
	return false;
}

static void bottlerocket_settings(FILE *f, const struct ec2_cluster_info *c,
				  const struct ec2_bootstrap *b)
{
	fprintf(f, "cluster-name = \"%s\"\napi-server = \"%s\"\ncluster-certificate = \"%s\"\n",
		c->name, c->endpoint, c->ca_b64);
	if (c->dns_ip)
		fprintf(f, "cluster-dns-ip = \"%s\"\n", c->dns_ip);
	if (b->max_pods > 0)
		fprintf(f, "max-pods = %lld\n", (long long)b->max_pods);
}

static void bottlerocket(FILE *f, const struct ec2_cluster_info *c, const struct ec2_bootstrap *b,
			 const char *user)
{
	bool in_k8s = false, wrote = false;

	for (const char *p = user ? user : ""; *p;) {
		size_t len = strcspn(p, "\n");
		const char *s = p + strspn(p, " \t");

		if (*s == '[') {
			in_k8s = strncmp(s, "[settings.kubernetes]", 21) == 0;
			fprintf(f, "%.*s\n", (int)len, p);
			if (in_k8s) {
				bottlerocket_settings(f, c, b);
				wrote = true;
			}
		} else if (!(in_k8s && kerf_key(p, len))) {
			fprintf(f, "%.*s\n", (int)len, p);
		}
		p += len + (p[len] == '\n');
	}
	if (!wrote) {
		fputs("[settings.kubernetes]\n", f);
		bottlerocket_settings(f, c, b);
	}
	if (b->labels && b->labels->n) {
		fputs("[settings.kubernetes.node-labels]\n", f);
		for (size_t i = 0; i < b->labels->n; i++)
			fprintf(f, "\"%s\" = \"%s\"\n", b->labels->items[i]->key,
				b->labels->items[i]->value ? b->labels->items[i]->value : "");
	}
	if (b->taints && b->taints->n) {
		fputs("[settings.kubernetes.node-taints]\n", f);
		for (size_t i = 0; i < b->taints->n; i++) {
			const struct kerf_taint *t = b->taints->items[i];
			fprintf(f, "\"%s\" = [\"%s:%s\"]\n", t->key, t->value ? t->value : "",
				effect(t->effect));
		}
	}
}

static void windows(FILE *f, const struct ec2_cluster_info *c, const struct ec2_bootstrap *b,
		    const char *user)
{
	fputs("<powershell>\n", f);
	if (user && *user)
		fprintf(f, "%s\n", user);
	fputs("[string]$EKSBootstrapScriptFile = "
	      "\"$env:ProgramFiles\\Amazon\\EKS\\Start-EKSBootstrap.ps1\"\n",
	      f);
	fprintf(f,
		"& $EKSBootstrapScriptFile -EKSClusterName '%s' -APIServerEndpoint '%s' "
		"-Base64ClusterCA '%s'",
		c->name, c->endpoint, c->ca_b64);
	if (c->dns_ip)
		fprintf(f, " -DNSClusterIP '%s'", c->dns_ip);
	fputs(" -KubeletExtraArgs '--node-labels=\"", f);
	write_labels(f, b->labels);
	fputc('"', f);
	if (b->taints && b->taints->n) {
		fputs(" --register-with-taints=\"", f);
		write_taints(f, b->taints);
		fputc('"', f);
	}
	if (b->max_pods > 0)
		fprintf(f, " --max-pods=%lld", (long long)b->max_pods);
	fputs("'\n</powershell>\n", f);
}

int ec2_user_data(const char *family, const struct ec2_cluster_info *c,
		  const struct ec2_bootstrap *b, const char *user, char **out,
		  struct kerf_error *err)
{
	struct out o;

	if (!family)
		family = "AL2023";
	if (strcmp(family, "Custom") == 0) {
		if (!user)
			return kerf_error_set(err, KERF_E_INVALID,
					      "amiFamily Custom: spec.userData is required, kerf "
					      "writes no bootstrap for a custom AMI");
		*out = strdup(user);
		if (!*out)
			abort();
		return 0;
	}
	out_open(&o);
	if (strcmp(family, "AL2") == 0)
		al2(o.f, c, b, user);
	else if (strcmp(family, "AL2023") == 0)
		al2023(o.f, c, b, user);
	else if (strcmp(family, "Bottlerocket") == 0)
		bottlerocket(o.f, c, b, user);
	else if (strcmp(family, "Windows2019") == 0 || strcmp(family, "Windows2022") == 0)
		windows(o.f, c, b, user);
	else {
		free(out_close(&o));
		return kerf_error_set(err, KERF_E_INVALID, "amiFamily %s: no user data for it",
				      family);
	}
	*out = out_close(&o);
	return 0;
}
