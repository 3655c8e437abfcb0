/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sim_world.h - the simulated world the sim plugin's kinds share.
 *
 * One world holds the configuration, the EC2 catalogue and every instance
 * the simulated cloud launched.  The provider half (sim_cloud.c) launches
 * and terminates instances; the cluster half turns them into nodes, so it
 * reads the same instances and asks when each one registers and becomes
 * ready (sim_instance_time, sim_world_reached).  Nothing here keeps global
 * state: every random-looking decision is a hash of the seed and the thing
 * decided about, so results do not depend on call order.  The host calls
 * the ops from several threads at once; struct sim's lock (sim.h) guards
 * the world, and nothing here takes it.
 *
 * Everything is allocated with the host allocator of the instance that
 * created the world (w->host).  Internal to the plugin: the .so exports only
 * its descriptor.
 */
#ifndef KERF_SIM_WORLD_H
#define KERF_SIM_WORLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kerf/plugin.h>

/* Karpenter's AWS label keys, as the provider sets them on instance types and nodes. */
#define SIM_L_INSTANCE_TYPE "node.kubernetes.io/instance-type"
#define SIM_L_ARCH "kubernetes.io/arch"
#define SIM_L_OS "kubernetes.io/os"
#define SIM_L_REGION "topology.kubernetes.io/region"
#define SIM_L_ZONE "topology.kubernetes.io/zone"
#define SIM_L_CAPACITY_TYPE "karpenter.sh/capacity-type"
#define SIM_L_WINDOWS_BUILD "node.kubernetes.io/windows-build"

/* Tags Karpenter puts on the instances it launches. */
#define SIM_TAG_NODEPOOL "karpenter.sh/nodepool"
#define SIM_TAG_NODECLAIM "karpenter.sh/nodeclaim"
#define SIM_TAG_NODECLASS "karpenter.k8s.aws/ec2nodeclass"

/* One row of the catalogue.  Strings point into the world's copy of the file. */
struct sim_type {
	const char *name;
	const char *family;
	const char *category;
	const char *size;
	const char *arch;
	const char *cpu_manufacturer; /* NULL when the catalogue has '-' */
	const char *hypervisor;	      /* NULL for bare metal */
	const char *gpu_name;
	const char *gpu_manufacturer;
	const char *accelerator_name;
	const char *accelerator_manufacturer;
	/* -1 where the catalogue has '-' */
	int64_t generation;
	int64_t bare_metal;
	int64_t vcpu;
	int64_t memory_mib;
	int64_t gpu_count;
	int64_t gpu_memory_mib;
	int64_t accelerator_count;
	int64_t network_bandwidth_mbps;
	int64_t local_nvme_gb;
	int64_t encryption_in_transit;
	int64_t alloc_cpu_millicores;
	int64_t alloc_memory_mib;
	int64_t alloc_pods;
	int64_t alloc_ephemeral_mib;
	int64_t alloc_nvidia_gpu;
	int64_t alloc_amd_gpu;
	int64_t alloc_neuron;
	int64_t alloc_efa;
	int64_t alloc_pod_eni;
	kerf_price_t on_demand;	    /* micro-dollars per hour */
	kerf_price_t spot_estimate; /* -1: no spot offering */
	/* Filled in from the columns above once the row is read. */
	struct kerf_resources capacity;
	struct kerf_resources allocatable;
};

/* An unavailable_offerings or launch_failures entry: three fnmatch(3) patterns. */
struct sim_offer_pattern {
	char *type;
	char *zone;
	char *capacity_type;
};

struct sim_config {
	char *catalogue;
	char *region;
	size_t n_zones;
	char **zones;
	int64_t seed;
	int64_t spot_variation_percent;
	int64_t launch_delay_ms;    /* launch to registered (and EC2 state running) */
	int64_t ready_delay_ms;	    /* registered to ready */
	int64_t ready_spread_ms;    /* and up to this much more, per instance (seeded) */
	int64_t terminate_delay_ms; /* delete to gone */
	int64_t ice_probability_percent;
	size_t n_unavailable;
	struct sim_offer_pattern *unavailable;
	size_t n_launch_failures;
	struct sim_offer_pattern *launch_failures;
	size_t n_include;
	char **include_types; /* fnmatch(3) patterns; none: every type */
};

