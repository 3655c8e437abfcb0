/* SPDX-License-Identifier: Apache-2.0 */
/*
 * aws_decode.c - AWS responses read with limits: XML and JSON parsing,
 * error answers, the error-code mapping, and element lookup by local name.
 */
#include "aws.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>

#include "aws_buf.h"

/* ------------------------------------------------------------ XML */

/* libxml2 reports through a global handler by default; the client reports through err. */
static void aws_xml_quiet(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
}

static size_t xml_depth(const xmlNode *root)
{
	size_t depth = 0, max = 0;
	const xmlNode *n = root;
	while (n) {
		if (n->type == XML_ELEMENT_NODE && depth + 1 > max)
			max = depth + 1;
		if (n->children && n->type == XML_ELEMENT_NODE) {
			n = n->children;
			depth++;
			continue;
		}
		while (n && !n->next) {
			n = n->parent;
			if (!n || n->type == XML_DOCUMENT_NODE)
				return max;
			depth--;
		}
		if (n)
			n = n->next;
	}
	return max;
}

int aws_xml_parse(const char *body, size_t len, xmlDoc **out, struct kerf_error *err)
{
	*out = NULL;
	if (len > AWS_MAX_RESPONSE_BYTES)
		return kerf_error_set(err, KERF_E_RANGE, "XML response of %zu bytes exceeds %u",
				      len, AWS_MAX_RESPONSE_BYTES);
	if (len > (size_t)0x7fffffff)
		return kerf_error_set(err, KERF_E_RANGE, "XML response too large");
	/* AWS never sends a DTD; refusing one rules out entity expansion of any kind. */
	if (memmem(body, len, "<!DOCTYPE", 9) || memmem(body, len, "<!ENTITY", 8))
		return kerf_error_set(err, KERF_E_PARSE,
				      "XML response has a DTD, which AWS never sends");
	xmlSetGenericErrorFunc(NULL, aws_xml_quiet);
	xmlDoc *doc = xmlReadMemory(body, (int)len, "aws-response.xml", NULL,
				    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
					XML_PARSE_NOCDATA);
	if (!doc) {
		const xmlError *e = xmlGetLastError();
		return kerf_error_set(err, KERF_E_PARSE, "XML response is not well-formed%s%s",
				      e && e->message ? ": " : "",
				      e && e->message ? e->message : "");
	}
	xmlNode *root = xmlDocGetRootElement(doc);
	if (!root) {
		xmlFreeDoc(doc);
		return kerf_error_set(err, KERF_E_PARSE, "XML response has no root element");
	}
	if (xml_depth(root) > AWS_MAX_XML_DEPTH) {
		xmlFreeDoc(doc);
		return kerf_error_set(err, KERF_E_RANGE, "XML response nests deeper than %d",
				      AWS_MAX_XML_DEPTH);
	}
	*out = doc;
	return 0;
}

xmlNode *aws_xml_child(const xmlNode *parent, const char *name)
{
	if (!parent)
		return NULL;
	for (xmlNode *n = parent->children; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0)
			return n;
	return NULL;
}

xmlNode *aws_xml_next(const xmlNode *node)
{
	if (!node)
		return NULL;
	for (xmlNode *n = node->next; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE && xmlStrEqual(n->name, node->name))
			return n;
	return NULL;
}

xmlNode *aws_xml_path(const xmlNode *parent, const char *path)
{
	const xmlNode *n = parent;
	const char *p = path;
	char step[128];
	while (n && *p) {
		const char *e = strchr(p, '/');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		if (l >= sizeof(step))
			return NULL;
		memcpy(step, p, l);
		step[l] = '\0';
		n = aws_xml_child(n, step);
		p = e ? e + 1 : p + l;
	}
	return (xmlNode *)n;
}

char *aws_xml_text(const xmlNode *parent, const char *name)
{
	xmlNode *n = aws_xml_child(parent, name);
	if (!n)
		return NULL;
	xmlChar *t = xmlNodeGetContent(n);
	char *s = aws_xstrdup(t ? (const char *)t : "");
	xmlFree(t);
	return s;
}

