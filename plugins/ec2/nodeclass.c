/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ec2nodeclass.c - the EC2NodeClass spec and status as Karpenter's AWS
 * provider's CRD validates them: selector terms, AMI aliases and families,
 * kubelet settings, block devices, network interfaces and tags, read
 * through the public document API (kerf/doc.h) alone.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kerf/kerf.h>

#include "nodeclass.h"

/* ------------------------------------------------------------- helpers */

/* Out of memory aborts, as in libkerf's decoders: nothing here can recover from it. */
static void *zalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	if (!p)
		abort();
	return p;
}

static char *dupstr(const char *s)
{
	char *p = strdup(s);

	if (!p)
		abort();
	return p;
}

/* A scalar's text, "" for anything else, so a strange key or value never reaches strcmp as NULL. */
static const char *text_of(const struct kerf_doc_node *n)
{
	const char *s = kerf_doc_scalar(n);

	return s ? s : "";
}

/* ------------------------------------------------------------ patterns */

static bool is_lower_alnum(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
}

static bool is_digit_c(char ch)
{
	return ch >= '0' && ch <= '9';
}

/* Skips [0-9]+ and returns the count. */
static size_t skip_digits(const char **s)
{
	size_t n = 0;

	while (is_digit_c(**s)) {
		(*s)++;
		n++;
	}
	return n;
}

/* (([0-9]+(\.[0-9]*)?)|(\.[0-9]+)) */
static bool skip_decimal(const char **s)
{
	size_t a = skip_digits(s);

	if (**s == '.') {
		(*s)++;
		size_t b = skip_digits(s);
		return a > 0 || b > 0;
	}
	return a > 0;
}

bool ec2_quantity_pattern(const char *s)
{
	static const char *const suffixes[] = {"Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "n", "u",
					       "m",  "k",  "M",	 "G",  "T",  "P",  "E"};

	if (*s == '+' || *s == '-')
		s++;
	if (!skip_decimal(&s))
		return false;
	if (*s == '\0')
		return true;
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		if (strcmp(s, suffixes[i]) == 0)
			return true;
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		return skip_decimal(&s) && *s == '\0';
	}
	return false;
}

/* --------------------------------------------------------- EC2NodeClass */

/* The pattern has no anchors: `prefix[0-9a-z]+` anywhere in s. */
static bool contains_id(const char *s, const char *prefix)
{
	size_t pl = strlen(prefix);

	for (const char *p = strstr(s, prefix); p; p = strstr(p + 1, prefix)) {
		if (is_lower_alnum(p[pl]))
			return true;
	}
	return false;
}

/* ^prefix[0-9a-z]+$ */
static bool anchored_id(const char *s, const char *prefix)
{
	size_t pl = strlen(prefix);

	if (strncmp(s, prefix, pl) != 0 || !s[pl])
		return false;
	for (s += pl; *s; s++) {
		if (!is_lower_alnum(*s))
			return false;
	}
	return true;
}

/* tags of a selector term: at most 20, no empty keys or values. */
static void term_tags(struct kerf_decoder *d, const struct kerf_doc_node *term,
		      struct kerf_labels *out)
{
	const struct kerf_doc_node *v = kerf_doc_get(term, "tags");
	size_t m;

	if (!v)
		return;
	m = kerf_decoder_push(d, "tags");
	if (kerf_decoder_string_map(d, v, out)) {
		if (kerf_doc_size(v) > 20)
			kerf_decoder_error(d, v, "must have at most 20 tags, got %zu",
					   kerf_doc_size(v));
		for (size_t i = 0; i < out->n; i++) {
			if (!out->items[i]->key[0] || !out->items[i]->value[0]) {
				kerf_decoder_error(d, v,
						   "empty tag keys or values aren't supported");
				break;
			}
		}
	}
	kerf_decoder_pop(d, m);
}

enum term_kind { TERM_SUBNET, TERM_SG, TERM_AMI, TERM_CR };

static void parse_terms(struct kerf_decoder *d, const struct kerf_doc_node *spec, const char *field,
			enum term_kind kind, struct ec2_selector_terms *out)
{
	static const char *const subnet_fields[] = {"id", "tags", NULL};
	static const char *const sg_fields[] = {"id", "name", "tags", NULL};
	static const char *const ami_fields[] = {"alias",	 "id",	 "name", "owner",
						 "ssmParameter", "tags", NULL};
	static const char *const cr_fields[] = {"id", "instanceMatchCriteria", "ownerID", "tags",
						NULL};
	static const char *const imc[] = {"open", "targeted", NULL};
	const char *const *fields = kind == TERM_SUBNET ? subnet_fields
				    : kind == TERM_SG	? sg_fields
				    : kind == TERM_AMI	? ami_fields
							: cr_fields;
	const struct kerf_doc_node *seq = kerf_doc_get(spec, field);
	size_t m, n_id_combo = 0, n_name_combo = 0, n_alias = 0;

