/* SPDX-License-Identifier: Apache-2.0 */
/*
 * crd.c - the field tree of NodePool, NodeClaim and EC2NodeClass, and the
 * CustomResourceDefinitions made from it (see crd.h).
 *
 * Property lists the core's manifest decoder checks are named *_fields
 * (tests/compat-matrix.sh reads them); the others, *_props, only shape the
 * CRD (EC2NodeClass is decoded by the ec2 plugin, conditions by code).
 *
 * The patterns are RE2 syntax (what kube-apiserver evaluates); the rules
 * the decoder checks in code beyond them (CEL-like cross-field rules,
 * restricted label domains) stay in the decoder.
 */
#include "crd.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util.h"

/* ------------------------------------------------------------ shared pieces */

#define DURATION "^([0-9]+[smh])+$"
#define DURATION_OR_NEVER "^(([0-9]+[smh])+|Never)$"
#define LABEL_KEY                                                                                  \
	"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"                    \
	"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$"
#define LABEL_VALUE "^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$"
#define QUANTITY "^[+-]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)(([KMGTPE]i)|[numkMGTPE]|[eE][+-]?[0-9]+)?$"

static const struct crd_node str = {.type = CRD_STRING};
static const struct crd_node str_map = {.type = CRD_STRING_MAP};
static const struct crd_node quantities = {.type = CRD_QUANTITY_MAP};
static const struct crd_node date_time = {.type = CRD_STRING, .format = "date-time"};
static const struct crd_node boolean = {.type = CRD_BOOLEAN};
static const struct crd_node int64 = {.type = CRD_INTEGER, .format = "int64"};
static const struct crd_node str_list = {.type = CRD_ARRAY, .items = &str};

static const char *const operators[] = {"In",  "NotIn", "Exists", "DoesNotExist", "Gt", "Lt",
					"Gte", "Lte",	NULL};
static const char *const effects[] = {"NoSchedule", "PreferNoSchedule", "NoExecute", NULL};
static const char *const cond_status[] = {"True", "False", "Unknown", NULL};

/* Scheduling requirements, as NodePool templates and NodeClaims carry them. */
static const struct crd_node req_key = {
    .type = CRD_STRING, .pattern = LABEL_KEY, .max_length = 316};
static const struct crd_node req_operator = {.type = CRD_STRING, .enums = operators};
static const struct crd_node req_value = {
    .type = CRD_STRING, .pattern = LABEL_VALUE, .max_length = 63};
static const struct crd_node req_values = {
    .type = CRD_ARRAY, .items = &req_value, .list_type = "atomic"};
static const struct crd_node req_min_values = {
    .type = CRD_INTEGER, .has_min = true, .min = 1, .has_max = true, .max = 50};
static const struct crd_prop requirement_fields[] = {{"key", &req_key},
						     {"operator", &req_operator},
						     {"values", &req_values},
						     {"minValues", &req_min_values},
						     {NULL, NULL}};
static const char *const requirement_required[] = {"key", "operator", NULL};
const struct crd_node crd_requirement = {
    .type = CRD_OBJECT,
    .desc = "A node selector requirement: a label key, an operator and values.",
    .props = requirement_fields,
    .required = requirement_required};
static const struct crd_node requirements = {
    .type = CRD_ARRAY, .items = &crd_requirement, .max_items = 100, .list_type = "atomic"};

static const struct crd_node taint_key = {
    .type = CRD_STRING, .pattern = LABEL_KEY, .max_length = 316};
static const struct crd_node taint_value = {
    .type = CRD_STRING, .pattern = LABEL_VALUE, .max_length = 63};
static const struct crd_node taint_effect = {.type = CRD_STRING, .enums = effects};
static const struct crd_prop taint_fields[] = {{"key", &taint_key},
					       {"value", &taint_value},
					       {"effect", &taint_effect},
					       {"timeAdded", &date_time},
					       {NULL, NULL}};
static const char *const taint_required[] = {"key", "effect", NULL};
const struct crd_node crd_taint = {
    .type = CRD_OBJECT, .props = taint_fields, .required = taint_required};
static const struct crd_node taints = {
    .type = CRD_ARRAY, .items = &crd_taint, .list_type = "atomic"};

static const struct crd_node group_name = {.type = CRD_STRING, .pattern = "^[^/]*$"};
static const struct crd_node nonempty = {.type = CRD_STRING, .pattern = "^.+$"};
static const struct crd_prop ref_fields[] = {
    {"group", &group_name}, {"kind", &nonempty}, {"name", &nonempty}, {NULL, NULL}};
static const char *const ref_required[] = {"group", "kind", "name", NULL};
const struct crd_node crd_node_class_ref = {
    .type = CRD_OBJECT,
    .desc = "The provider's node class this node is made from (an EC2NodeClass on AWS).",
    .props = ref_fields,
    .required = ref_required};

static const struct crd_node expire_after = {
    .type = CRD_STRING,
    .desc = "How long a node lives before it is replaced; \"Never\" keeps it.",
    .pattern = DURATION_OR_NEVER,
    .def = "\"720h\""};
