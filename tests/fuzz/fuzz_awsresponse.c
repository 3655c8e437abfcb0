/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: AWS response bodies as the ec2 plugin's client reads them
 * (plugins/ec2/aws.h): the XML parser with its limits and the lookups by
 * local name, the JSON parser, and the error decoder on both, with and
 * without an x-amzn-ErrorType header.
 */
#include <stdlib.h>
#include <string.h>

#include "aws.h"
#include "fuzz.h"

/* Visits every element the way the provider reads responses. */
static void walk(const xmlNode *n, int depth)
{
	for (const xmlNode *c = n ? n->children : NULL; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		char *t = aws_xml_text(n, (const char *)c->name);
		free(t);
		(void)aws_xml_next(c);
		if (depth < AWS_MAX_XML_DEPTH)
			walk(c, depth + 1);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body = (const char *)data;
	struct kerf_error err = KERF_ERROR_INIT;
	xmlDoc *doc = NULL;
	if (aws_xml_parse(body, size, &doc, &err) == 0) {
		xmlNode *root = xmlDocGetRootElement(doc);
		walk(root, 0);
		(void)aws_xml_path(root, "reservationSet/item/instancesSet/item/instanceState");
		xmlFreeDoc(doc);
	}
	json_t *j = NULL;
	if (aws_json_parse(body, size, &j, &err) == 0)
		json_decref(j);
	char code[64], msg[256];
	if (aws_error_decode(body, size, NULL, code, sizeof(code), msg, sizeof(msg)))
		(void)aws_error_map(code, 400);
	/* The input as an x-amzn-ErrorType header of a response with no body. */
	char *header = malloc(size + 1);
	if (!header)
		abort();
	memcpy(header, data, size);
	header[size] = '\0';
	if (aws_error_decode("", 0, header, code, sizeof(code), msg, sizeof(msg)))
		(void)aws_error_map(code, 503);
	free(header);
	return 0;
}