	if (!seq) {
		if (kind != TERM_CR)
			kerf_decoder_missing(d, spec, field);
		return;
	}
	m = kerf_decoder_push(d, field);
	if (!kerf_decoder_seq(d, seq)) {
		kerf_decoder_pop(d, m);
		return;
	}
	if (kerf_doc_size(seq) > 30)
		kerf_decoder_error(d, seq, "must have at most 30 items, got %zu",
				   kerf_doc_size(seq));
	if (kerf_doc_size(seq) == 0) {
		if (kind == TERM_SUBNET)
			kerf_decoder_error(d, seq, "subnetSelectorTerms cannot be empty");
		else if (kind == TERM_SG)
			kerf_decoder_error(d, seq, "securityGroupSelectorTerms cannot be empty");
		else if (kind == TERM_AMI)
			kerf_decoder_error(d, seq, "must have at least 1 item");
	}
	out->items = zalloc(kerf_doc_size(seq) ? kerf_doc_size(seq) : 1, sizeof(*out->items));
	for (size_t i = 0; i < kerf_doc_size(seq); i++) {
		const struct kerf_doc_node *it = kerf_doc_item(seq, i), *v;
		size_t mi = kerf_decoder_push_index(d, i), mf;
		struct ec2_selector_term *t;
		bool has_tags, has_id, has_name, has_alias, has_owner, has_ssm, has_imc, has_oid;

		if (!kerf_decoder_map(d, it)) {
			kerf_decoder_pop(d, mi);
			continue;
		}
		t = &out->items[out->n++];
		kerf_decoder_known_fields(d, it, fields);
		term_tags(d, it, &t->tags);
		has_tags = kerf_doc_get(it, "tags") != NULL;
		has_id = (v = kerf_decoder_get_string(d, it, "id", &t->id)) != NULL;
		if (has_id && t->id) {
			mf = kerf_decoder_push(d, "id");
			if (kind == TERM_SUBNET && !contains_id(t->id, "subnet-"))
				kerf_decoder_error(
				    d, v, "\"%s\" does not match the pattern subnet-[0-9a-z]+",
				    t->id);
			else if (kind == TERM_SG && !contains_id(t->id, "sg-"))
				kerf_decoder_error(
				    d, v, "\"%s\" does not match the pattern sg-[0-9a-z]+", t->id);
			else if (kind == TERM_AMI && !contains_id(t->id, "ami-"))
				kerf_decoder_error(
				    d, v, "\"%s\" does not match the pattern ami-[0-9a-z]+", t->id);
			else if (kind == TERM_CR && !anchored_id(t->id, "cr-"))
				kerf_decoder_error(
				    d, v, "\"%s\" does not match the pattern ^cr-[0-9a-z]+$",
				    t->id);
			kerf_decoder_pop(d, mf);
		}
		has_name = kind != TERM_SUBNET && kind != TERM_CR &&
			   kerf_decoder_get_string(d, it, "name", &t->name) != NULL;
		has_owner =
		    kind == TERM_AMI && kerf_decoder_get_string(d, it, "owner", &t->owner) != NULL;
		has_ssm = kind == TERM_AMI &&
			  kerf_decoder_get_string(d, it, "ssmParameter", &t->ssm_parameter) != NULL;
		has_alias = false;
		if (kind == TERM_AMI &&
		    (v = kerf_decoder_get_string(d, it, "alias", &t->alias)) != NULL) {
			has_alias = true;
			n_alias++;
			if (t->alias) {
				static const char *const fams[] = {"al2",	   "al2023",
								   "bottlerocket", "windows2019",
								   "windows2022",  "windows2025"};
				const char *at = strchr(t->alias, '@');
				size_t fl = at ? (size_t)(at - t->alias) : 0;
				bool fam_ok = false, fmt_ok = at && fl > 0 && at[1];
				for (size_t k = 0; k < fl && fmt_ok; k++)
					fmt_ok = isalnum((unsigned char)t->alias[k]);
				size_t fam_len = at ? fl : strlen(t->alias);
				for (size_t k = 0; k < 6 && !fam_ok; k++)
					fam_ok = strlen(fams[k]) == fam_len &&
						 strncmp(fams[k], t->alias, fam_len) == 0;
				mf = kerf_decoder_push(d, "alias");
				if (strlen(t->alias) > 30)
					kerf_decoder_error(d, v, "must be at most 30 characters");
				else if (!fmt_ok)
					kerf_decoder_error(
					    d, v,
					    "'alias' is improperly formatted, must match the "
					    "format 'family@version'");
				else if (!fam_ok)
					kerf_decoder_error(
					    d, v,
					    "family is not supported, must be one of the "
					    "following: 'al2', 'al2023', 'bottlerocket', "
					    "'windows2019', 'windows2022', 'windows2025'");
				else if (strncmp(t->alias, "windows", 7) == 0 &&
					 strcmp(at + 1, "latest") != 0)
					kerf_decoder_error(
					    d, v,
					    "windows families may only specify version 'latest'");
				kerf_decoder_pop(d, mf);
			}
		}
		has_imc =
		    kind == TERM_CR && kerf_decoder_get_enum(d, it, "instanceMatchCriteria", imc,
							     &t->instance_match_criteria) != NULL;
		has_oid = false;
		if (kind == TERM_CR &&
		    (v = kerf_decoder_get_string(d, it, "ownerID", &t->owner_id)) != NULL) {
			has_oid = true;
			if (t->owner_id) {
				bool ok = strlen(t->owner_id) == 12;
				for (size_t k = 0; ok && k < 12; k++)
					ok = is_digit_c(t->owner_id[k]);
				mf = kerf_decoder_push(d, "ownerID");
				if (!ok)
					kerf_decoder_error(d, v,
							   "\"%s\" must be a 12-digit account ID",
							   t->owner_id);
				kerf_decoder_pop(d, mf);
			}
		}
		switch (kind) {
		case TERM_SUBNET:
			if (!has_tags && !has_id)
				kerf_decoder_error(
				    d, it, "expected at least one, got none, ['tags', 'id']");
			if (has_id && has_tags)
				n_id_combo++;
			break;
		case TERM_SG:
			if (!has_tags && !has_id && !has_name)
				kerf_decoder_error(
				    d, it,
				    "expected at least one, got none, ['tags', 'id', 'name']");
			if (has_id && (has_tags || has_name))
				n_id_combo++;
			if (has_name && (has_tags || has_id))
				n_name_combo++;
			break;
		case TERM_AMI:
			if (!has_tags && !has_id && !has_name && !has_alias && !has_ssm)
				kerf_decoder_error(
				    d, it,
				    "expected at least one, got none, ['tags', 'id', 'name', "
				    "'alias', 'ssmParameter']");
			if (has_id && (has_alias || has_tags || has_name || has_owner))
				kerf_decoder_error(
				    d, it,
				    "'id' is mutually exclusive, cannot be set with a "
				    "combination of other fields in amiSelectorTerms");
			if (has_alias && (has_id || has_tags || has_name || has_owner))
				kerf_decoder_error(
				    d, it,
				    "'alias' is mutually exclusive, cannot be set with a "
				    "combination of other fields in amiSelectorTerms");
			break;
		case TERM_CR:
			if (!has_tags && !has_id && !has_imc)
				kerf_decoder_error(
				    d, it,
				    "expected at least one, got none, ['tags', 'id', "
				    "'instanceMatchCriteria']");
			if (has_id && (has_tags || has_oid || has_imc))
				n_id_combo++;
			break;
		}
		kerf_decoder_pop(d, mi);
	}
	/*
	 * The CRD writes these exclusions as !self.all(...): they only fail when
	 * every term combines the fields.  kerf applies them as Karpenter does.
	 */
	if (kerf_doc_size(seq) > 0 && n_id_combo == kerf_doc_size(seq)) {
		if (kind == TERM_SUBNET)
			kerf_decoder_error(
			    d, seq,
			    "'id' is mutually exclusive, cannot be set with a combination of "
			    "other fields in a subnet selector term");
		else if (kind == TERM_SG)
			kerf_decoder_error(
			    d, seq,
			    "'id' is mutually exclusive, cannot be set with a combination of "
			    "other fields in a security group selector term");
		else if (kind == TERM_CR)
			kerf_decoder_error(
			    d, seq,
			    "'id' is mutually exclusive, cannot be set along with other fields "
			    "in a capacity reservation selector term");
	}
	if (kind == TERM_SG && kerf_doc_size(seq) > 0 && n_name_combo == kerf_doc_size(seq))
		kerf_decoder_error(
		    d, seq,
		    "'name' is mutually exclusive, cannot be set with a combination of other "
		    "fields in a security group selector term");
	if (kind == TERM_AMI && n_alias > 0 && kerf_doc_size(seq) != 1)
		kerf_decoder_error(
		    d, seq,
		    "'alias' is mutually exclusive, cannot be set with a combination of other "
		    "amiSelectorTerms");
	kerf_decoder_pop(d, m);
}

static const char *const eviction_signals[] = {"memory.available",
					       "nodefs.available",
					       "nodefs.inodesFree",
					       "imagefs.available",
					       "imagefs.inodesFree",
					       "pid.available",
					       NULL};

/* ^((\d{1,2}(\.\d{1,2})?|100(\.0{1,2})?)%||<quantity>)$ */
static bool eviction_value_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0)
		return true;
	if (s[n - 1] == '%') {
		const char *p = s;
		size_t a = skip_digits(&p), b = 0;
		if (*p == '.') {
			p++;
			b = skip_digits(&p);
			if (b == 0 || b > 2)
				return false;
		}
		if (p != s + n - 1 || a == 0)
			return false;
		if (a <= 2)
			return true;
		if (a == 3 && strncmp(s, "100", 3) == 0) {
			for (size_t k = 4; k < 4 + b; k++) {
				if (s[k] != '0')
					return false;
			}
			return true;
		}
		return false;
	}
	return ec2_quantity_pattern(s);
}