static const struct crd_node grace = {
    .type = CRD_STRING,
    .desc = "How long a draining node waits for its pods before it is deleted anyway.",
    .pattern = DURATION};

/* Conditions, as metav1.Condition. */
static const struct crd_node cond_type = {
    .type = CRD_STRING, .pattern = LABEL_KEY, .max_length = 316};
static const struct crd_node cond_status_n = {.type = CRD_STRING, .enums = cond_status};
static const struct crd_node cond_reason = {.type = CRD_STRING,
					    .pattern =
						"^([A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?)?$",
					    .max_length = 1024};
static const struct crd_node cond_message = {.type = CRD_STRING, .max_length = 32768};
static const struct crd_node cond_generation = {
    .type = CRD_INTEGER, .format = "int64", .has_min = true, .min = 0};
static const struct crd_prop condition_props[] = {{"type", &cond_type},
						  {"status", &cond_status_n},
						  {"reason", &cond_reason},
						  {"message", &cond_message},
						  {"lastTransitionTime", &date_time},
						  {"observedGeneration", &cond_generation},
						  {NULL, NULL}};
static const char *const condition_required[] = {"type", "status", "lastTransitionTime", NULL};
static const struct crd_node condition = {
    .type = CRD_OBJECT, .props = condition_props, .required = condition_required};
static const struct crd_node conditions = {
    .type = CRD_ARRAY, .items = &condition, .list_type = "map", .list_key = "type"};

/* ------------------------------------------------------------ NodePool */

static const char *const reasons[] = {"Underutilized", "Empty", "Drifted", NULL};
static const struct crd_node budget_reason = {.type = CRD_STRING, .enums = reasons};
static const struct crd_node budget_reasons = {
    .type = CRD_ARRAY, .items = &budget_reason, .max_items = 50, .list_type = "set"};
static const struct crd_node budget_nodes = {
    .type = CRD_STRING,
    .desc = "How many nodes may be disrupted at once: a count or a percentage.",
    .pattern = "^((100|[1-9]?[0-9])%|[0-9]+)$",
    .def = "\"10%\""};
static const struct crd_node budget_schedule = {
    .type = CRD_STRING,
    .desc = "A cron schedule (UTC) for when the budget applies; needs duration.",
    .pattern = "^(@(annually|yearly|monthly|weekly|daily|midnight|hourly)|[^ ]+( +[^ ]+){4})$"};
static const struct crd_node budget_duration = {
    .type = CRD_STRING,
    .desc = "How long the budget applies after each scheduled start; needs schedule.",
    .pattern = "^(([0-9]+h([0-9]+m)?)|([0-9]+m))(0s)?$"};
static const struct crd_prop budget_fields[] = {{"nodes", &budget_nodes},
						{"schedule", &budget_schedule},
						{"duration", &budget_duration},
						{"reasons", &budget_reasons},
						{NULL, NULL}};
static const char *const budget_required[] = {"nodes", NULL};
const struct crd_node crd_budget = {
    .type = CRD_OBJECT, .props = budget_fields, .required = budget_required};
static const struct crd_node budgets = {.type = CRD_ARRAY,
					.desc =
					    "Limits on how many nodes disruption may take at once.",
					.items = &crd_budget,
					.max_items = 50,
					.def = "[{\"nodes\":\"10%\"}]",
					.list_type = "atomic"};
static const char *const policies[] = {"WhenEmpty", "WhenEmptyOrUnderutilized", "Balanced", NULL};
static const struct crd_node consolidation_policy = {
    .type = CRD_STRING, .enums = policies, .def = "\"WhenEmptyOrUnderutilized\""};
static const struct crd_node consolidate_after = {
    .type = CRD_STRING,
    .desc = "How long a node must have seen no pod come or go before it may be consolidated.",
    .pattern = DURATION_OR_NEVER};
static const struct crd_prop disruption_fields[] = {{"budgets", &budgets},
						    {"consolidateAfter", &consolidate_after},
						    {"consolidationPolicy", &consolidation_policy},
						    {NULL, NULL}};
static const char *const disruption_required[] = {"consolidateAfter", NULL};
const struct crd_node crd_disruption = {.type = CRD_OBJECT,
					.desc =
					    "How nodes of this pool are consolidated and replaced.",
					.props = disruption_fields,
					.required = disruption_required,
					.def = "{\"consolidateAfter\":\"0s\"}"};

static const struct crd_node labels_map = {.type = CRD_STRING_MAP, .map_type = "atomic"};
static const struct crd_node annotations_map = {.type = CRD_STRING_MAP, .map_type = "granular"};
static const struct crd_prop template_meta_fields[] = {
    {"labels", &labels_map}, {"annotations", &annotations_map}, {NULL, NULL}};
