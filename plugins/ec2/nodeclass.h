/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nodeclass.h - EC2NodeClass (karpenter.k8s.aws/v1) as the EC2 provider
 * reads it: the spec in C structs, and the rules of Karpenter's AWS CRD.
 *
 * The core knows a node class only by its reference and its document; this
 * library is the provider's half.  It reads documents with the public
 * document API alone (kerf/doc.h) and reports every broken rule as kerf's
 * positioned diagnostics.  It is built apart from the ec2 plugin so that the
 * sim provider, which serves the EC2 catalogue, serves EC2NodeClass with it
 * too.  Memory comes from malloc: ec2_node_class_free() releases it.  Out
 * of memory aborts, as in libkerf's decoders.
 */
#ifndef KERF_EC2_NODECLASS_H
#define KERF_EC2_NODECLASS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kerf/doc.h>
#include <kerf/provider.h>
#include <kerf/types.h>

/* One selector term: by tags (all must match), by id, or by name. */
struct ec2_selector_term {
	struct kerf_labels tags;
	char *id;
	char *name;
	char *alias;		       /* AMI terms only: "al2023@latest" */
	char *owner;		       /* AMI terms only */
	char *instance_match_criteria; /* capacity reservations: "open" | "targeted" */
	char *ssm_parameter;	       /* AMI terms only */
	char *owner_id;		       /* capacity reservations only: 12-digit account */
};

struct ec2_selector_terms {
	size_t n;
	struct ec2_selector_term *items;
};

struct ec2_block_device_mapping {
	char *device_name;
	bool root_volume;
	/* ebs; empty strings/zero when unset */
	int64_t volume_size_bytes;
	char *volume_type;
	int64_t iops;
	int64_t throughput; /* MiB/s */
	bool encrypted;
	bool delete_on_termination;
	char *kms_key_id;
	char *snapshot_id;
	bool has_encrypted;
	bool has_delete_on_termination;
	int32_t volume_initialization_rate; /* MiB/s, 0 when unset */
};

/* One entry of an EC2NodeClass's networkInterfaces. */
struct ec2_network_interface {
	int32_t network_card_index;
	int32_t device_index;
	bool efa_only; /* interfaceType efa-only; false: "interface" */
};

struct ec2_kubelet {
	int32_t max_pods;      /* 0 when unset */
	int32_t pods_per_core; /* 0 when unset */
	struct kerf_resources system_reserved;
	struct kerf_resources kube_reserved;
	struct kerf_labels eviction_hard;
	struct kerf_labels eviction_soft;
	struct kerf_labels eviction_soft_grace_period;
	int32_t eviction_max_pod_grace_period;	 /* seconds, -1 when unset */
	int32_t image_gc_high_threshold_percent; /* -1 when unset */
	int32_t image_gc_low_threshold_percent;	 /* -1 when unset */
	int64_t cpu_cfs_quota_set;		 /* -1 unset, 0 false, 1 true */
	size_t n_cluster_dns;
	char **cluster_dns;
};

struct ec2_node_class {
	struct ec2_selector_terms subnet_selector_terms;
	struct ec2_selector_terms security_group_selector_terms;
	struct ec2_selector_terms ami_selector_terms;
	struct ec2_selector_terms capacity_reservation_selector_terms;
	char *ami_family; /* AL2, AL2023, Bottlerocket, Windows2019, Windows2022, Custom */
	char *role;
	char *instance_profile;
	char *user_data;
	struct kerf_labels tags;
	struct ec2_kubelet kubelet;
	bool has_kubelet;
	size_t n_block_device_mappings;
	struct ec2_block_device_mapping *block_device_mappings;
	/* metadataOptions, with Karpenter's defaults filled in */
	char *http_endpoint;		     /* "enabled" */
	char *http_protocol_ipv6;	     /* "disabled" */
	int32_t http_put_response_hop_limit; /* 1 */
	char *http_tokens;		     /* "required" */
	int associate_public_ip_address;     /* -1 unset, 0 false, 1 true */
	char *instance_store_policy;	     /* NULL or "RAID0" */
	bool detailed_monitoring;
	char *context;
	int32_t ip_prefix_count;	 /* -1 when unset */
	int32_t tcp_established_timeout; /* connectionTracking, seconds; 0 when unset */
	int32_t udp_stream_timeout;	 /* seconds; 0 when unset */
	int32_t udp_timeout;		 /* seconds; 0 when unset */
	char *nested_virtualization;	 /* cpuOptions: "enabled", "disabled" or NULL */
	char *placement_group_id;	 /* placementGroupSelector, NULL when unset */
	char *placement_group_name;
	size_t n_network_interfaces;
	struct ec2_network_interface *network_interfaces;
};