static void eviction_map(struct kerf_decoder *d, const struct kerf_doc_node *kub, const char *field,
			 bool values_are_thresholds, struct kerf_labels *out)
{
	const struct kerf_doc_node *v = kerf_doc_get(kub, field);
	size_t m;

	if (!v)
		return;
	m = kerf_decoder_push(d, field);
	if (kerf_decoder_string_map(d, v, out)) {
		bool keys_ok = true;
		for (size_t i = 0; i < kerf_doc_size(v); i++) {
			const struct kerf_doc_node *k = kerf_doc_key_at(v, i),
						   *val = kerf_doc_value_at(v, i);
			bool known = false;
			for (size_t j = 0; eviction_signals[j] && !known; j++)
				known = strcmp(text_of(k), eviction_signals[j]) == 0;
			if (!known)
				keys_ok = false;
			if (values_are_thresholds && kerf_doc_node_type(val) == KERF_DOC_SCALAR &&
			    !eviction_value_ok(text_of(val))) {
				size_t mk = kerf_decoder_push_key(d, text_of(k));
				kerf_decoder_error(
				    d, val,
				    "invalid threshold \"%s\": use a percentage (\"10%%\") or a "
				    "quantity (\"100Mi\")",
				    text_of(val));
				kerf_decoder_pop(d, mk);
			}
			if (!values_are_thresholds && kerf_doc_node_type(val) == KERF_DOC_SCALAR) {
				int64_t ms;
				struct kerf_error err;
				size_t mk = kerf_decoder_push_key(d, text_of(k));
				if (kerf_duration_parse(text_of(val), false, &ms, &err))
					kerf_decoder_error(d, val, "%s", err.message);
				kerf_decoder_pop(d, mk);
			}
		}
		if (!keys_ok)
			kerf_decoder_error(
			    d, v,
			    "valid keys for %s are ['memory.available','nodefs.available',"
			    "'nodefs.inodesFree','imagefs.available','imagefs.inodesFree',"
			    "'pid.available']",
			    field);
	}
	kerf_decoder_pop(d, m);
}

static void reserved_map(struct kerf_decoder *d, const struct kerf_doc_node *kub, const char *field,
			 struct kerf_resources *out)
{
	const struct kerf_doc_node *v = kerf_doc_get(kub, field);
	size_t m;

	if (!v)
		return;
	m = kerf_decoder_push(d, field);
	if (kerf_decoder_map(d, v)) {
		bool keys_ok = true;
		for (size_t i = 0; i < kerf_doc_size(v); i++) {
			const struct kerf_doc_node *k = kerf_doc_key_at(v, i),
						   *val = kerf_doc_value_at(v, i);
			const char *s;
			size_t mk;
			if (strcmp(text_of(k), "cpu") && strcmp(text_of(k), "memory") &&
			    strcmp(text_of(k), "ephemeral-storage") && strcmp(text_of(k), "pid"))
				keys_ok = false;
			mk = kerf_decoder_push_key(d, text_of(k));
			if ((s = kerf_decoder_string(d, val)) != NULL) {
				struct kerf_error err;
				int64_t q;
				kerf_error_clear(&err);
				if (s[0] == '-')
					kerf_decoder_error(
					    d, val,
					    "%s value cannot be a negative resource quantity",
					    field);
				else if (!ec2_quantity_pattern(s) ||
					 kerf_quantity_parse(s, strcmp(text_of(k), "cpu") ? 0 : 3,
							     &q, &err))
					kerf_decoder_error(d, val, "%s",
							   err.message[0] ? err.message
									  : "invalid quantity");
				else
					kerf_resources_set(out, text_of(k), q, NULL);
			}
			kerf_decoder_pop(d, mk);
		}
		if (!keys_ok)
			kerf_decoder_error(
			    d, v,
			    "valid keys for %s are ['cpu','memory','ephemeral-storage','pid']",
			    field);
	}
	kerf_decoder_pop(d, m);
}

static void parse_kubelet(struct kerf_decoder *d, const struct kerf_doc_node *k,
			  struct ec2_kubelet *out)
{
	static const char *const fields[] = {"clusterDNS",
					     "cpuCFSQuota",
					     "evictionHard",
					     "evictionMaxPodGracePeriod",
					     "evictionSoft",
					     "evictionSoftGracePeriod",
					     "imageGCHighThresholdPercent",
					     "imageGCLowThresholdPercent",
					     "kubeReserved",
					     "maxPods",
					     "podsPerCore",
					     "systemReserved",
					     NULL};
	const struct kerf_doc_node *v, *soft, *grace;
	int64_t x;
	bool b;
	size_t m;

	if (!kerf_decoder_map(d, k))
		return;
	kerf_decoder_known_fields(d, k, fields);
	if ((v = kerf_doc_get(k, "clusterDNS")) != NULL) {
		m = kerf_decoder_push(d, "clusterDNS");
		if (kerf_decoder_seq(d, v)) {
			out->cluster_dns =
			    zalloc(kerf_doc_size(v) ? kerf_doc_size(v) : 1, sizeof(char *));
			for (size_t i = 0; i < kerf_doc_size(v); i++) {
				size_t mi = kerf_decoder_push_index(d, i);
				const char *s = kerf_decoder_string(d, kerf_doc_item(v, i));
				if (s)
					out->cluster_dns[out->n_cluster_dns++] = dupstr(s);
				kerf_decoder_pop(d, mi);
			}
		}
		kerf_decoder_pop(d, m);
	}
	if (kerf_decoder_get_bool(d, k, "cpuCFSQuota", &b))
		out->cpu_cfs_quota_set = b ? 1 : 0;
	eviction_map(d, k, "evictionHard", true, &out->eviction_hard);
	eviction_map(d, k, "evictionSoft", true, &out->eviction_soft);
	eviction_map(d, k, "evictionSoftGracePeriod", false, &out->eviction_soft_grace_period);
	if (kerf_decoder_get_int(d, k, "evictionMaxPodGracePeriod", INT32_MIN, INT32_MAX, &x))
		out->eviction_max_pod_grace_period = (int32_t)x;
	if (kerf_decoder_get_int(d, k, "imageGCHighThresholdPercent", 0, 100, &x))
		out->image_gc_high_threshold_percent = (int32_t)x;
	if (kerf_decoder_get_int(d, k, "imageGCLowThresholdPercent", 0, 100, &x))
		out->image_gc_low_threshold_percent = (int32_t)x;
	reserved_map(d, k, "kubeReserved", &out->kube_reserved);
	reserved_map(d, k, "systemReserved", &out->system_reserved);
	if (kerf_decoder_get_int(d, k, "maxPods", 0, INT32_MAX, &x))
		out->max_pods = (int32_t)x;
	if (kerf_decoder_get_int(d, k, "podsPerCore", 0, INT32_MAX, &x))
		out->pods_per_core = (int32_t)x;
	if (out->image_gc_high_threshold_percent >= 0 && out->image_gc_low_threshold_percent >= 0 &&
	    out->image_gc_high_threshold_percent <= out->image_gc_low_threshold_percent)
		kerf_decoder_error(d, kerf_doc_get(k, "imageGCHighThresholdPercent"),
				   "imageGCHighThresholdPercent must be greater than "
				   "imageGCLowThresholdPercent");
	soft = kerf_doc_get(k, "evictionSoft");
	grace = kerf_doc_get(k, "evictionSoftGracePeriod");
	if (soft && kerf_doc_node_type(soft) == KERF_DOC_MAP) {
		for (size_t i = 0; i < kerf_doc_size(soft); i++) {
			if (!grace || !kerf_doc_get(grace, text_of(kerf_doc_key_at(soft, i)))) {
				kerf_decoder_error(d, kerf_doc_key_at(soft, i),
						   "evictionSoft OwnerKey does not have a matching "
						   "evictionSoftGracePeriod");
				break;
			}
		}
	}
	if (grace && kerf_doc_node_type(grace) == KERF_DOC_MAP) {
		for (size_t i = 0; i < kerf_doc_size(grace); i++) {
			if (!soft || !kerf_doc_get(soft, text_of(kerf_doc_key_at(grace, i)))) {
				kerf_decoder_error(
				    d, kerf_doc_key_at(grace, i),
				    "evictionSoftGracePeriod OwnerKey does not have a matching "
				    "evictionSoft");
				break;
			}
		}
	}
}

/* volumeSize: 1-59000Gi, 1-64000G, and the CRD's Ti/T alternatives. */
static bool volume_size_pattern(const char *s)
{
	const char *p = s;
	size_t n = skip_digits(&p);
	long v = n && n <= 6 ? strtol(s, NULL, 10) : -1;

	if (n > 0 && s[0] == '0')
		return false;
	if (strcmp(p, "Gi") == 0)
		return v >= 1 && v <= 59000;
	if (strcmp(p, "G") == 0)
		return v >= 1 && v <= 64000;
	if (strcmp(p, "Ti") == 0)
		return n == 0 || (v >= 1 && v <= 9) || v == 58 ||
		       (n == 2 && s[0] >= '1' && s[0] <= '5' && s[1] >= '0' && s[1] <= '7');
	if (strcmp(p, "T") == 0)
		return n == 0 || (v >= 1 && v <= 64);
	return false;
}