const struct crd_node crd_template_meta = {.type = CRD_OBJECT, .props = template_meta_fields};
static const struct crd_prop template_spec_fields[] = {{"expireAfter", &expire_after},
						       {"nodeClassRef", &crd_node_class_ref},
						       {"requirements", &requirements},
						       {"startupTaints", &taints},
						       {"taints", &taints},
						       {"terminationGracePeriod", &grace},
						       {NULL, NULL}};
static const char *const template_spec_required[] = {"nodeClassRef", "requirements", NULL};
const struct crd_node crd_template_spec = {
    .type = CRD_OBJECT, .props = template_spec_fields, .required = template_spec_required};
static const struct crd_prop template_fields[] = {
    {"metadata", &crd_template_meta}, {"spec", &crd_template_spec}, {NULL, NULL}};
static const char *const template_required[] = {"spec", NULL};
const struct crd_node crd_template = {.type = CRD_OBJECT,
				      .desc = "What every NodeClaim of this pool is made from.",
				      .props = template_fields,
				      .required = template_required};
static const struct crd_node replicas = {
    .type = CRD_INTEGER,
    .desc = "A static pool's node count; without it the pool scales with its pods.",
    .format = "int64",
    .has_min = true,
    .min = 0};
static const struct crd_node weight = {.type = CRD_INTEGER,
				       .desc = "Pools of higher weight are tried first.",
				       .format = "int32",
				       .has_min = true,
				       .min = 1,
				       .has_max = true,
				       .max = 100};
static const struct crd_node limits = {
    .type = CRD_QUANTITY_MAP,
    .desc = "The most resources (cpu, memory, nodes, ...) the pool's nodes may add up to."};
static const struct crd_prop nodepool_spec_fields[] = {
    {"disruption", &crd_disruption}, {"limits", &limits}, {"replicas", &replicas},
    {"template", &crd_template},     {"weight", &weight}, {NULL, NULL}};
static const char *const nodepool_spec_required[] = {"template", NULL};
const struct crd_node crd_nodepool_spec = {
    .type = CRD_OBJECT, .props = nodepool_spec_fields, .required = nodepool_spec_required};
static const struct crd_prop nodepool_status_fields[] = {{"conditions", &conditions},
							 {"nodeClassObservedGeneration", &int64},
							 {"nodes", &int64},
							 {"resources", &quantities},
							 {NULL, NULL}};
const struct crd_node crd_nodepool_status = {.type = CRD_OBJECT, .props = nodepool_status_fields};

/* ------------------------------------------------------------ NodeClaim */

static const struct crd_prop nodeclaim_resources_fields[] = {{"requests", &quantities},
							     {NULL, NULL}};
const struct crd_node crd_nodeclaim_resources = {
    .type = CRD_OBJECT,
    .desc = "The resources the pods planned for this node request.",
    .props = nodeclaim_resources_fields};
static const struct crd_prop nodeclaim_spec_fields[] = {
    {"expireAfter", &expire_after},	{"nodeClassRef", &crd_node_class_ref},
    {"requirements", &requirements},	{"resources", &crd_nodeclaim_resources},
    {"startupTaints", &taints},		{"taints", &taints},
    {"terminationGracePeriod", &grace}, {NULL, NULL}};
static const char *const nodeclaim_spec_required[] = {"nodeClassRef", "requirements", NULL};
const struct crd_node crd_nodeclaim_spec = {
    .type = CRD_OBJECT, .props = nodeclaim_spec_fields, .required = nodeclaim_spec_required};
static const struct crd_prop nodeclaim_status_fields[] = {{"allocatable", &quantities},
							  {"capacity", &quantities},
							  {"conditions", &conditions},
							  {"imageID", &str},
							  {"lastPodEventTime", &date_time},
							  {"nodeName", &str},
							  {"providerID", &str},
							  {NULL, NULL}};
const struct crd_node crd_nodeclaim_status = {.type = CRD_OBJECT, .props = nodeclaim_status_fields};

/* ------------------------------------------------------------ EC2NodeClass */

static const char *const ami_families[] = {
    "AL2", "AL2023", "Bottlerocket", "Custom", "Windows2019", "Windows2022", NULL};
static const char *const enabled_disabled[] = {"enabled", "disabled", NULL};
static const char *const tokens[] = {"required", "optional", NULL};
static const char *const raid0[] = {"RAID0", NULL};
static const char *const volume_types[] = {"standard", "io1", "io2", "gp2",
					   "sc1",      "st1", "gp3", NULL};
static const char *const match_criteria[] = {"open", "targeted", NULL};
static const char *const interface_types[] = {"interface", "efa-only", NULL};

static const struct crd_node subnet_id = {.type = CRD_STRING, .pattern = "^subnet-[0-9a-z]+$"};
static const struct crd_node sg_id = {.type = CRD_STRING, .pattern = "^sg-[0-9a-z]+$"};
static const struct crd_node ami_id = {.type = CRD_STRING, .pattern = "^ami-[0-9a-z]+$"};
static const struct crd_node cr_id = {.type = CRD_STRING, .pattern = "^cr-[0-9a-z]+$"};
static const struct crd_node pg_id = {.type = CRD_STRING, .pattern = "^pg-[0-9a-z]+$"};
static const struct crd_node owner_id = {.type = CRD_STRING, .pattern = "^[0-9]{12}$"};
static const struct crd_node alias = {.type = CRD_STRING, .max_length = 30};

