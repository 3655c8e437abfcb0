/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ec2_userdata.h - the user data that makes an instance join the cluster.
 *
 * One format per AMI family, as the EKS-optimised AMIs read it:
 *  - AL2: a MIME multipart archive whose shell part runs
 *    /etc/eks/bootstrap.sh with the cluster's name, endpoint and CA and
 *    the node's labels, taints and max pods as kubelet flags;
 *  - AL2023: a MIME multipart archive with nodeadm's NodeConfig
 *    (application/node.eks.aws);
 *  - Bottlerocket: TOML settings;
 *  - Windows2019/2022: a PowerShell block calling the EKS bootstrap
 *    script;
 *  - Custom: the user's userData alone.
 * The EC2NodeClass's userData is merged in: on AL2 and AL2023 its parts
 * (a MIME archive's, or the whole text as one part) come first and kerf's
 * part last; on Bottlerocket kerf's cluster settings replace the same
 * keys of the user's [settings.kubernetes] and the rest is kept; on
 * Windows the user's PowerShell runs before the bootstrap.
 */
#ifndef KERF_EC2_USERDATA_H
#define KERF_EC2_USERDATA_H

#include <stdint.h>

#include <kerf/kerf.h>

struct ec2_cluster_info {
	const char *name;     /* the EKS cluster */
	const char *endpoint; /* https://... */
	const char *ca_b64;   /* the cluster CA, base64 PEM as EKS gives it */
	const char *cidr;     /* the service CIDR ("10.100.0.0/16"); NULL: not given */
	const char *dns_ip;   /* the cluster DNS address; NULL: the AMI's default */
};

struct ec2_bootstrap {
	const struct kerf_labels *labels;
	const struct kerf_taints *taints; /* registered with: taints and startup taints */
	int64_t max_pods;		  /* 0: the AMI's default */
};

/*
 * Writes the user data for amiFamily `family` into *out (malloc'd, caller
 * frees; plain text: the launch template base64-encodes it).  `user` is
 * the EC2NodeClass's userData, NULL when none.  KERF_E_INVALID for an
 * unknown family, or a Custom family without user data.
 */
int ec2_user_data(const char *family, const struct ec2_cluster_info *c,
		  const struct ec2_bootstrap *b, const char *user, char **out,
		  struct kerf_error *err);

#endif