/* One instance the simulated cloud launched. */
struct sim_instance {
	char *provider_id; /* "aws:///us-east-1a/i-0123456789abcdef0" */
	char *claim;	   /* the NodeClaim's name: create is idempotent on it */
	const struct sim_type *type;
	/* The type's under the node class it was launched with (its kubelet, root volume). */
	struct kerf_resources capacity, allocatable;
	size_t zone; /* index into config.zones */
	kerf_capacity_type capacity_type;
	kerf_price_t price;
	char *image_id;
	struct kerf_labels tags; /* libkerf-allocated (kerf_labels_set) */
	int64_t launch_ms;
	bool deleted;
	int64_t delete_ms;    /* when deleted */
	int64_t interrupt_ms; /* when a scenario gave its interruption notice; 0: never */
	/*
	 * Launched by another provider (sim_cluster_writes.c): the simulated
	 * kubelet joins it, and it goes when its NodeClaim does.
	 */
	bool foreign;
};

/* How long a spot interruption notice gives before the instance goes, as EC2's. */
#define SIM_INTERRUPT_NOTICE_MS (2 * 60 * 1000)

struct sim_world {
	const struct kerf_host *host;
	struct sim_config cfg;
	char *catalogue_text; /* the file, split in place; sim_type strings point here */
	size_t n_types;
	size_t cap_types;
	struct sim_type *types;
	size_t n_instances;
	size_t cap_instances;
	/*
	 * Sorted by (launch_ms, claim, provider_id), so listing and walking
	 * them never depends on the order concurrent launches ran in.
	 * Pointers stay valid for the world's lifetime.
	 */
	struct sim_instance **instances;
	/* Where instance events go once the provider started (sim_cloud.c); on_instance NULL until
	 * then. */
	struct kerf_provider_sink events;
	/* Something the state file holds changed since it was written (sim_state.c). */
	bool dirty;
};

/* Points in an instance's life the cluster half cares about. */
enum sim_milestone {
	SIM_LAUNCHED,	/* create returned it; EC2 state pending */
	SIM_REGISTERED, /* launch_delay later: EC2 state running, the node joins */
	SIM_READY,	/* ready_delay after registering: the node is Ready */
	SIM_GONE,	/* terminate_delay after delete: no longer listed */
};

/* -------------------------------------------------------------- world */

/* Loads cfg->catalogue and takes ownership of cfg (zeroed on return either way). */
int sim_world_new(const struct kerf_host *host, struct sim_config *cfg, struct sim_world **out,
		  struct kerf_error *err);
void sim_world_free(struct sim_world *w);
void sim_config_clear(const struct kerf_host *host, struct sim_config *cfg);

/*
 * Parses the catalogue text (taken over: freed with the world) into
 * w->types, keeping only types include_types allows.  `path` names the
 * file in messages ("path:line: ...").
 */
int sim_catalogue_parse(struct sim_world *w, const char *path, char *text, struct kerf_error *err);

const struct sim_type *sim_world_type(const struct sim_world *w, const char *name);

/* ---------------------------------------------------------- offerings */

/* True when the type has an offering of this capacity type at all. */
bool sim_offer_exists(const struct sim_type *t, kerf_capacity_type ct);
/* Price in a zone: on-demand as catalogued, spot varied per (seed, type, zone). */
kerf_price_t sim_offer_price(const struct sim_world *w, const struct sim_type *t, size_t zone,
			     kerf_capacity_type ct);
/* False when the offering is out of capacity (seeded ICE or unavailable_offerings). */
bool sim_offer_available(const struct sim_world *w, const struct sim_type *t, size_t zone,
			 kerf_capacity_type ct);
/*
 * True when launching the offering fails for want of capacity although it
 * is listed as available (launch_failures), as EC2's fleet requests do.
 */
bool sim_offer_launch_fails(const struct sim_world *w, const struct sim_type *t, size_t zone,
			    kerf_capacity_type ct);

/*
 * The type's labels that do not depend on the offering, as Karpenter's AWS
 * provider sets them.  value NULL means Karpenter's DoesNotExist (the type
 * has no such property); "" is a real empty value (bare-metal hypervisor).
 */