static const struct crd_prop subnet_term_props[] = {
    {"id", &subnet_id}, {"tags", &str_map}, {NULL, NULL}};
static const struct crd_node subnet_term = {.type = CRD_OBJECT, .props = subnet_term_props};
static const struct crd_prop sg_term_props[] = {
    {"id", &sg_id}, {"name", &str}, {"tags", &str_map}, {NULL, NULL}};
static const struct crd_node sg_term = {.type = CRD_OBJECT, .props = sg_term_props};
static const struct crd_prop ami_term_props[] = {
    {"alias", &alias},	    {"id", &ami_id},	{"name", &str}, {"owner", &str},
    {"ssmParameter", &str}, {"tags", &str_map}, {NULL, NULL}};
static const struct crd_node ami_term = {.type = CRD_OBJECT, .props = ami_term_props};
static const struct crd_node match_criteria_n = {.type = CRD_STRING, .enums = match_criteria};
static const struct crd_prop cr_term_props[] = {{"id", &cr_id},
						{"instanceMatchCriteria", &match_criteria_n},
						{"ownerID", &owner_id},
						{"tags", &str_map},
						{NULL, NULL}};
static const struct crd_node cr_term = {.type = CRD_OBJECT, .props = cr_term_props};
static const struct crd_node subnet_terms = {
    .type = CRD_ARRAY, .items = &subnet_term, .min_items = 1, .max_items = 30};
static const struct crd_node sg_terms = {
    .type = CRD_ARRAY, .items = &sg_term, .min_items = 1, .max_items = 30};
static const struct crd_node ami_terms = {
    .type = CRD_ARRAY, .items = &ami_term, .min_items = 1, .max_items = 30};
static const struct crd_node cr_terms = {.type = CRD_ARRAY, .items = &cr_term, .max_items = 30};

static const struct crd_node int32_min0 = {
    .type = CRD_INTEGER, .format = "int32", .has_min = true, .min = 0};
static const struct crd_node int32 = {.type = CRD_INTEGER, .format = "int32"};
static const struct crd_node percent = {
    .type = CRD_INTEGER, .format = "int32", .has_min = true, .min = 0, .has_max = true, .max = 100};
static const struct crd_prop kubelet_props[] = {{"clusterDNS", &str_list},
						{"cpuCFSQuota", &boolean},
						{"evictionHard", &str_map},
						{"evictionMaxPodGracePeriod", &int32},
						{"evictionSoft", &str_map},
						{"evictionSoftGracePeriod", &str_map},
						{"imageGCHighThresholdPercent", &percent},
						{"imageGCLowThresholdPercent", &percent},
						{"kubeReserved", &str_map},
						{"maxPods", &int32_min0},
						{"podsPerCore", &int32_min0},
						{"systemReserved", &str_map},
						{NULL, NULL}};
static const struct crd_node kubelet = {
    .type = CRD_OBJECT,
    .desc = "Kubelet settings kerf also uses to compute allocatable resources.",
    .props = kubelet_props};

static const struct crd_node volume_type = {.type = CRD_STRING, .enums = volume_types};
static const struct crd_node volume_size = {.type = CRD_STRING, .pattern = QUANTITY};
static const struct crd_node init_rate = {.type = CRD_INTEGER,
					  .format = "int32",
					  .has_min = true,
					  .min = 100,
					  .has_max = true,
					  .max = 300};
static const struct crd_prop ebs_props[] = {{"deleteOnTermination", &boolean},
					    {"encrypted", &boolean},
					    {"iops", &int64},
					    {"kmsKeyID", &str},
					    {"snapshotID", &str},
					    {"throughput", &int64},
					    {"volumeInitializationRate", &init_rate},
					    {"volumeSize", &volume_size},
					    {"volumeType", &volume_type},
					    {NULL, NULL}};
static const struct crd_node ebs = {.type = CRD_OBJECT, .props = ebs_props};
static const struct crd_prop bdm_props[] = {
    {"deviceName", &str}, {"ebs", &ebs}, {"rootVolume", &boolean}, {NULL, NULL}};
static const struct crd_node bdm = {.type = CRD_OBJECT, .props = bdm_props};
static const struct crd_node bdms = {.type = CRD_ARRAY, .items = &bdm, .max_items = 50};

static const struct crd_node endpoint = {
    .type = CRD_STRING, .enums = enabled_disabled, .def = "\"enabled\""};
static const struct crd_node ipv6 = {
    .type = CRD_STRING, .enums = enabled_disabled, .def = "\"disabled\""};
static const struct crd_node hop_limit = {.type = CRD_INTEGER,
					  .format = "int64",
					  .def = "1",
					  .has_min = true,
					  .min = 1,
					  .has_max = true,
					  .max = 64};
