/* SPDX-License-Identifier: Apache-2.0 */
/*
 * aws.h - the ec2 plugin's AWS client: SigV4-signed Query (EC2, STS) and
 * JSON 1.1 (SSM, Pricing) calls, the credential chain, retries and AWS's
 * error codes mapped onto kerf's.
 *
 * Everything goes through the plugin's host table (kerf/host.h): HTTP,
 * the clock used for signing and credential expiry, environment and files.
 * Nothing here reads the process environment or the clock directly, so the
 * same client runs against AWS, a VPC endpoint or the loopback fake of the
 * tests (tests/fakes/fake_aws.h), chosen by the endpoints in aws_config.
 *
 * A client may be used from several threads at once: credentials are
 * resolved and refreshed under a lock, requests run in parallel.  Secrets
 * (secret keys, session tokens, web identity and container tokens) are
 * registered with the host as they are read, so its log redacts them, and
 * no message written here ever contains one.
 *
 * Not an ABI: this header is private to the ec2 plugin and its tests.
 */
#ifndef KERF_EC2_AWS_H
#define KERF_EC2_AWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <libxml/tree.h>

#include <kerf/error.h>
#include <kerf/host.h>

/* The services the client calls; each has an endpoint override. */
enum aws_service { AWS_EC2, AWS_STS, AWS_SSM, AWS_PRICING, AWS_IMDS, AWS_EKS, AWS_SERVICE_COUNT };

/* Query-protocol parameters, in insertion order; names like "Filter.1.Name". */
struct aws_param {
	char *name;
	char *value;
};
/* Zero-initialised is empty.  Owns its strings; aws_params_clear frees them. */
struct aws_params {
	struct aws_param *items;
	size_t n, cap;
};

