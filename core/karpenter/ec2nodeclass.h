/*
 * ec2nodeclass.h - reading an EC2NodeClass's spec and status with kerf/doc.h.
 */
#ifndef KERF_EC2NODECLASS_H
#define KERF_EC2NODECLASS_H

#include <stdbool.h>

#include <kerf/doc.h>
#include <kerf/types.h>

/* Reads spec into e, reporting every CRD rule it breaks through d. */
void ec2_node_class_spec(struct kerf_decoder *d, const struct kerf_doc_node *spec,
			 struct kerf_ec2_node_class *e);
/* Checks status's shape (the provider writes it; kerf only reads it). */
void ec2_node_class_status(struct kerf_decoder *d, const struct kerf_doc_node *status);

/* The CRDs' quantity pattern (sign allowed). */
bool ec2_quantity_pattern(const char *s);

#endif