static const struct crd_node http_tokens = {
    .type = CRD_STRING, .enums = tokens, .def = "\"required\""};
static const struct crd_prop metadata_options_props[] = {{"httpEndpoint", &endpoint},
							 {"httpProtocolIPv6", &ipv6},
							 {"httpPutResponseHopLimit", &hop_limit},
							 {"httpTokens", &http_tokens},
							 {NULL, NULL}};
static const struct crd_node metadata_options = {
    .type = CRD_OBJECT,
    .desc = "The instance metadata service's settings.",
    .props = metadata_options_props,
    .def = "{\"httpEndpoint\":\"enabled\",\"httpProtocolIPv6\":\"disabled\","
	   "\"httpPutResponseHopLimit\":1,\"httpTokens\":\"required\"}"};

static const struct crd_node tcp_timeout = {.type = CRD_INTEGER,
					    .format = "int32",
					    .has_min = true,
					    .min = 60,
					    .has_max = true,
					    .max = 432000};
static const struct crd_node udp_stream_timeout = {.type = CRD_INTEGER,
						   .format = "int32",
						   .has_min = true,
						   .min = 60,
						   .has_max = true,
						   .max = 180};
static const struct crd_node udp_timeout = {
    .type = CRD_INTEGER, .format = "int32", .has_min = true, .min = 30, .has_max = true, .max = 60};
static const struct crd_prop conntrack_props[] = {{"tcpEstablishedTimeout", &tcp_timeout},
						  {"udpStreamTimeout", &udp_stream_timeout},
						  {"udpTimeout", &udp_timeout},
						  {NULL, NULL}};
static const struct crd_node conntrack = {.type = CRD_OBJECT, .props = conntrack_props};
static const struct crd_node nested_virt = {.type = CRD_STRING, .enums = enabled_disabled};
static const struct crd_prop cpu_options_props[] = {{"nestedVirtualization", &nested_virt},
						    {NULL, NULL}};
static const struct crd_node cpu_options = {.type = CRD_OBJECT, .props = cpu_options_props};
static const struct crd_prop pg_props[] = {{"id", &pg_id}, {"name", &str}, {NULL, NULL}};
static const struct crd_node pg_selector = {.type = CRD_OBJECT, .props = pg_props};
static const struct crd_node iface_type = {.type = CRD_STRING, .enums = interface_types};
static const struct crd_prop iface_props[] = {{"deviceIndex", &int32_min0},
					      {"interfaceType", &iface_type},
					      {"networkCardIndex", &int32_min0},
					      {NULL, NULL}};
static const char *const iface_required[] = {"deviceIndex", "interfaceType", "networkCardIndex",
					     NULL};
static const struct crd_node iface = {
    .type = CRD_OBJECT, .props = iface_props, .required = iface_required};
static const struct crd_node ifaces = {.type = CRD_ARRAY, .items = &iface, .max_items = 150};
static const struct crd_node ami_family = {.type = CRD_STRING, .enums = ami_families};
static const struct crd_node store_policy = {.type = CRD_STRING, .enums = raid0};

static const struct crd_prop ec2_spec_props[] = {{"amiFamily", &ami_family},
						 {"amiSelectorTerms", &ami_terms},
						 {"associatePublicIPAddress", &boolean},
						 {"blockDeviceMappings", &bdms},
						 {"capacityReservationSelectorTerms", &cr_terms},
						 {"connectionTracking", &conntrack},
						 {"context", &str},
						 {"cpuOptions", &cpu_options},
						 {"detailedMonitoring", &boolean},
						 {"instanceProfile", &str},
						 {"instanceStorePolicy", &store_policy},
						 {"ipPrefixCount", &int32_min0},
						 {"kubelet", &kubelet},
						 {"metadataOptions", &metadata_options},
						 {"networkInterfaces", &ifaces},
						 {"placementGroupSelector", &pg_selector},
						 {"role", &str},
						 {"securityGroupSelectorTerms", &sg_terms},
						 {"subnetSelectorTerms", &subnet_terms},
						 {"tags", &str_map},
						 {"userData", &str},
						 {NULL, NULL}};
static const char *const ec2_spec_required[] = {"amiSelectorTerms", "securityGroupSelectorTerms",
						"subnetSelectorTerms", NULL};
static const struct crd_node ec2_spec = {
    .type = CRD_OBJECT, .props = ec2_spec_props, .required = ec2_spec_required};

static const struct crd_node requirements_any = {.type = CRD_ARRAY, .items = &crd_requirement};
static const struct crd_prop status_ami_props[] = {{"deprecated", &boolean},
						   {"id", &str},
						   {"name", &str},
						   {"requirements", &requirements_any},
						   {NULL, NULL}};
static const char *const status_ami_required[] = {"id", "requirements", NULL};
static const struct crd_node status_ami = {
    .type = CRD_OBJECT, .props = status_ami_props, .required = status_ami_required};