/* ------------------------------------------------------------ JSON */

static size_t json_depth(const json_t *j, size_t limit)
{
	if (limit == 0)
		return 1;
	size_t max = 0;
	if (json_is_object(j)) {
		const char *k;
		json_t *v;
		json_object_foreach((json_t *)j, k, v)
		{
			size_t d = json_depth(v, limit - 1);
			if (d > max)
				max = d;
		}
		return max + 1;
	}
	if (json_is_array(j)) {
		size_t i;
		json_t *v;
		json_array_foreach(j, i, v)
		{
			size_t d = json_depth(v, limit - 1);
			if (d > max)
				max = d;
		}
		return max + 1;
	}
	return 0;
}

int aws_json_parse(const char *body, size_t len, json_t **out, struct kerf_error *err)
{
	*out = NULL;
	if (len > AWS_MAX_RESPONSE_BYTES)
		return kerf_error_set(err, KERF_E_RANGE, "JSON response of %zu bytes exceeds %u",
				      len, AWS_MAX_RESPONSE_BYTES);
	json_error_t je;
	json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	if (!j)
		return kerf_error_set(err, KERF_E_PARSE, "JSON response: line %d column %d: %s",
				      je.line, je.column, je.text);
	if (json_depth(j, AWS_MAX_JSON_DEPTH + 1) > AWS_MAX_JSON_DEPTH) {
		json_decref(j);
		return kerf_error_set(err, KERF_E_RANGE, "JSON response nests deeper than %d",
				      AWS_MAX_JSON_DEPTH);
	}
	*out = j;
	return 0;
}

/* ------------------------------------------------------------ errors */

static void copy_cut(char *dst, size_t size, const char *src, size_t len)
{
	if (size == 0)
		return;
	if (len >= size)
		len = size - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
	/* Messages are one line. */
	for (size_t i = 0; i < len; i++)
		if (dst[i] == '\n' || dst[i] == '\r')
			dst[i] = ' ';
}

/* "com.amazon.coral.validate#ValidationException:http://..." -> "ValidationException" */
static void aws_type_to_code(const char *type, char *code, size_t code_size)
{
	const char *h = strrchr(type, '#');
	const char *s = h ? h + 1 : type;
	size_t l = strcspn(s, ":");
	copy_cut(code, code_size, s, l);
}

bool aws_error_decode(const char *body, size_t len, const char *error_type_header, char *code,
		      size_t code_size, char *message, size_t message_size)
{
	if (code_size)
		code[0] = '\0';
	if (message_size)
		message[0] = '\0';
	size_t i = 0;
	while (i < len && (body[i] == ' ' || body[i] == '\n' || body[i] == '\r' || body[i] == '\t'))
		i++;
	if (i < len && body[i] == '<') {
		xmlDoc *doc = NULL;
		if (aws_xml_parse(body, len, &doc, NULL) != 0)
			return false;
		xmlNode *root = xmlDocGetRootElement(doc);
		/* EC2: Response/Errors/Error; STS and others: ErrorResponse/Error. */
		xmlNode *e = aws_xml_path(root, "Errors/Error");
		if (!e)
			e = aws_xml_child(root, "Error");
		if (!e && strcmp((const char *)root->name, "Error") == 0)
			e = root;
		bool found = false;
		if (e) {
			char *c = aws_xml_text(e, "Code");
			char *m = aws_xml_text(e, "Message");
			if (c && *c) {
				copy_cut(code, code_size, c, strlen(c));
				found = true;
			}
			if (m)
				copy_cut(message, message_size, m, strlen(m));
			free(c);
			free(m);
		}
		xmlFreeDoc(doc);
		return found;
	}
	bool found = false;
	if (i < len && body[i] == '{') {
		json_t *j = NULL;
		if (aws_json_parse(body, len, &j, NULL) == 0 && json_is_object(j)) {
			const char *t = json_string_value(json_object_get(j, "__type"));
			if (!t)
				t = json_string_value(json_object_get(j, "code"));
			if (t && *t) {
				aws_type_to_code(t, code, code_size);
				found = code_size && code[0];
			}
			const char *m = json_string_value(json_object_get(j, "message"));
			if (!m)
				m = json_string_value(json_object_get(j, "Message"));
			if (m)
				copy_cut(message, message_size, m, strlen(m));
		}
		json_decref(j);
	}
	if (!found && error_type_header && *error_type_header) {
		aws_type_to_code(error_type_header, code, code_size);
		found = code_size && code[0];
	}
	return found;
}

