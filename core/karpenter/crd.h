/* SPDX-License-Identifier: Apache-2.0 */
/*
 * crd.h - kerf's model of the Karpenter v1 objects it reads and writes:
 * NodePool and NodeClaim (karpenter.sh/v1) and EC2NodeClass
 * (karpenter.k8s.aws/v1), as a tree of typed fields.
 *
 * The tree is the one list of fields: the manifest decoder takes each
 * mapping's known fields from it (crd_fields), so `kerfctl validate`
 * rejects exactly the fields it lacks, and `kerfctl crds` prints it as
 * CustomResourceDefinitions for clusters without Karpenter.  The ec2
 * plugin decodes EC2NodeClass behind the plugin boundary and cannot link
 * this; tests/crds.sh checks its field lists against the tree instead.
 */
#ifndef KERF_CORE_CRD_H
#define KERF_CORE_CRD_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

enum crd_type {
	CRD_OBJECT,
	CRD_ARRAY,
	CRD_STRING,
	CRD_INTEGER,
	CRD_BOOLEAN,
	CRD_STRING_MAP,	  /* an object of strings (labels, tags) */
	CRD_QUANTITY_MAP, /* an object of resource quantities, integer or string */
};

struct crd_prop;

struct crd_node {
	enum crd_type type;
	const char *desc;
	const char *pattern;
	const char *format;	      /* "date-time", "int32", "int64" */
	const char *def;	      /* the default as JSON text */
	const char *const *enums;     /* NULL-terminated */
	const char *const *required;  /* CRD_OBJECT: NULL-terminated */
	const struct crd_prop *props; /* CRD_OBJECT: ends at name NULL */
	const struct crd_node *items; /* CRD_ARRAY */
	bool has_min, has_max;
	long long min, max;
	unsigned min_items, max_items, max_length;
	const char *list_type; /* x-kubernetes-list-type */
	const char *list_key;  /* x-kubernetes-list-map-keys, with list_type "map" */
	const char *map_type;  /* x-kubernetes-map-type */
};

struct crd_prop {
	const char *name;
	const struct crd_node *node;
};

/* The mappings whose fields the manifest decoder checks. */
extern const struct crd_node crd_nodepool_spec, crd_nodepool_status, crd_disruption, crd_budget,
    crd_template, crd_template_meta, crd_template_spec, crd_nodeclaim_spec, crd_nodeclaim_resources,
    crd_nodeclaim_status, crd_requirement, crd_taint, crd_node_class_ref;

/*
 * The field names of an object node, NULL-terminated, in the tree's order:
 * the `known` list for mf_known_fields.  Static storage, built once on
 * first use (thread-safe).  NULL for a node that is not a CRD_OBJECT.
 */
const char *const *crd_fields(const struct crd_node *obj);

/* The kinds kerfctl crds prints, in order. */
enum { CRD_KIND_NODEPOOL, CRD_KIND_NODECLAIM, CRD_KIND_EC2NODECLASS, CRD_N_KINDS };

/* The CustomResourceDefinition (apiextensions.k8s.io/v1) of kind i, as a
 * new JSON object; NULL for an index out of range. */
json_t *crd_definition(int kind);

/* Writes v as a YAML document (block style, strings double-quoted where
 * YAML would read them otherwise) to f. */
void crd_write_yaml(FILE *f, const json_t *v);

#endif