static const struct crd_prop status_cr_props[] = {{"availabilityZone", &str},
						  {"endTime", &date_time},
						  {"id", &cr_id},
						  {"instanceMatchCriteria", &match_criteria_n},
						  {"instanceType", &str},
						  {"interruptible", &boolean},
						  {"ownerID", &owner_id},
						  {"reservationType", &str},
						  {"state", &str},
						  {NULL, NULL}};
static const struct crd_node status_cr = {.type = CRD_OBJECT, .props = status_cr_props};
static const struct crd_prop status_sg_props[] = {{"id", &str}, {"name", &str}, {NULL, NULL}};
static const struct crd_node status_sg = {.type = CRD_OBJECT, .props = status_sg_props};
static const struct crd_prop status_subnet_props[] = {
    {"id", &str}, {"zone", &str}, {"zoneID", &str}, {NULL, NULL}};
static const struct crd_node status_subnet = {.type = CRD_OBJECT, .props = status_subnet_props};
static const struct crd_node status_amis = {.type = CRD_ARRAY, .items = &status_ami};
static const struct crd_node status_crs = {.type = CRD_ARRAY, .items = &status_cr};
static const struct crd_node status_sgs = {.type = CRD_ARRAY, .items = &status_sg};
static const struct crd_node status_subnets = {.type = CRD_ARRAY, .items = &status_subnet};
static const struct crd_prop ec2_status_props[] = {{"amis", &status_amis},
						   {"capacityReservations", &status_crs},
						   {"conditions", &conditions},
						   {"instanceProfile", &str},
						   {"securityGroups", &status_sgs},
						   {"subnets", &status_subnets},
						   {NULL, NULL}};
static const struct crd_node ec2_status = {.type = CRD_OBJECT, .props = ec2_status_props};

/* ------------------------------------------------------------ field lists */

struct kind_def {
	const char *group, *kind, *plural, *singular, *short_name;
	const struct crd_node *spec, *status;
	bool scale; /* NodePool: replicas through the scale subresource */
	/* additionalPrinterColumns: name, type, JSONPath, priority */
	const char *const (*columns)[4];
};

static const char *const nodepool_columns[][4] = {
    {"NodeClass", "string", ".spec.template.spec.nodeClassRef.name", "0"},
    {"Nodes", "string", ".status.resources.nodes", "0"},
    {"Ready", "string", ".status.conditions[?(@.type==\"Ready\")].status", "0"},
    {"Age", "date", ".metadata.creationTimestamp", "0"},
    {"Weight", "integer", ".spec.weight", "1"},
    {NULL, NULL, NULL, NULL}};
static const char *const nodeclaim_columns[][4] = {
    {"Type", "string", ".metadata.labels.node\\.kubernetes\\.io/instance-type", "0"},
    {"Capacity", "string", ".metadata.labels.karpenter\\.sh/capacity-type", "0"},
    {"Zone", "string", ".metadata.labels.topology\\.kubernetes\\.io/zone", "0"},
    {"Node", "string", ".status.nodeName", "0"},
    {"Ready", "string", ".status.conditions[?(@.type==\"Ready\")].status", "0"},
    {"Age", "date", ".metadata.creationTimestamp", "0"},
    {"ID", "string", ".status.providerID", "1"},
    {"NodePool", "string", ".metadata.labels.karpenter\\.sh/nodepool", "1"},
    {NULL, NULL, NULL, NULL}};
static const char *const ec2_columns[][4] = {
    {"Ready", "string", ".status.conditions[?(@.type==\"Ready\")].status", "0"},
    {"Age", "date", ".metadata.creationTimestamp", "0"},
    {"Role", "string", ".spec.role", "1"},
    {NULL, NULL, NULL, NULL}};

static const struct kind_def kinds[CRD_N_KINDS] = {
    [CRD_KIND_NODEPOOL] = {"karpenter.sh", "NodePool", "nodepools", "nodepool", NULL,
			   &crd_nodepool_spec, &crd_nodepool_status, true, nodepool_columns},
    [CRD_KIND_NODECLAIM] = {"karpenter.sh", "NodeClaim", "nodeclaims", "nodeclaim", NULL,
			    &crd_nodeclaim_spec, &crd_nodeclaim_status, false, nodeclaim_columns},
    [CRD_KIND_EC2NODECLASS] = {"karpenter.k8s.aws", "EC2NodeClass", "ec2nodeclasses",
			       "ec2nodeclass", "ec2nc", &ec2_spec, &ec2_status, false, ec2_columns},
};

struct names_entry {
	const struct crd_node *node;
	const char **names;
};

static struct names_entry *names_tab;
static size_t n_names, cap_names;
static pthread_once_t names_once = PTHREAD_ONCE_INIT;

static void names_build(const struct crd_node *n)
{
	if (!n)
		return;
	if (n->type == CRD_ARRAY) {
		names_build(n->items);
		return;
	}
	if (n->type != CRD_OBJECT)
		return;
	for (size_t i = 0; i < n_names; i++)
		if (names_tab[i].node == n)
			return;
	size_t k = 0;
	while (n->props[k].name)
		k++;
	const char **names = xcalloc(k + 1, sizeof(*names));
	for (size_t i = 0; i < k; i++)
		names[i] = n->props[i].name;
	xgrow(names_tab, cap_names, n_names + 1);
	names_tab[n_names++] = (struct names_entry){n, names};
	for (size_t i = 0; i < k; i++)
		names_build(n->props[i].node);
}