static void parse_block_devices(struct kerf_decoder *d, const struct kerf_doc_node *seq,
				struct ec2_node_class *e)
{
	static const char *const fields[] = {"deviceName", "ebs", "rootVolume", NULL};
	static const char *const ebs_fields[] = {"deleteOnTermination",
						 "encrypted",
						 "iops",
						 "kmsKeyID",
						 "snapshotID",
						 "throughput",
						 "volumeInitializationRate",
						 "volumeSize",
						 "volumeType",
						 NULL};
	static const char *const vtypes[] = {"standard", "io1", "io2", "gp2",
					     "sc1",	 "st1", "gp3", NULL};
	size_t roots = 0;

	if (!kerf_decoder_seq(d, seq))
		return;
	if (kerf_doc_size(seq) > 50)
		kerf_decoder_error(d, seq, "must have at most 50 items, got %zu",
				   kerf_doc_size(seq));
	e->block_device_mappings =
	    zalloc(kerf_doc_size(seq) ? kerf_doc_size(seq) : 1, sizeof(*e->block_device_mappings));
	for (size_t i = 0; i < kerf_doc_size(seq); i++) {
		const struct kerf_doc_node *it = kerf_doc_item(seq, i), *ebs, *v;
		size_t mi = kerf_decoder_push_index(d, i), m;
		struct ec2_block_device_mapping *b;
		int64_t x;

		if (!kerf_decoder_map(d, it)) {
			kerf_decoder_pop(d, mi);
			continue;
		}
		b = &e->block_device_mappings[e->n_block_device_mappings++];
		kerf_decoder_known_fields(d, it, fields);
		kerf_decoder_get_string(d, it, "deviceName", &b->device_name);
		if (kerf_decoder_get_bool(d, it, "rootVolume", &b->root_volume) && b->root_volume)
			roots++;
		if ((ebs = kerf_doc_get(it, "ebs")) != NULL) {
			m = kerf_decoder_push(d, "ebs");
			if (kerf_decoder_map(d, ebs)) {
				kerf_decoder_known_fields(d, ebs, ebs_fields);
				b->has_delete_on_termination = kerf_decoder_get_bool(
				    d, ebs, "deleteOnTermination", &b->delete_on_termination);
				b->has_encrypted =
				    kerf_decoder_get_bool(d, ebs, "encrypted", &b->encrypted);
				if (kerf_decoder_get_int(d, ebs, "iops", INT64_MIN, INT64_MAX, &x))
					b->iops = x;
				if (kerf_decoder_get_int(d, ebs, "throughput", INT64_MIN, INT64_MAX,
							 &x))
					b->throughput = x;
				if (kerf_decoder_get_int(d, ebs, "volumeInitializationRate", 100,
							 300, &x))
					b->volume_initialization_rate = (int32_t)x;
				kerf_decoder_get_string(d, ebs, "kmsKeyID", &b->kms_key_id);
				kerf_decoder_get_string(d, ebs, "snapshotID", &b->snapshot_id);
				kerf_decoder_get_enum(d, ebs, "volumeType", vtypes,
						      &b->volume_type);
				if ((v = kerf_doc_get(ebs, "volumeSize")) != NULL) {
					size_t mv = kerf_decoder_push(d, "volumeSize");
					const char *s = kerf_decoder_string(d, v);
					struct kerf_error err;
					kerf_error_clear(&err);
					if (s && !volume_size_pattern(s))
						kerf_decoder_error(
						    d, v,
						    "invalid volume size \"%s\": use 1Gi to "
						    "59000Gi, 1G to 64000G, or the Ti/T "
						    "equivalents",
						    s);
					else if (s && kerf_quantity_parse(
							  s, 0, &b->volume_size_bytes, &err))
						kerf_decoder_error(d, v, "%s", err.message);
					kerf_decoder_pop(d, mv);
				}
				if (!kerf_doc_get(ebs, "snapshotID") &&
				    !kerf_doc_get(ebs, "volumeSize"))
					kerf_decoder_error(
					    d, ebs, "snapshotID or volumeSize must be defined");
				if (kerf_doc_get(ebs, "volumeInitializationRate") &&
				    (!b->snapshot_id || !b->snapshot_id[0]))
					kerf_decoder_error(d, ebs,
							   "snapshotID must be set when "
							   "volumeInitializationRate is set");
			}
			kerf_decoder_pop(d, m);
		}
		kerf_decoder_pop(d, mi);
	}
	if (roots > 1)
		kerf_decoder_error(d, seq,
				   "must have only one blockDeviceMappings with rootVolume");
}

static void parse_network_interfaces(struct kerf_decoder *d, const struct kerf_doc_node *seq,
				     struct ec2_node_class *e)
{
	static const char *const fields[] = {"deviceIndex", "interfaceType", "networkCardIndex",
					     NULL};
	static const char *const types[] = {"interface", "efa-only", NULL};
	bool primary = false;

	if (!kerf_decoder_seq(d, seq))
		return;
	if (kerf_doc_size(seq) > 150)
		kerf_decoder_error(d, seq, "must have at most 150 items, got %zu",
				   kerf_doc_size(seq));
	e->network_interfaces =
	    zalloc(kerf_doc_size(seq) ? kerf_doc_size(seq) : 1, sizeof(*e->network_interfaces));
	for (size_t i = 0; i < kerf_doc_size(seq); i++) {
		const struct kerf_doc_node *it = kerf_doc_item(seq, i);
		size_t mi = kerf_decoder_push_index(d, i);
		struct ec2_network_interface *ni;
		char *type = NULL;
		int64_t x;

		if (!kerf_decoder_map(d, it)) {
			kerf_decoder_pop(d, mi);
			continue;
		}
		ni = &e->network_interfaces[e->n_network_interfaces++];
		kerf_decoder_known_fields(d, it, fields);
		for (size_t f = 0; fields[f]; f++) {
			if (!kerf_doc_get(it, fields[f]))
				kerf_decoder_missing(d, it, fields[f]);
		}
		if (kerf_decoder_get_int(d, it, "deviceIndex", 0, INT32_MAX, &x))
			ni->device_index = (int32_t)x;
		if (kerf_decoder_get_int(d, it, "networkCardIndex", 0, INT32_MAX, &x))
			ni->network_card_index = (int32_t)x;
		kerf_decoder_get_enum(d, it, "interfaceType", types, &type);
		ni->efa_only = type && strcmp(type, "efa-only") == 0;
		if (type && !ni->efa_only && ni->device_index == 0 && ni->network_card_index == 0)
			primary = true;
		free(type);
		kerf_decoder_pop(d, mi);
	}
	if (kerf_doc_size(seq) > 0 && !primary)
		kerf_decoder_error(d, seq,
				   "networkInterfaces must include a primary interface with "
				   "interfaceType='interface'");
	for (size_t i = 0; i < e->n_network_interfaces; i++) {
		const struct ec2_network_interface *a = &e->network_interfaces[i];
		bool bad = false;
		for (size_t j = 0; j < e->n_network_interfaces && !bad; j++) {
			const struct ec2_network_interface *b = &e->network_interfaces[j];
			if (i == j || a->network_card_index != b->network_card_index)
				continue;
			bad = a->device_index == b->device_index || (a->efa_only && b->efa_only);
		}
		if (bad) {
			kerf_decoder_error(
			    d, seq,
			    "networkInterfaces must not have duplicate networkCardIndex and "
			    "deviceIndex pairs, and can have at most one efa device per "
			    "network card");
			break;
		}
	}
}