static bool in_list(const char *code, const char *const *list)
{
	for (size_t i = 0; list[i]; i++)
		if (strcmp(code, list[i]) == 0)
			return true;
	return false;
}

static const char *const THROTTLING[] = {"RequestLimitExceeded",
					 "Throttling",
					 "ThrottlingException",
					 "ThrottledException",
					 "RequestThrottledException",
					 "TooManyRequestsException",
					 "RequestThrottled",
					 "ProvisionedThroughputExceededException",
					 "TransactionInProgressException",
					 "SlowDown",
					 "BandwidthLimitExceeded",
					 "PriorRequestNotComplete",
					 "EC2ThrottledException",
					 NULL};

static const char *const AUTH[] = {"AuthFailure",
				   "SignatureDoesNotMatch",
				   "InvalidSignatureException",
				   "IncompleteSignature",
				   "InvalidClientTokenId",
				   "UnrecognizedClientException",
				   "MissingAuthenticationToken",
				   "MissingAuthenticationTokenException",
				   "ExpiredToken",
				   "ExpiredTokenException",
				   "RequestExpired",
				   "InvalidToken",
				   "InvalidIdentityToken",
				   "IDPRejectedClaim",
				   "IDPCommunicationError",
				   "UnauthorizedOperation",
				   "AccessDenied",
				   "AccessDeniedException",
				   "OptInRequired",
				   "Blocked",
				   NULL};

static const char *const CAPACITY[] = {"InsufficientInstanceCapacity",
				       "InsufficientHostCapacity",
				       "InsufficientReservedInstanceCapacity",
				       "InsufficientCapacity",
				       "InsufficientCapacityOnHost",
				       "InsufficientFreeAddressesInSubnet",
				       "MaxSpotInstanceCountExceeded",
				       "MaxFleetCountExceeded",
				       "UnfulfillableCapacity",
				       "ReservationCapacityExceeded",
				       "SpotMaxPriceTooLow",
				       NULL};

static const char *const SERVER[] = {"InternalError",
				     "InternalFailure",
				     "InternalServerError",
				     "ServiceUnavailable",
				     "ServiceUnavailableException",
				     "Unavailable",
				     "RequestTimeout",
				     "RequestTimeoutException",
				     "InternalServiceError",
				     NULL};

int aws_error_map(const char *code, int status)
{
	if (code && *code) {
		if (in_list(code, THROTTLING))
			return KERF_E_THROTTLED;
		if (in_list(code, AUTH))
			return KERF_E_AUTH;
		if (in_list(code, CAPACITY))
			return KERF_E_CAPACITY;
		size_t l = strlen(code);
		if ((l > 8 && strcmp(code + l - 8, "NotFound") == 0) ||
		    strcmp(code, "ResourceNotFoundException") == 0 ||
		    strcmp(code, "ParameterNotFound") == 0 ||
		    strcmp(code, "NotFoundException") == 0)
			return KERF_E_NOTFOUND;
	}
	/* AWS sheds load with 503 whatever code it puts on it. */
	if (status == 429 || status == 503)
		return KERF_E_THROTTLED;
	if (code && in_list(code, SERVER))
		return KERF_E_HTTP;
	if (status == 401 || status == 403)
		return KERF_E_AUTH;
	if (status >= 500)
		return KERF_E_HTTP;
	if (status == 404)
		return KERF_E_NOTFOUND;
	return KERF_E_INVALID;
}