static void names_init(void)
{
	for (int i = 0; i < CRD_N_KINDS; i++) {
		names_build(kinds[i].spec);
		names_build(kinds[i].status);
	}
}

const char *const *crd_fields(const struct crd_node *obj)
{
	pthread_once(&names_once, names_init);
	for (size_t i = 0; i < n_names; i++)
		if (names_tab[i].node == obj)
			return names_tab[i].names;
	return NULL;
}

/* ------------------------------------------------------------ OpenAPI schema */

static json_t *enum_list(const char *const *e)
{
	json_t *a = json_array();
	for (; *e; e++)
		json_array_append_new(a, json_string(*e));
	return a;
}

static json_t *quantity_schema(void)
{
	return json_pack("{s:[{s:s},{s:s}], s:s, s:b}", "anyOf", "type", "integer", "type",
			 "string", "pattern", QUANTITY, "x-kubernetes-int-or-string", true);
}

static json_t *schema_of(const struct crd_node *n)
{
	json_t *s = json_object();
	switch (n->type) {
	case CRD_OBJECT: {
		json_object_set_new(s, "type", json_string("object"));
		json_t *props = json_object();
		for (const struct crd_prop *p = n->props; p->name; p++)
			json_object_set_new(props, p->name, schema_of(p->node));
		json_object_set_new(s, "properties", props);
		if (n->required)
			json_object_set_new(s, "required", enum_list(n->required));
		break;
	}
	case CRD_ARRAY:
		json_object_set_new(s, "type", json_string("array"));
		json_object_set_new(s, "items", schema_of(n->items));
		break;
	case CRD_STRING:
		json_object_set_new(s, "type", json_string("string"));
		break;
	case CRD_INTEGER:
		json_object_set_new(s, "type", json_string("integer"));
		break;
	case CRD_BOOLEAN:
		json_object_set_new(s, "type", json_string("boolean"));
		break;
	case CRD_STRING_MAP:
		json_object_set_new(s, "type", json_string("object"));
		json_object_set_new(s, "additionalProperties",
				    json_pack("{s:s}", "type", "string"));
		break;
	case CRD_QUANTITY_MAP:
		json_object_set_new(s, "type", json_string("object"));
		json_object_set_new(s, "additionalProperties", quantity_schema());
		break;
	}
	if (n->desc)
		json_object_set_new(s, "description", json_string(n->desc));
	if (n->format)
		json_object_set_new(s, "format", json_string(n->format));
	if (n->pattern)
		json_object_set_new(s, "pattern", json_string(n->pattern));
	if (n->enums)
		json_object_set_new(s, "enum", enum_list(n->enums));
	if (n->def)
		json_object_set_new(s, "default", json_loads(n->def, JSON_DECODE_ANY, NULL));
	if (n->has_min)
		json_object_set_new(s, "minimum", json_integer(n->min));
	if (n->has_max)
		json_object_set_new(s, "maximum", json_integer(n->max));
	if (n->min_items)
		json_object_set_new(s, "minItems", json_integer(n->min_items));
	if (n->max_items)
		json_object_set_new(s, "maxItems", json_integer(n->max_items));
	if (n->max_length)
		json_object_set_new(s, "maxLength", json_integer(n->max_length));
	if (n->list_type)
		json_object_set_new(s, "x-kubernetes-list-type", json_string(n->list_type));
	if (n->list_key)
		json_object_set_new(s, "x-kubernetes-list-map-keys", json_pack("[s]", n->list_key));
	if (n->map_type)
		json_object_set_new(s, "x-kubernetes-map-type", json_string(n->map_type));
	return s;
}

