/* SPDX-License-Identifier: Apache-2.0 */
/*
 * state.h - the cluster as the controllers see it: one set of records and
 * indexes, owned here and read by every controller (provisioning today,
 * disruption next), instead of each keeping its own copy.
 *
 * Everything is touched from the loop thread only: plugin threads reach it
 * through the loop's event queue (evq.h), so there are no locks here.  The
 * records are copies of what the cluster and provider delivered, plus the
 * few facts the controllers agree on (a pod's nomination, a claim's
 * lifecycle).  Controllers react to changes themselves; this module only
 * applies them and keeps the indexes true.
 */
#ifndef KERF_CORE_STATE_H
#define KERF_CORE_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kerf/cluster.h>
#include <kerf/types.h>

#include "provision.h"
#include "util.h"

#define STATE_N_KINDS 6 /* KERF_OBJ_DAEMONSET is the last */

struct claim_rec;

struct pod_rec {
	char *key; /* "namespace/name" */
	struct kerf_pod *pod;
	size_t at; /* index in cluster_state.pods */
	struct claim_rec *nominated;
	bool refused; /* the last batch it was in could not place it */
	bool logged;  /* its reasons have been logged */
	/* The FailedScheduling message last queued for it, hashed (0: none): sent once each. */
	uint64_t event_hash;
	bool bound_seen; /* its binding was counted */
	size_t n_reasons;
	struct prov_reason *reasons;
};

struct node_rec {
	struct kerf_node *node;
	size_t at;
};

/*
 * A NodeClaim kerf launched or adopted.  Kept after it ends (gone) for the
 * run's figures.  `claim` is kerf's copy, written back with
 * update_nodeclaim; its meta carries the uid and resource_version the
 * cluster last returned.
 */
struct claim_rec {
	struct kerf_nodeclaim *claim;
	size_t pool;	    /* the provisioner's pool index */
	const char *packer; /* the plugin's name, which outlives every claim; NULL when adopted */
	char *type_name;
	char *zone;
	kerf_capacity_type capacity_type;
	kerf_price_t price;
	struct kerf_labels labels; /* what its node will carry, for pods that select on it */
	kerf_mono_ms_t launched_ms, ended_ms;
	bool launching; /* a worker is creating it: no provider ID yet */
	bool adopted;	/* found in the cluster at start, not launched by this process */
	bool registered, initialized, gone;
	bool deleting;	   /* kerf is terminating it (interruption, instance gone) */
	bool registering;  /* a worker is writing its node's registration */
	bool updating;	   /* a worker is writing its status */
	bool update_again; /* it changed while the last write was on its way */
	bool checking;	   /* a worker is asking the provider about its instance */
	bool drifted;	   /* the provider said its instance no longer matches its class */
	char *node_name;
	size_t entry; /* its index in the existing capacity of the batch being built */
	/*
	 * The disruption controller's: when a pod last came to or left its
	 * node (0: not looked at yet), and whether a pending pod is nominated
	 * to it, as of the controller's last pass.
	 */
	kerf_mono_ms_t pod_event_ms;
	bool has_nominee;
	/*
	 * Until when the provisioner counts on its room for pending pods it
	 * left to the scheduler (twice the batch window, at least 10 s): no
	 * graceful disruption takes it meanwhile.
	 */
	kerf_mono_ms_t nominated_until;
	bool replacing; /* launched to replace disrupted nodes: not a candidate until they are gone
			 */
	/*
	 * Its termination, once ended: how long the drain took, pods evicted,
	 * refusals and pods deleted as its terminationGracePeriod ran out.
	 */
	int64_t drain_ms;
	size_t evicted, refused, deleted;
};

/* A DaemonSet the cluster listed (KERF_OBJ_DAEMONSET): its pod template. */
struct ds_rec {
	char *key; /* "namespace/name" */
	struct kerf_pod *tmpl;
};