static void parse_ec2_tags(struct kerf_decoder *d, const struct kerf_doc_node *spec,
			   struct ec2_node_class *e)
{
	const struct kerf_doc_node *v = kerf_doc_get(spec, "tags");
	size_t m;

	if (!v)
		return;
	m = kerf_decoder_push(d, "tags");
	if (kerf_decoder_string_map(d, v, &e->tags)) {
		for (size_t i = 0; i < kerf_doc_size(v); i++) {
			const struct kerf_doc_node *k = kerf_doc_key_at(v, i);
			const char *key = text_of(k);
			size_t mk = kerf_decoder_push_key(d, key);
			if (!*key)
				kerf_decoder_error(d, k, "empty tag keys aren't supported");
			else if (strcmp(key, "eks:eks-cluster-name") == 0)
				kerf_decoder_error(
				    d, k,
				    "tag contains a restricted tag matching eks:eks-cluster-name");
			else if (strncmp(key, "kubernetes.io/cluster", 21) == 0)
				kerf_decoder_error(d, k,
						   "tag contains a restricted tag matching "
						   "kubernetes.io/cluster/");
			else if (strcmp(key, "karpenter.sh/nodepool") == 0 ||
				 strcmp(key, "karpenter.sh/nodeclaim") == 0 ||
				 strcmp(key, "karpenter.k8s.aws/ec2nodeclass") == 0)
				kerf_decoder_error(
				    d, k, "tag contains a restricted tag matching %s", key);
			kerf_decoder_pop(d, mk);
		}
	}
	kerf_decoder_pop(d, m);
}

/* amiFamily for an alias family ("al2023" -> "AL2023"), or NULL. */
static const char *alias_family(const char *alias)
{
	static const char *const map[][2] = {
	    {"al2", "AL2"},
	    {"al2023", "AL2023"},
	    {"bottlerocket", "Bottlerocket"},
	    {"windows2019", "Windows2019"},
	    {"windows2022", "Windows2022"},
	    {"windows2025", "Windows2025"},
	};
	const char *at = strchr(alias, '@');
	size_t n = at ? (size_t)(at - alias) : strlen(alias);

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (strlen(map[i][0]) == n && strncmp(alias, map[i][0], n) == 0)
			return map[i][1];
	}
	return NULL;
}

static void node_class_spec(struct kerf_decoder *d, const struct kerf_doc_node *spec,
			    struct ec2_node_class *e)
{
	static const char *const fields[] = {"amiFamily",
					     "amiSelectorTerms",
					     "associatePublicIPAddress",
					     "blockDeviceMappings",
					     "capacityReservationSelectorTerms",
					     "connectionTracking",
					     "context",
					     "cpuOptions",
					     "detailedMonitoring",
					     "instanceProfile",
					     "instanceStorePolicy",
					     "ipPrefixCount",
					     "kubelet",
					     "metadataOptions",
					     "networkInterfaces",
					     "placementGroupSelector",
					     "role",
					     "securityGroupSelectorTerms",
					     "subnetSelectorTerms",
					     "tags",
					     "userData",
					     NULL};
	static const char *const families[] = {"AL2",	      "AL2023",	     "Bottlerocket",
					       "Custom",      "Windows2019", "Windows2022",
					       "Windows2025", NULL};
	static const char *const raid[] = {"RAID0", NULL};
	static const char *const en_dis[] = {"enabled", "disabled", NULL};
	static const char *const tokens[] = {"required", "optional", NULL};
	const struct kerf_doc_node *v, *role, *prof, *fam_node;
	const char *alias = NULL;
	int64_t x;
	bool b;
	size_t m;

	if (!kerf_decoder_map(d, spec))
		return;
	kerf_decoder_known_fields(d, spec, fields);
	parse_terms(d, spec, "subnetSelectorTerms", TERM_SUBNET, &e->subnet_selector_terms);
	parse_terms(d, spec, "securityGroupSelectorTerms", TERM_SG,
		    &e->security_group_selector_terms);
	parse_terms(d, spec, "amiSelectorTerms", TERM_AMI, &e->ami_selector_terms);
	parse_terms(d, spec, "capacityReservationSelectorTerms", TERM_CR,
		    &e->capacity_reservation_selector_terms);
	fam_node = kerf_decoder_get_enum(d, spec, "amiFamily", families, &e->ami_family);

	role = kerf_decoder_get_string(d, spec, "role", &e->role);
	if (role && e->role && !e->role[0]) {
		m = kerf_decoder_push(d, "role");
		kerf_decoder_error(d, role, "role cannot be empty");
		kerf_decoder_pop(d, m);
	}
	prof = kerf_decoder_get_string(d, spec, "instanceProfile", &e->instance_profile);
	if (prof && e->instance_profile && !e->instance_profile[0]) {
		m = kerf_decoder_push(d, "instanceProfile");
		kerf_decoder_error(d, prof, "instanceProfile cannot be empty");
		kerf_decoder_pop(d, m);
	}
	if (!!role == !!prof)
		kerf_decoder_error(d, role ? role : spec,
				   "must specify exactly one of ['role', 'instanceProfile']");

	kerf_decoder_get_string(d, spec, "userData", &e->user_data);
	kerf_decoder_get_string(d, spec, "context", &e->context);
	parse_ec2_tags(d, spec, e);
	if ((v = kerf_doc_get(spec, "kubelet")) != NULL) {
		m = kerf_decoder_push(d, "kubelet");
		e->has_kubelet = true;
		parse_kubelet(d, v, &e->kubelet);
		kerf_decoder_pop(d, m);
	}
	if ((v = kerf_doc_get(spec, "blockDeviceMappings")) != NULL) {
		m = kerf_decoder_push(d, "blockDeviceMappings");
		parse_block_devices(d, v, e);
		kerf_decoder_pop(d, m);
	}
	if ((v = kerf_doc_get(spec, "metadataOptions")) != NULL) {
		static const char *const mo_fields[] = {"httpEndpoint", "httpProtocolIPv6",
							"httpPutResponseHopLimit", "httpTokens",
							NULL};
		m = kerf_decoder_push(d, "metadataOptions");
		if (kerf_decoder_map(d, v)) {
			kerf_decoder_known_fields(d, v, mo_fields);
			kerf_decoder_get_enum(d, v, "httpEndpoint", en_dis, &e->http_endpoint);
			kerf_decoder_get_enum(d, v, "httpProtocolIPv6", en_dis,
					      &e->http_protocol_ipv6);
			kerf_decoder_get_enum(d, v, "httpTokens", tokens, &e->http_tokens);
			if (kerf_decoder_get_int(d, v, "httpPutResponseHopLimit", 1, 64, &x))
				e->http_put_response_hop_limit = (int32_t)x;
		}
		kerf_decoder_pop(d, m);
	}
	if (kerf_decoder_get_bool(d, spec, "associatePublicIPAddress", &b))
		e->associate_public_ip_address = b ? 1 : 0;
	kerf_decoder_get_bool(d, spec, "detailedMonitoring", &e->detailed_monitoring);
	kerf_decoder_get_enum(d, spec, "instanceStorePolicy", raid, &e->instance_store_policy);
	if (kerf_decoder_get_int(d, spec, "ipPrefixCount", 0, INT32_MAX, &x))
		e->ip_prefix_count = (int32_t)x;
	if ((v = kerf_doc_get(spec, "connectionTracking")) != NULL) {
		static const char *const ct_fields[] = {"tcpEstablishedTimeout", "udpStreamTimeout",
							"udpTimeout", NULL};
		m = kerf_decoder_push(d, "connectionTracking");
		if (kerf_decoder_map(d, v)) {
			kerf_decoder_known_fields(d, v, ct_fields);
			if (kerf_decoder_get_int(d, v, "tcpEstablishedTimeout", 60, 432000, &x))
				e->tcp_established_timeout = (int32_t)x;
			if (kerf_decoder_get_int(d, v, "udpStreamTimeout", 60, 180, &x))
				e->udp_stream_timeout = (int32_t)x;
			if (kerf_decoder_get_int(d, v, "udpTimeout", 30, 60, &x))
				e->udp_timeout = (int32_t)x;
			if (!kerf_doc_get(v, "tcpEstablishedTimeout") &&
			    !kerf_doc_get(v, "udpStreamTimeout") && !kerf_doc_get(v, "udpTimeout"))
				kerf_decoder_error(
				    d, v,
				    "at least one of tcpEstablishedTimeout, udpStreamTimeout, "
				    "or udpTimeout must be set");
		}
		kerf_decoder_pop(d, m);
	}
	if ((v = kerf_doc_get(spec, "cpuOptions")) != NULL) {
		static const char *const cpu_fields[] = {"nestedVirtualization", NULL};
		m = kerf_decoder_push(d, "cpuOptions");
		if (kerf_decoder_map(d, v)) {
			kerf_decoder_known_fields(d, v, cpu_fields);
			kerf_decoder_get_enum(d, v, "nestedVirtualization", en_dis,
					      &e->nested_virtualization);
		}
		kerf_decoder_pop(d, m);
	}
	if ((v = kerf_doc_get(spec, "networkInterfaces")) != NULL) {
		m = kerf_decoder_push(d, "networkInterfaces");
		parse_network_interfaces(d, v, e);
		kerf_decoder_pop(d, m);
	}
	if ((v = kerf_doc_get(spec, "placementGroupSelector")) != NULL) {
		static const char *const pg_fields[] = {"id", "name", NULL};
		m = kerf_decoder_push(d, "placementGroupSelector");
		if (kerf_decoder_map(d, v)) {
			const struct kerf_doc_node *id, *name;
			kerf_decoder_known_fields(d, v, pg_fields);
			id = kerf_decoder_get_string(d, v, "id", &e->placement_group_id);
			name = kerf_decoder_get_string(d, v, "name", &e->placement_group_name);
			if (id && e->placement_group_id &&
			    !anchored_id(e->placement_group_id, "pg-")) {
				size_t mi = kerf_decoder_push(d, "id");
				kerf_decoder_error(
				    d, id, "\"%s\" does not match the pattern ^pg-[0-9a-z]+$",
				    e->placement_group_id);
				kerf_decoder_pop(d, mi);
			}
			if (name && e->placement_group_name && !e->placement_group_name[0]) {
				size_t mi = kerf_decoder_push(d, "name");
				kerf_decoder_error(d, name, "must not be empty");
				kerf_decoder_pop(d, mi);
			}
			if (!id && !name)
				kerf_decoder_error(
				    d, v, "expected at least one, got none, ['name', 'id']");
			if (id && name)
				kerf_decoder_error(d, v, "'name' and 'id' are mutually exclusive");
		}
		kerf_decoder_pop(d, m);
	}