#define SIM_MAX_LABELS 32
#define SIM_LABEL_VALUE_MAX 64
struct sim_label {
	const char *key;
	const char *value; /* NULL, a catalogue string, or buf */
	char buf[SIM_LABEL_VALUE_MAX];
};
size_t sim_type_labels(const struct sim_world *w, const struct sim_type *t,
		       struct sim_label out[SIM_MAX_LABELS]);

/*
 * The KERF_TYPE_* classes of a type, as Karpenter's AWS provider labels
 * it: GPU and accelerator types by their device counts or resources, bare
 * metal by its size.
 */
uint32_t sim_type_classes(const struct sim_type *t);

/* ---------------------------------------------------------- instances */

/*
 * Records a launch at now; returns the new instance (never NULL: the host
 * aborts on OOM).  Its ID hashes (seed, claim), so the launches of one
 * batch get the same IDs whatever order they run in.
 */
struct sim_instance *sim_world_launch(struct sim_world *w, const char *claim,
				      const struct sim_type *t, size_t zone, kerf_capacity_type ct,
				      int64_t now_ms);
/*
 * Adds an instance built elsewhere (a state file's) at its sorted place;
 * the world owns it from here.  False, and nothing added, when its ID is
 * taken.
 */
bool sim_world_add(struct sim_world *w, struct sim_instance *in);
/* Frees an instance the world does not hold. */
void sim_instance_free(const struct kerf_host *h, struct sim_instance *in);
struct sim_instance *sim_world_find_claim(const struct sim_world *w, const char *claim,
					  int64_t now_ms);
/* The instance with this provider ID, or NULL when unknown or gone by now_ms. */
struct sim_instance *sim_world_find_id(const struct sim_world *w, const char *provider_id,
				       int64_t now_ms);

/*
 * When the instance reaches milestone m, in wall milliseconds, or INT64_MAX
 * when it never will as things stand (deleted before registering, not
 * deleted yet).
 */
int64_t sim_instance_time(const struct sim_world *w, const struct sim_instance *in,
			  enum sim_milestone m);
/* EC2's state name at now_ms: "pending", "running", "shutting-down" or "terminated". */
const char *sim_instance_state(const struct sim_world *w, const struct sim_instance *in,
			       int64_t now_ms);

/*
 * Calls fn for every instance that reaches milestone m in (after_ms, by_ms],
 * in time order and by NodeClaim name within one time, and returns how
 * many there were.  The cluster half polls with after_ms = the previous
 * by_ms to see each transition once.
 */
size_t sim_world_reached(const struct sim_world *w, enum sim_milestone m, int64_t after_ms,
			 int64_t by_ms,
			 void (*fn)(void *arg, const struct sim_instance *in, int64_t at_ms),
			 void *arg);

/* ------------------------------------------------------ the cloud acting */

/*
 * What a scenario's interrupt or terminate picks: the first `count` live
 * instances, in launch order, that match every field set (NULL: any).
 */
struct sim_selector {
	char *nodeclaim;
	char *nodepool;
	char *instance_type;
	char *zone;
	char *capacity_type;
	int32_t count;
};

/*
 * The cloud interrupts the instances sel picks at at_ms: a
 * KERF_INSTANCE_INTERRUPTED event with a deadline SIM_INTERRUPT_NOTICE_MS
 * later, after which sim_world_settle terminates what kerf has not.
 * Instances already interrupted or terminating are passed over.  Returns
 * how many it interrupted.
 */
size_t sim_world_interrupt(struct sim_world *w, const struct sim_selector *sel, int64_t at_ms);
/* The cloud terminates the instances sel picks at at_ms (KERF_INSTANCE_TERMINATED). */
size_t sim_world_terminate(struct sim_world *w, const struct sim_selector *sel, int64_t at_ms);
/*
 * The live instances sel picks at at_ms, in launch order, into out (room
 * for sel->count); returns how many.
 */
size_t sim_world_pick(const struct sim_world *w, const struct sim_selector *sel, int64_t at_ms,
		      const struct sim_instance **out);
/* Terminates the interrupted instances whose deadline is at or before now_ms. */
void sim_world_settle(struct sim_world *w, int64_t now_ms);
/* Delivers an instance event, when the provider has been started. */
void sim_world_event(struct sim_world *w, const struct sim_instance *in,
		     kerf_instance_event_type type, int64_t at_ms, int64_t deadline_ms,
		     const char *reason);

#endif
