/* SPDX-License-Identifier: Apache-2.0 */
/*
 * labels.h - the label vocabulary the loaded providers declare
 * (kerf_provider_ops.well_known_labels and restricted_label_domains, ABI
 * 2.0), which libkerf's label checks consult beside Karpenter's own, as
 * Karpenter's providers extend its WellKnownLabels and
 * RestrictedLabelDomains.  Internal to kerf: kerfd and kerfctl declare
 * what their providers declare; plugins see the result through
 * kerf_label_is_well_known and kerf_label_check_restricted.
 */
#ifndef KERF_CORE_LABELS_H
#define KERF_CORE_LABELS_H

/*
 * Adds NULL-terminated lists of well-known label keys and restricted
 * domains (either may be NULL); copies are kept for the life of the
 * process.  Call before any other thread reads labels.
 */
void kc_labels_declare(const char *const *well_known, const char *const *restricted_domains);

/* The declared restricted domain that key's domain ends with, or NULL. */
const char *kc_label_declared_domain(const char *key);

#endif