	/* Cross-field rules on amiFamily and aliases. */
	for (size_t i = 0; i < e->ami_selector_terms.n; i++) {
		if (e->ami_selector_terms.items[i].alias)
			alias = e->ami_selector_terms.items[i].alias;
	}
	if (alias && e->ami_family) {
		const char *want = alias_family(alias);
		if (want && strcmp(e->ami_family, "Custom") != 0 &&
		    strcmp(e->ami_family, want) != 0) {
			m = kerf_decoder_push(d, "amiFamily");
			kerf_decoder_error(
			    d, fam_node,
			    "if set, amiFamily must be '%s' or 'Custom' when using %s %s alias",
			    want, want[0] == 'A' ? "an" : "a", want);
			kerf_decoder_pop(d, m);
		}
	}
	if (!alias && !fam_node && kerf_doc_get(spec, "amiSelectorTerms"))
		kerf_decoder_error(
		    d, kerf_doc_get(spec, "amiSelectorTerms"),
		    "must specify amiFamily if amiSelectorTerms does not contain an alias");
	if (alias && !e->ami_family) {
		const char *fam = alias_family(alias);
		if (fam)
			e->ami_family = dupstr(fam);
	}
}

/* A list of mappings with known fields (status lists): shape checks only. */
static void status_list(struct kerf_decoder *d, const struct kerf_doc_node *st, const char *field,
			const char *const *fields)
{
	const struct kerf_doc_node *v = kerf_doc_get(st, field);
	size_t m;

	if (!v)
		return;
	m = kerf_decoder_push(d, field);
	if (kerf_decoder_seq(d, v)) {
		for (size_t i = 0; i < kerf_doc_size(v); i++) {
			size_t mi = kerf_decoder_push_index(d, i);
			if (kerf_decoder_map(d, kerf_doc_item(v, i)))
				kerf_decoder_known_fields(d, kerf_doc_item(v, i), fields);
			kerf_decoder_pop(d, mi);
		}
	}
	kerf_decoder_pop(d, m);
}

static void node_class_status(struct kerf_decoder *d, const struct kerf_doc_node *st)
{
	static const char *const fields[] = {"amis",
					     "capacityReservations",
					     "conditions",
					     "instanceProfile",
					     "securityGroups",
					     "subnets",
					     NULL};
	static const char *const ami[] = {"deprecated", "id", "name", "requirements", NULL};
	static const char *const cr[] = {"availabilityZone",
					 "endTime",
					 "id",
					 "instanceMatchCriteria",
					 "instanceType",
					 "interruptible",
					 "ownerID",
					 "reservationType",
					 "state",
					 NULL};
	static const char *const sg[] = {"id", "name", NULL};
	static const char *const sn[] = {"id", "zone", "zoneID", NULL};
	const struct kerf_doc_node *v;
	size_t m;

	if (!kerf_decoder_map(d, st))
		return;
	kerf_decoder_known_fields(d, st, fields);
	status_list(d, st, "amis", ami);
	status_list(d, st, "capacityReservations", cr);
	status_list(d, st, "securityGroups", sg);
	status_list(d, st, "subnets", sn);
	kerf_decoder_get_string(d, st, "instanceProfile", NULL);
	if ((v = kerf_doc_get(st, "conditions")) != NULL) {
		m = kerf_decoder_push(d, "conditions");
		kerf_decoder_conditions(d, v, true);
		kerf_decoder_pop(d, m);
	}
}

/* ------------------------------------------------------------- freeing */

static void selector_terms_clear(struct ec2_selector_terms *t)
{
	if (!t->items)
		return;
	for (size_t i = 0; i < t->n; i++) {
		struct ec2_selector_term *s = &t->items[i];
		kerf_labels_clear(&s->tags);
		free(s->id);
		free(s->name);
		free(s->alias);
		free(s->owner);
		free(s->instance_match_criteria);
		free(s->ssm_parameter);
		free(s->owner_id);
	}
	free(t->items);
	memset(t, 0, sizeof(*t));
}

static void kubelet_clear(struct ec2_kubelet *k)
{
	kerf_labels_clear(&k->eviction_hard);
	kerf_labels_clear(&k->eviction_soft);
	kerf_labels_clear(&k->eviction_soft_grace_period);
	for (size_t i = 0; i < k->n_cluster_dns; i++)
		free(k->cluster_dns[i]);
	free(k->cluster_dns);
	k->cluster_dns = NULL;
	k->n_cluster_dns = 0;
}

void ec2_node_class_clear(struct ec2_node_class *e)
{
	selector_terms_clear(&e->subnet_selector_terms);
	selector_terms_clear(&e->security_group_selector_terms);
	selector_terms_clear(&e->ami_selector_terms);
	selector_terms_clear(&e->capacity_reservation_selector_terms);
	free(e->ami_family);
	free(e->role);
	free(e->instance_profile);
	free(e->user_data);
	kerf_labels_clear(&e->tags);
	kubelet_clear(&e->kubelet);
	if (e->block_device_mappings) {
		for (size_t i = 0; i < e->n_block_device_mappings; i++) {
			struct ec2_block_device_mapping *b = &e->block_device_mappings[i];
			free(b->device_name);
			free(b->volume_type);
			free(b->kms_key_id);
			free(b->snapshot_id);
		}
		free(e->block_device_mappings);
	}
	free(e->http_endpoint);
	free(e->http_protocol_ipv6);
	free(e->http_tokens);
	free(e->instance_store_policy);
	free(e->context);
	free(e->nested_virtualization);
	free(e->placement_group_id);
	free(e->placement_group_name);
	free(e->network_interfaces);
	memset(e, 0, sizeof(*e));
}