struct cluster_state {
	struct hmap pod_map;	   /* key -> pod_rec */
	struct hmap node_map;	   /* name -> node_rec */
	struct hmap node_by_pid;   /* provider ID -> node_rec */
	struct hmap claim_by_pid;  /* provider ID -> claim_rec (live ones) */
	struct hmap claim_by_name; /* name -> claim_rec (live ones) */
	struct hmap pods_by_node;  /* node name -> struct pod_list */
	size_t n_pods, cap_pods;
	struct pod_rec **pods;
	size_t n_nodes, cap_nodes;
	struct node_rec **nodes;
	size_t n_claims, cap_claims;
	struct claim_rec **claims; /* every claim launched or adopted, ended ones too */
	/*
	 * The DaemonSets themselves.  ds_listed: the cluster delivers the kind,
	 * so they are the one source of DaemonSet overhead; a cluster that
	 * leaves them out never does, and the overhead is inferred from the
	 * DaemonSet pods instead.
	 */
	size_t n_ds, cap_ds;
	struct ds_rec *ds;
	bool ds_listed;
	/* NodeClaims as the cluster last listed them (name -> kerf_nodeclaim copy). */
	struct hmap observed_claims;
	/* NodePools and node classes the cluster delivered, by name (copies). */
	struct hmap nodepools, node_classes;
	bool synced[STATE_N_KINDS];
	uint64_t events;
};

void state_init(struct cluster_state *st);
void state_clear(struct cluster_state *st);

/* A pod, added or replaced; its record (nomination and flags kept). */
struct pod_rec *state_pod_upsert(struct cluster_state *st, const struct kerf_pod *pod);
/* The record of a pod (by namespace and name), or NULL. */
struct pod_rec *state_pod(const struct cluster_state *st, const struct kerf_pod *pod);
/* Frees n reasons and their array (a pod record's, or a batch's copy of them). */
void state_reasons_free(size_t n, struct prov_reason *r);
/* Forgets a pod; false when unknown. */
bool state_pod_remove(struct cluster_state *st, const struct kerf_pod *pod);
/* The pods bound to a node (their records), or none. */
size_t state_pods_on_node(const struct cluster_state *st, const char *node,
			  struct pod_rec *const **out);

struct node_rec *state_node_upsert(struct cluster_state *st, const struct kerf_node *node);
/* Forgets a node; false when unknown. */
bool state_node_remove(struct cluster_state *st, const char *name);
struct node_rec *state_node(const struct cluster_state *st, const char *name);
struct node_rec *state_node_by_pid(const struct cluster_state *st, const char *provider_id);

void state_ds_set(struct cluster_state *st, const struct kerf_pod *ds);
void state_ds_remove(struct cluster_state *st, const struct kerf_pod *ds);

/* Takes ownership of c; indexes it by name (and provider ID once set). */
void state_claim_add(struct cluster_state *st, struct claim_rec *c);
/* Indexes c under its claim's provider ID, set since it was added. */
void state_claim_set_pid(struct cluster_state *st, struct claim_rec *c);
/* Marks c gone at now and drops it from the live indexes; its pods lose their nomination. */
void state_claim_end(struct cluster_state *st, struct claim_rec *c, kerf_mono_ms_t now);
struct claim_rec *state_claim_by_name(const struct cluster_state *st, const char *name);
struct claim_rec *state_claim_by_pid(const struct cluster_state *st, const char *provider_id);
/* The live claim whose instance the node is, or NULL. */
struct claim_rec *state_claim_of_node(const struct cluster_state *st, const struct kerf_node *n);

/* The cluster's NodeClaims, NodePools and node classes as last delivered (copies kept). */
void state_observe(struct cluster_state *st, kerf_event_type type, kerf_object_kind kind,
		   const void *object);
const struct kerf_nodeclaim *state_observed_claim(const struct cluster_state *st, const char *name);

/*
 * Applies one event from the cluster: pods, nodes and DaemonSets to their
 * records, NodeClaims, NodePools and node classes to the observed copies,
 * SYNCED to the sync flags.  False for an unknown kind or an object
 * without a name (nothing changed).
 */
bool state_apply(struct cluster_state *st, kerf_event_type type, kerf_object_kind kind,
		 const void *object);

/* True once every kind the cluster lists has been listed in full. */
bool state_synced(const struct cluster_state *st);

#endif