/* Appends name=value, copying both.  Aborts on out of memory. */
void aws_params_add(struct aws_params *p, const char *name, const char *value);
/* Appends name with a printf-formatted value.  Aborts on out of memory. */
void aws_params_addf(struct aws_params *p, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Frees every entry and the array; p is empty and reusable afterwards.  NULL allowed. */
void aws_params_clear(struct aws_params *p);

/*
 * Where and how to call AWS.  Every string is copied by aws_client_new, so
 * the caller's may go away afterwards.
 */
struct aws_config {
	/* "us-west-2"; NULL: AWS_REGION, AWS_DEFAULT_REGION, then the profile's
	 * region in the shared config file */
	const char *region;
	const char *endpoint[AWS_SERVICE_COUNT]; /* NULL: AWS's default for the service/region */
	const char *profile;			 /* NULL: AWS_PROFILE or "default" */
	const char *pricing_region;		 /* NULL: "us-east-1" */
	int max_attempts; /* 0: default (5); attempts per call, first included */
};

struct aws_client;

/*
 * Creates a client for one plugin instance.  host must outlive the client.
 * Fails with KERF_E_CONFIG when no region is given or found in the
 * environment or the shared config file, or an endpoint is not an
 * http(s) URL.  Blocks only to read
 * files; credentials are fetched lazily on the first call that needs them.
 * *out is freed with aws_client_free.
 */
int aws_client_new(const struct kerf_host *host, const struct aws_config *cfg,
		   struct aws_client **out, struct kerf_error *err);
/* Frees the client and wipes the credentials it held.  NULL allowed.  No call may be running. */
void aws_client_free(struct aws_client *c);

/*
 * Query protocol (EC2, STS): POST form body Action=&Version=&params, SigV4-signed,
 * retried on throttling/5xx/dropped connections with jittered back-off.
 * On success *out is the parsed response document (caller frees with xmlFreeDoc).
 * On an AWS error: err->provider_code = AWS's code ("InsufficientInstanceCapacity"),
 * err->message = "Code: Message", err->http_status set, and the return is
 * KERF_E_THROTTLED (throttling, after retries), KERF_E_AUTH (AuthFailure,
 * SignatureDoesNotMatch, expired/invalid token, UnauthorizedOperation),
 * KERF_E_CAPACITY (InsufficientInstanceCapacity, InsufficientHostCapacity,
 * MaxSpotInstanceCountExceeded, UnfulfillableCapacity, InsufficientFreeAddressesInSubnet...),
 * KERF_E_NOTFOUND (*.NotFound codes), KERF_E_INVALID (other 4xx), KERF_E_HTTP (5xx after retries),
 * KERF_E_IO (connection failed after retries).  A response that is not
 * well-formed XML within the limits below is KERF_E_PARSE.  Blocks.
 *
 * XML documents are parsed with size (AWS_MAX_RESPONSE_BYTES) and depth
 * (AWS_MAX_XML_DEPTH) limits and no network access, DTD or entity
 * expansion.  EC2's elements are in the response's default namespace:
 * match them by local name (aws_xml_child and friends below).
 */
int aws_query(struct aws_client *c, enum aws_service svc, const char *action,
	      const struct aws_params *params, xmlDoc **out, struct kerf_error *err);

/*
 * JSON 1.1 protocol (SSM, Pricing): POST body, X-Amz-Target "<target>"
 * ("AmazonSSM.GetParameter", "AWSPriceListService.GetProducts").  body NULL
 * sends "{}".  *out owned by the caller (json_decref).  Same errors and
 * retries as aws_query; JSON limits AWS_MAX_RESPONSE_BYTES and
 * AWS_MAX_JSON_DEPTH.  Blocks.
 */
int aws_json(struct aws_client *c, enum aws_service svc, const char *target, const json_t *body,
	     json_t **out, struct kerf_error *err);

/*
 * REST-JSON (EKS): method and path ("/clusters/NAME", already
 * percent-encoded where needed), body NULL for none.  *out owned by the
 * caller.  Same errors and retries as aws_query.  Blocks.
 */
int aws_rest_json(struct aws_client *c, enum aws_service svc, const char *method, const char *path,
		  const json_t *body, json_t **out, struct kerf_error *err);

/* ------------------------------------------------------------ limits and decoding */

/* Largest response body read from AWS; the Pricing API's pages are the largest. */
#define AWS_MAX_RESPONSE_BYTES (16u * 1024u * 1024u)
/* Deepest element nesting accepted in XML; EC2's deepest responses nest about 10. */
#define AWS_MAX_XML_DEPTH 48
/* Deepest nesting accepted in JSON (Pricing's product documents nest about 8). */
#define AWS_MAX_JSON_DEPTH 48

/*
 * Parses an XML response body within the limits above; no DTD, entities
 * or network.  *out freed with xmlFreeDoc.  KERF_E_PARSE or KERF_E_RANGE
 * (too large, too deep) with the reason in err.  Does not block.
 */
int aws_xml_parse(const char *body, size_t len, xmlDoc **out, struct kerf_error *err);
/*
 * Parses a JSON document within the limits above (Pricing's PriceList
 * entries are JSON inside JSON strings: parse each with this).  *out owned
 * by the caller.  KERF_E_PARSE or KERF_E_RANGE.  Does not block.
 */
int aws_json_parse(const char *body, size_t len, json_t **out, struct kerf_error *err);

/*
 * Reads an AWS error answer (Query XML <Response><Errors><Error>, STS's
 * <ErrorResponse><Error>, JSON {"__type", "message"} or the
 * x-amzn-ErrorType header's value in error_type_header, NULL when none)
 * into code and message, both NUL-terminated and cut to size.  Returns
 * true when a code was found.  Does not block.
 */
bool aws_error_decode(const char *body, size_t len, const char *error_type_header, char *code,
		      size_t code_size, char *message, size_t message_size);

/*
 * The kerf code for AWS error `code` with HTTP `status` (0 when the code
 * came without a response): the mapping aws_query documents, before
 * retries.  Does not block.
 */
int aws_error_map(const char *code, int status);

/* First child element of parent with local name `name`, NULL when none. */
xmlNode *aws_xml_child(const xmlNode *parent, const char *name);
/* Next sibling element of node with the same local name, NULL when none. */
xmlNode *aws_xml_next(const xmlNode *node);
/*
 * Follows a path of local names separated by '/' from parent
 * ("reservationSet/item/instancesSet"), NULL when a step is missing.
 */
xmlNode *aws_xml_path(const xmlNode *parent, const char *path);
/*
 * Text of the child element `name` of parent, malloc'd (caller frees);
 * NULL when the element is missing.  An empty element gives "".
 */
char *aws_xml_text(const xmlNode *parent, const char *name);

/* ------------------------------------------------------------ pagination */

/*
 * Calls aws_query(action, params) page after page, adding NextToken=<token>
 * (and keeping every other parameter), until a response has no nextToken.
 * page() gets each document (borrowed until it returns) and returns 0 to
 * go on or a negative KERF_E_* to stop with that code.  At most max_pages
 * pages (0: 1000), then KERF_E_RANGE, so a server that never ends cannot
 * loop forever.  Blocks.
 */
int aws_query_pages(struct aws_client *c, enum aws_service svc, const char *action,
		    const struct aws_params *params, size_t max_pages,
		    int (*page)(void *arg, xmlDoc *doc, struct kerf_error *err), void *arg,
		    struct kerf_error *err);

/* ------------------------------------------------------------ test seams */

/*
 * Replaces how the client waits between retries (default: nanosleep on the
 * calling thread).  Tests count the waits instead of sleeping.  ms >= 0.
 * Set before the first call; not thread-safe against running calls.
 */
void aws_client_set_sleep(struct aws_client *c, void (*sleep_ms)(void *arg, int64_t ms), void *arg);
/*
 * Seeds the jitter of the back-off (default: from the host's real
 * monotonic clock and the client's address), so a test's waits repeat.
 */
void aws_client_set_seed(struct aws_client *c, uint64_t seed);

/*
 * The back-off before retry number `retry` (1 for the first retry) with
 * jitter drawn from `*state` (advanced): uniform in [0, min(cap, base *
 * 2^(retry-1))], base 200 ms for errors and 1 s for throttling, cap 20 s;
 * at least retry_after_ms when the server asked for a wait.  Exposed so
 * tests check its bounds.  Does not block.
 */
int64_t aws_backoff_ms(int retry, bool throttled, int64_t retry_after_ms, uint64_t *state);

/*
 * Where the credentials in use came from: "env", "web-identity",
 * "container", "profile:NAME", "assume-role:NAME", "imds", or NULL before
 * the first resolution.  Borrowed until the next call on the client.
 * For tests and the plugin's startup log line.
 */
const char *aws_client_credential_source(struct aws_client *c);
/*
 * Resolves credentials now (normally done lazily by the first call), so a
 * plugin can fail at startup.  Same errors as aws_query.  Blocks.
 */
int aws_client_resolve_credentials(struct aws_client *c, struct kerf_error *err);

#endif