/* ------------------------------------------------------------- objects */

const struct kerf_node_class_kind ec2_node_class_kinds[] = {
    {"karpenter.k8s.aws", "v1", "EC2NodeClass"},
    {NULL, NULL, NULL},
};

/*
 * The AWS provider's additions to Karpenter's well-known labels: the
 * allow-list of the karpenter.k8s.aws CEL rule in the CRDs it ships (v1.14).
 */
const char *const ec2_well_known_labels[] = {
    "topology.k8s.aws/zone-id",
    "karpenter.k8s.aws/instance-tenancy",
    "karpenter.k8s.aws/capacity-reservation-type",
    "karpenter.k8s.aws/capacity-reservation-id",
    "karpenter.k8s.aws/capacity-reservation-interruptible",
    "karpenter.k8s.aws/ec2nodeclass",
    "karpenter.k8s.aws/instance-encryption-in-transit-supported",
    "karpenter.k8s.aws/instance-category",
    "karpenter.k8s.aws/instance-hypervisor",
    "karpenter.k8s.aws/instance-family",
    "karpenter.k8s.aws/instance-generation",
    "karpenter.k8s.aws/instance-local-nvme",
    "karpenter.k8s.aws/instance-size",
    "karpenter.k8s.aws/instance-cpu",
    "karpenter.k8s.aws/instance-cpu-manufacturer",
    "karpenter.k8s.aws/instance-cpu-sustained-clock-speed-mhz",
    "karpenter.k8s.aws/instance-memory",
    "karpenter.k8s.aws/instance-ebs-bandwidth",
    "karpenter.k8s.aws/instance-network-bandwidth",
    "karpenter.k8s.aws/instance-gpu-name",
    "karpenter.k8s.aws/instance-gpu-manufacturer",
    "karpenter.k8s.aws/instance-gpu-count",
    "karpenter.k8s.aws/instance-gpu-memory",
    "karpenter.k8s.aws/instance-accelerator-name",
    "karpenter.k8s.aws/instance-accelerator-manufacturer",
    "karpenter.k8s.aws/instance-accelerator-count",
    "karpenter.k8s.aws/instance-capability-flex",
    "karpenter.k8s.aws/placement-group-id",
    "karpenter.k8s.aws/placement-group-partition",
    NULL,
};

const char *const ec2_restricted_label_domains[] = {"karpenter.k8s.aws", NULL};

/*
 * A family In names GPU and accelerator types (a g5 or inf2 pool); any
 * requirement on a GPU or accelerator label asks for those; a size In
 * naming metal asks for bare metal.
 */
const struct kerf_class_selector ec2_class_selectors[] = {
    {"karpenter.k8s.aws/instance-family", NULL, KERF_TYPE_GPU | KERF_TYPE_ACCELERATOR},
    {"karpenter.k8s.aws/instance-gpu*", NULL, KERF_TYPE_GPU},
    {"karpenter.k8s.aws/instance-accelerator*", NULL, KERF_TYPE_ACCELERATOR},
    {"karpenter.k8s.aws/instance-size", "metal", KERF_TYPE_METAL},
    {NULL, NULL, 0},
};

int ec2_node_class_decode(const struct kerf_doc_node *object, struct kerf_decoder *d,
			  struct ec2_node_class *e)
{
	const struct kerf_doc_node *v;
	size_t before = kerf_decoder_errors(d), m;

	memset(e, 0, sizeof(*e));
	e->kubelet.eviction_max_pod_grace_period = -1;
	e->kubelet.image_gc_high_threshold_percent = -1;
	e->kubelet.image_gc_low_threshold_percent = -1;
	e->kubelet.cpu_cfs_quota_set = -1;
	kerf_resources_init(&e->kubelet.system_reserved);
	kerf_resources_init(&e->kubelet.kube_reserved);
	e->associate_public_ip_address = -1;
	e->ip_prefix_count = -1;
	if (!(v = kerf_doc_get(object, "spec"))) {
		kerf_decoder_missing(d, object, "spec");
	} else {
		m = kerf_decoder_push(d, "spec");
		node_class_spec(d, v, e);
		kerf_decoder_pop(d, m);
	}
	if ((v = kerf_doc_get(object, "status")) != NULL) {
		m = kerf_decoder_push(d, "status");
		node_class_status(d, v);
		kerf_decoder_pop(d, m);
	}
	/* The metadataOptions defaults, also when the block is absent. */
	if (!e->http_endpoint)
		e->http_endpoint = dupstr("enabled");
	if (!e->http_protocol_ipv6)
		e->http_protocol_ipv6 = dupstr("disabled");
	if (!e->http_tokens)
		e->http_tokens = dupstr("required");
	if (!e->http_put_response_hop_limit)
		e->http_put_response_hop_limit = 1;
	return kerf_decoder_errors(d) > before ? KERF_E_CONFIG : 0;
}

int ec2_validate_node_class(const struct kerf_doc_node *object, struct kerf_decoder *d)
{
	struct ec2_node_class e;
	int rc = ec2_node_class_decode(object, d, &e);

	ec2_node_class_clear(&e);
	return rc;
}

int ec2_node_class_parse(const struct kerf_node_class *nc, struct ec2_node_class **out,
			 struct kerf_error *err)
{
	const struct kerf_node_class_kind *k = &ec2_node_class_kinds[0];
	const struct kerf_doc_node *object = nc ? kerf_doc_root(nc->doc) : NULL;
	struct kerf_decoder *d = NULL;
	struct ec2_node_class *e;
	int rc;

	if (!object || !nc->ref->group || !nc->ref->kind || strcmp(nc->ref->group, k->group) != 0 ||
	    strcmp(nc->ref->kind, k->kind) != 0)
		return kerf_error_set(err, KERF_E_INVALID, "%s/%s is not an %s",
				      nc && nc->ref->kind ? nc->ref->kind : "node class",
				      nc && nc->ref->name ? nc->ref->name : "(unnamed)", k->kind);
	kerf_decoder_new(k->kind, object, &d);
	e = zalloc(1, sizeof(*e));
	ec2_node_class_decode(object, d, e);
	rc = kerf_decoder_check(d, err);
	kerf_decoder_free(d);
	if (rc) {
		ec2_node_class_free(e);
		return rc;
	}
	*out = e;
	return 0;
}

/* ------------------------------------------------------ capacity */

#define MIB (1024ll * 1024)
#define GIB (1024 * MIB)
#define DEFAULT_ROOT_VOLUME (20 * GIB)
#define DEFAULT_EVICTION_MEMORY (100 * MIB)

/* Karpenter's kube-reserved cpu: 6% of the first core, 1% of the second, 0.5% up to 4, 0.25% on. */
static int64_t kube_reserved_cpu(int64_t millis)
{
	static const struct {
		int64_t start, end, per10k;
	} tiers[] = {{0, 1000, 600}, {1000, 2000, 100}, {2000, 4000, 50}, {4000, INT64_MAX, 25}};
	int64_t total = 0;

	for (size_t i = 0; i < sizeof(tiers) / sizeof(tiers[0]); i++)
		if (millis > tiers[i].start) {
			int64_t end = millis < tiers[i].end ? millis : tiers[i].end;
			total += (end - tiers[i].start) * tiers[i].per10k;
		}
	return total / 10000;
}

