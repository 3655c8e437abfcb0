/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ec2_status.h - an EC2NodeClass's status from what its selectors
 * resolved to, as the API object keeps it.
 */
#ifndef KERF_EC2_STATUS_H
#define KERF_EC2_STATUS_H
#include <kerf/doc.h>
#include <kerf/types.h>
#include "ec2_launch.h"

/*
 * The JSON text (malloc'd) of an EC2NodeClass's whole status for `r`:
 * subnets (id, zone, zoneID) and security groups (id, name) sorted by id,
 * AMIs (id, name, their architecture as a requirement), instanceProfile,
 * and the conditions SubnetsReady, SecurityGroupsReady, AMIsReady,
 * InstanceProfileReady, ValidationSucceeded and Ready, the ones that are
 * False with Karpenter's reasons and messages.  A list that found nothing
 * is written empty, so a merge patch clears what an earlier status held.
 * `object` is the node class as stored (NULL allowed): a condition whose
 * status it already has keeps its lastTransitionTime, so the same
 * resolution gives the same text; others get now_ms.  observedGeneration
 * is the object's metadata.generation when it has one.
 */
char *ec2_status_json(const struct ec2_resolved *r, const struct kerf_doc_node *object,
		      kerf_wall_ms_t now_ms);
#endif
