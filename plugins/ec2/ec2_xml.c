/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ec2_xml.c - reading values out of EC2's XML responses, on the AWS
 * client's local-name navigation (aws.h).
 */
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "aws.h"
#include "ec2_xml.h"

const xmlNode *ec2_xml_items(const xmlNode *n, const char *set_path)
{
	return aws_xml_child(aws_xml_path(n, set_path), "item");
}

char *ec2_xml_str(const xmlNode *n, const char *path)
{
	const xmlNode *e = aws_xml_path(n, path);
	xmlChar *content;
	char *s;

	if (!e)
		return NULL;
	content = xmlNodeGetContent(e);
	s = strdup(content ? (const char *)content : "");
	xmlFree(content);
	if (!s)
		abort();
	return s;
}

bool ec2_xml_int(const xmlNode *n, const char *path, int64_t *out)
{
	char *s = ec2_xml_str(n, path), *end;
	long long v;
	bool ok;

	if (!s)
		return false;
	v = strtoll(s, &end, 10);
	ok = *s && !*end;
	if (ok)
		*out = v;
	free(s);
	return ok;
}

bool ec2_xml_true(const xmlNode *n, const char *path)
{
	char *s = ec2_xml_str(n, path);
	bool t = s && strcmp(s, "true") == 0;

	free(s);
	return t;
}

char *ec2_xml_next_token(const xmlDoc *doc)
{
	char *t = ec2_xml_str(xmlDocGetRootElement(doc), "nextToken");

	if (t && !*t) {
		free(t);
		return NULL;
	}
	return t;
}

bool ec2_parse_usd(const char *s, int64_t *micro)
{
	int64_t whole = 0, frac = 0;
	int digits = 0;
	bool rest = false, any = false;

	for (; *s >= '0' && *s <= '9'; s++, any = true) {
		if (whole > INT64_MAX / 10 / 1000000 - 1)
			return false;
		whole = whole * 10 + (*s - '0');
	}
	if (*s == '.')
		for (s++; *s >= '0' && *s <= '9'; s++, any = true) {
			if (digits < 6) {
				frac = frac * 10 + (*s - '0');
				digits++;
			} else if (*s != '0') {
				rest = true;
			}
		}
	if (*s || !any)
		return false;
	for (; digits < 6; digits++)
		frac *= 10;
	*micro = whole * 1000000 + frac + (rest ? 1 : 0);
	return true;
}