json_t *crd_definition(int kind)
{
	if (kind < 0 || kind >= CRD_N_KINDS)
		return NULL;
	const struct kind_def *k = &kinds[kind];
	char name[128], list_kind[64];
	snprintf(name, sizeof(name), "%s.%s", k->plural, k->group);
	snprintf(list_kind, sizeof(list_kind), "%sList", k->kind);
	json_t *schema = json_pack(
	    "{s:s, s:s, s:{s:{s:s}, s:{s:s}, s:{s:s}, s:o, s:o}, s:[s]}", "type", "object",
	    "description", "Generated by kerfctl crds from kerf's manifest model.", "properties",
	    "apiVersion", "type", "string", "kind", "type", "string", "metadata", "type", "object",
	    "spec", schema_of(k->spec), "status", schema_of(k->status), "required", "spec");
	json_t *subres = json_pack("{s:{}}", "status");
	if (k->scale)
		json_object_set_new(subres, "scale",
				    json_pack("{s:s, s:s}", "specReplicasPath", ".spec.replicas",
					      "statusReplicasPath", ".status.nodes"));
	json_t *cols = json_array();
	for (size_t i = 0; k->columns[i][0]; i++) {
		json_t *c = json_pack("{s:s, s:s, s:s}", "name", k->columns[i][0], "type",
				      k->columns[i][1], "jsonPath", k->columns[i][2]);
		if (strcmp(k->columns[i][3], "0") != 0)
			json_object_set_new(c, "priority", json_integer(k->columns[i][3][0] - '0'));
		json_array_append_new(cols, c);
	}
	json_t *names =
	    json_pack("{s:[s], s:s, s:s, s:s, s:s}", "categories", "karpenter", "kind", k->kind,
		      "listKind", list_kind, "plural", k->plural, "singular", k->singular);
	if (k->short_name)
		json_object_set_new(names, "shortNames", json_pack("[s]", k->short_name));
	return json_pack("{s:s, s:s, s:{s:s, s:{s:s}}, s:{s:s, s:o, s:s, s:[{s:s, s:b, s:b, "
			 "s:o, s:{s:o}, s:o}]}}",
			 "apiVersion", "apiextensions.k8s.io/v1", "kind",
			 "CustomResourceDefinition", "metadata", "name", name, "labels",
			 "app.kubernetes.io/managed-by", "kerf", "spec", "group", k->group, "names",
			 names, "scope", "Cluster", "versions", "name", "v1", "served", true,
			 "storage", true, "additionalPrinterColumns", cols, "schema",
			 "openAPIV3Schema", schema, "subresources", subres);
}

/* ------------------------------------------------------------ YAML */

/* Strings YAML would read as something else, or that need escapes, go
 * double-quoted (JSON's escapes are YAML's). */
static bool needs_quotes(const char *s)
{
	static const char *const special[] = {"true", "false", "null", "yes", "no", "on",
					      "off",  "y",     "n",    "~",   NULL};
	if (!*s || strchr(" -?:,[]{}#&*!|>'\"%@`", s[0]) || s[strlen(s) - 1] == ' ')
		return true;
	for (const char *const *w = special; *w; w++)
		if (strcasecmp(s, *w) == 0)
			return true;
	if (strspn(s, "0123456789.+-eE") == strlen(s))
		return true;
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == '#' ||
		    (*p == ':' && (p[1] == ' ' || !p[1])) || *p == '\\' ||
		    (unsigned char)*p >= 0x7f)
			return true;
	return false;
}

static void put_scalar(FILE *f, const json_t *v)
{
	if (json_is_string(v) && !needs_quotes(json_string_value(v))) {
		fputs(json_string_value(v), f);
		return;
	}
	char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
	fputs(s, f);
	free(s);
}

static bool is_empty_coll(const json_t *v)
{
	return (json_is_object(v) && json_object_size(v) == 0) ||
	       (json_is_array(v) && json_array_size(v) == 0);
}

static void put_node(FILE *f, const json_t *v, int indent);

static void put_value_after_key(FILE *f, const json_t *v, int indent)
{
	if (is_empty_coll(v) || !(json_is_object(v) || json_is_array(v))) {
		fputc(' ', f);
		if (is_empty_coll(v))
			fputs(json_is_object(v) ? "{}" : "[]", f);
		else
			put_scalar(f, v);
		fputc('\n', f);
		return;
	}
	fputc('\n', f);
	put_node(f, v, json_is_array(v) ? indent : indent + 2);
}

static void put_node(FILE *f, const json_t *v, int indent)
{
	if (json_is_object(v)) {
		const char *k;
		json_t *x;
		json_object_foreach((json_t *)v, k, x) {
			fprintf(f, "%*s", indent, "");
			json_t *key = json_string(k);
			put_scalar(f, key);
			json_decref(key);
			fputc(':', f);
			put_value_after_key(f, x, indent);
		}
	} else if (json_is_array(v)) {
		size_t i;
		json_t *x;
		json_array_foreach(v, i, x) {
			fprintf(f, "%*s-", indent, "");
			if (json_is_object(x) && !is_empty_coll(x)) {
				/* The first key on the dash's line, the rest below it. */
				const char *k;
				json_t *y;
				bool first = true;
				json_object_foreach(x, k, y) {
					if (!first)
						fprintf(f, "%*s", indent + 2, "");
					else
						fputc(' ', f);
					first = false;
					json_t *key = json_string(k);
					put_scalar(f, key);
					json_decref(key);
					fputc(':', f);
					put_value_after_key(f, y, indent + 2);
				}
			} else if (json_is_array(x) && !is_empty_coll(x)) {
				fputc('\n', f);
				put_node(f, x, indent + 2);
			} else {
				put_value_after_key(f, x, indent);
			}
		}
	} else {
		fprintf(f, "%*s", indent, "");
		put_scalar(f, v);
		fputc('\n', f);
	}
}

void crd_write_yaml(FILE *f, const json_t *v)
{
	fputs("---\n", f);
	put_node(f, v, 0);
}