/* Karpenter's kube-reserved memory for a node of `pods` pods: 11 MiB each and 255 MiB. */
static int64_t kube_reserved_memory(int64_t pods)
{
	return (11 * pods + 255) * MIB;
}

/* One eviction signal's threshold on `capacity`: "10%" (rounded up) or a quantity. */
static int64_t signal_threshold(const char *value, int64_t capacity)
{
	size_t len = strlen(value);
	int64_t q;

	if (len && value[len - 1] == '%') {
		double pct = strtod(value, NULL);
		double t = (double)capacity * pct / 100.0;
		q = (int64_t)t;
		return (double)q < t ? q + 1 : q;
	}
	return kerf_quantity_parse(value, 0, &q, NULL) == 0 ? q : 0;
}

/* The larger of evictionHard's and evictionSoft's threshold for signal, else dflt. */
static int64_t eviction(const struct ec2_kubelet *k, const char *signal, int64_t capacity,
			int64_t dflt)
{
	const char *hard = kerf_labels_get(&k->eviction_hard, signal);
	const char *soft = kerf_labels_get(&k->eviction_soft, signal);
	int64_t t = 0;

	if (!hard && !soft)
		return dflt;
	if (hard)
		t = signal_threshold(hard, capacity);
	if (soft && signal_threshold(soft, capacity) > t)
		t = signal_threshold(soft, capacity);
	return t;
}

/* The root volume's size from blockDeviceMappings, 0 when they do not say. */
static int64_t root_volume(const struct ec2_node_class *nc)
{
	const char *device = nc->ami_family && strcmp(nc->ami_family, "Bottlerocket") == 0
				 ? "/dev/xvdb"
				 : "/dev/xvda";

	for (size_t i = 0; i < nc->n_block_device_mappings; i++)
		if (nc->block_device_mappings[i].root_volume)
			return nc->block_device_mappings[i].volume_size_bytes;
	for (size_t i = 0; i < nc->n_block_device_mappings; i++)
		if (nc->block_device_mappings[i].device_name &&
		    strcmp(nc->block_device_mappings[i].device_name, device) == 0)
			return nc->block_device_mappings[i].volume_size_bytes;
	return 0;
}

static int64_t less(int64_t a, int64_t b)
{
	return a > b ? a - b : 0;
}

void ec2_node_class_resources(const struct ec2_node_class *nc, struct kerf_resources *capacity,
			      struct kerf_resources *allocatable)
{
	const struct ec2_kubelet *k;
	int64_t cpu, pods_default, pods, memory, root, v;
	bool set;

	if (!nc)
		return;
	k = &nc->kubelet;
	cpu = kerf_resources_get(capacity, KERF_RESOURCE_CPU, NULL);
	pods_default = kerf_resources_get(allocatable, KERF_RESOURCE_PODS, NULL);
	pods = k->max_pods > 0 ? k->max_pods : pods_default;
	if (k->pods_per_core > 0 &&
	    !(nc->ami_family && strcmp(nc->ami_family, "Bottlerocket") == 0) &&
	    (int64_t)k->pods_per_core * (cpu / 1000) < pods)
		pods = (int64_t)k->pods_per_core * (cpu / 1000);
	/* The memory the kubelet sees: what the defaults' reservations were taken from. */
	memory = kerf_resources_get(allocatable, KERF_RESOURCE_MEMORY, NULL) +
		 kube_reserved_memory(pods_default) + DEFAULT_EVICTION_MEMORY;
	root = root_volume(nc);
	if (root <= 0)
		root = kerf_resources_get(capacity, KERF_RESOURCE_EPHEMERAL, &set);
	if (root <= 0)
		root = DEFAULT_ROOT_VOLUME;

	kerf_resources_set(capacity, KERF_RESOURCE_PODS, pods, NULL);
	kerf_resources_set(allocatable, KERF_RESOURCE_PODS, pods, NULL);
	kerf_resources_set(capacity, KERF_RESOURCE_EPHEMERAL, root, NULL);

	v = kerf_resources_get(&k->kube_reserved, KERF_RESOURCE_CPU, &set);
	v = less(cpu, set ? v : kube_reserved_cpu(cpu));
	kerf_resources_set(
	    allocatable, KERF_RESOURCE_CPU,
	    less(v, kerf_resources_get(&k->system_reserved, KERF_RESOURCE_CPU, NULL)), NULL);

	v = kerf_resources_get(&k->kube_reserved, KERF_RESOURCE_MEMORY, &set);
	v = less(memory, set ? v : kube_reserved_memory(pods));
	v = less(v, kerf_resources_get(&k->system_reserved, KERF_RESOURCE_MEMORY, NULL));
	kerf_resources_set(
	    allocatable, KERF_RESOURCE_MEMORY,
	    less(v, eviction(k, "memory.available", memory, DEFAULT_EVICTION_MEMORY)), NULL);

	v = kerf_resources_get(&k->kube_reserved, KERF_RESOURCE_EPHEMERAL, &set);
	v = less(root, set ? v : GIB);
	v = less(v, kerf_resources_get(&k->system_reserved, KERF_RESOURCE_EPHEMERAL, NULL));
	kerf_resources_set(
	    allocatable, KERF_RESOURCE_EPHEMERAL,
	    less(v, eviction(k, "nodefs.available", root, signal_threshold("10%", root))), NULL);
}

void ec2_default_resources(const struct ec2_type_figures *f, int64_t vm_overhead_milli,
			   struct kerf_resources *capacity, struct kerf_resources *allocatable)
{
	static const char *const devices[] = {KERF_RESOURCE_NVIDIA_GPU, KERF_RESOURCE_AMD_GPU,
					      KERF_RESOURCE_NEURON, "vpc.amazonaws.com/efa",
					      "vpc.amazonaws.com/pod-eni"};
	const int64_t counts[] = {f->nvidia_gpus, f->amd_gpus, f->neuron_devices, f->efa_interfaces,
				  f->pod_enis};
	int64_t cpu = f->vcpus * 1000;
	/* The hypervisor's share, whole MiB rounded up, as Karpenter subtracts it. */
	int64_t overhead = (f->memory_mib * vm_overhead_milli + 99999) / 100000;
	int64_t memory = (f->memory_mib - overhead) * MIB;

	kerf_resources_init(capacity);
	kerf_resources_init(allocatable);
	kerf_resources_set(capacity, KERF_RESOURCE_CPU, cpu, NULL);
	kerf_resources_set(capacity, KERF_RESOURCE_MEMORY, f->memory_mib * MIB, NULL);
	kerf_resources_set(capacity, KERF_RESOURCE_PODS, f->eni_pods, NULL);
	kerf_resources_set(capacity, KERF_RESOURCE_EPHEMERAL, DEFAULT_ROOT_VOLUME, NULL);
	kerf_resources_set(allocatable, KERF_RESOURCE_CPU, less(cpu, kube_reserved_cpu(cpu)), NULL);
	kerf_resources_set(
	    allocatable, KERF_RESOURCE_MEMORY,
	    less(less(memory, kube_reserved_memory(f->eni_pods)), DEFAULT_EVICTION_MEMORY), NULL);
	kerf_resources_set(allocatable, KERF_RESOURCE_PODS, f->eni_pods, NULL);
	kerf_resources_set(
	    allocatable, KERF_RESOURCE_EPHEMERAL,
	    less(less(DEFAULT_ROOT_VOLUME, GIB), signal_threshold("10%", DEFAULT_ROOT_VOLUME)),
	    NULL);
	/* Extended resources exist only where the type has them, as on a real node. */
	for (size_t i = 0; i < sizeof(devices) / sizeof(devices[0]); i++)
		if (counts[i] > 0) {
			kerf_resources_set(capacity, devices[i], counts[i], NULL);
			kerf_resources_set(allocatable, devices[i], counts[i], NULL);
		}
}

void ec2_node_class_free(struct ec2_node_class *e)
{
	if (!e)
		return;
	ec2_node_class_clear(e);
	free(e);
}