/* { "karpenter.k8s.aws", "v1", "EC2NodeClass" }, then the end marker. */
extern const struct kerf_node_class_kind ec2_node_class_kinds[];

/*
 * What an EC2 provider declares (kerf_provider_ops, ABI 2.0): the AWS
 * well-known labels, the restricted domain karpenter.k8s.aws, and the
 * requirements that ask for GPU, accelerator and bare-metal types.
 */
extern const char *const ec2_well_known_labels[];
extern const char *const ec2_restricted_label_domains[];
extern const struct kerf_class_selector ec2_class_selectors[];

/*
 * kerf_provider_ops.validate_node_class for EC2NodeClass: spec and status
 * checked against the CRD.  Returns 0 or KERF_E_CONFIG (problems reported
 * through d).
 */
int ec2_validate_node_class(const struct kerf_doc_node *object, struct kerf_decoder *d);

/*
 * Reads the whole object into *out (zeroed here, Karpenter's defaults
 * filled in), reporting problems through d.  The caller frees what *out
 * holds with ec2_node_class_clear() whatever it returns.  Returns 0 or
 * KERF_E_CONFIG.
 */
int ec2_node_class_decode(const struct kerf_doc_node *object, struct kerf_decoder *d,
			  struct ec2_node_class *out);

/*
 * A provider's way in: the EC2NodeClass of a node class the host hands it,
 * read from its document.  *out is the caller's, freed with
 * ec2_node_class_free().  KERF_E_INVALID when nc is not an EC2NodeClass,
 * KERF_E_CONFIG with the first diagnostic when its document breaks a rule.
 */
int ec2_node_class_parse(const struct kerf_node_class *nc, struct ec2_node_class **out,
			 struct kerf_error *err);

void ec2_node_class_clear(struct ec2_node_class *e);
void ec2_node_class_free(struct ec2_node_class *e); /* NULL allowed */

/*
 * An instance type's capacity and allocatable under the node class, as
 * Karpenter's AWS provider computes them, from the figures Karpenter's
 * defaults give it (in: ENI-limited pods, a 20 GiB root volume, default
 * kube-reserved and eviction thresholds, no system-reserved; out: the
 * class's).  Pods: kubelet.maxPods, else the default, capped at podsPerCore
 * x vCPUs (not on Bottlerocket); cpu, memory and ephemeral-storage less
 * kubeReserved (else Karpenter's defaults for the pod count), systemReserved
 * and the larger of evictionHard and evictionSoft (memory.available,
 * nodefs.available; else 100Mi and 10%); ephemeral-storage is the root
 * volume of blockDeviceMappings (rootVolume, else the AMI family's root
 * device) when one is given.  nc NULL leaves both as they are.
 */
void ec2_node_class_resources(const struct ec2_node_class *nc, struct kerf_resources *capacity,
			      struct kerf_resources *allocatable);

/*
 * What EC2 says of an instance type that its resources depend on: vCPUs,
 * memory, the pods its default network card's ENIs can address, and its
 * devices (0 for none).
 */
struct ec2_type_figures {
	int64_t vcpus;
	int64_t memory_mib;
	int64_t eni_pods;
	int64_t nvidia_gpus, amd_gpus, neuron_devices, efa_interfaces, pod_enis;
};

/*
 * An instance type's capacity and allocatable under Karpenter's defaults,
 * the figures ec2_node_class_resources() starts from (and the catalogue's
 * alloc_* columns hold): cpu less kube-reserved; memory less the VM
 * overhead (vm_overhead_milli thousandths of a percent of it, rounded up
 * to a whole MiB: 7500 is Karpenter's 7.5 %), kube-reserved for eni_pods
 * pods and the 100Mi eviction threshold; a 20 GiB root volume less 1 GiB
 * and 10 %; devices as given.  Capacity keeps the type's whole memory.
 * Both are initialised here.
 */
void ec2_default_resources(const struct ec2_type_figures *f, int64_t vm_overhead_milli,
			   struct kerf_resources *capacity, struct kerf_resources *allocatable);

/* The CRDs' quantity pattern (sign allowed). */
bool ec2_quantity_pattern(const char *s);

#endif
