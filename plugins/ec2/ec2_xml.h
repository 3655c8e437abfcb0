/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ec2_xml.h - reading EC2's Query-protocol responses.
 *
 * EC2 answers in XML whose elements sit in the response's default
 * namespace; these helpers read values at paths of local names separated
 * by '/' (aws_xml_path, aws.h), and walk sets with aws_xml_next.  Strings returned are malloc'd
 * (caller frees); out of memory aborts.
 */
#ifndef KERF_EC2_XML_H
#define KERF_EC2_XML_H

#include <stdbool.h>
#include <stdint.h>

#include <libxml/tree.h>

/* The text at `path` (malloc'd), or NULL when the element is absent. */
char *ec2_xml_str(const xmlNode *n, const char *path);
/* True when `path` holds a decimal integer; *out set then. */
bool ec2_xml_int(const xmlNode *n, const char *path, int64_t *out);
/* True when `path` holds "true". */
bool ec2_xml_true(const xmlNode *n, const char *path);
/* The response's <nextToken>, NULL when the last page. */
char *ec2_xml_next_token(const xmlDoc *doc);

/*
 * "0.0850000000" (US dollars, as EC2 and the Pricing API write them) as
 * micro-dollars, the digits past the sixth rounded up so that a price is
 * never understated.  False when s is not a non-negative decimal.
 */
bool ec2_parse_usd(const char *s, int64_t *micro);

/* Each element item of a set: for (it = ec2_xml_items(n, "instanceTypeSet"); it; it =
 * aws_xml_next(it)) */
const xmlNode *ec2_xml_items(const xmlNode *n, const char *set_path);

#endif
