/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ec2_prices.h - prices and insufficient-capacity marks.
 *
 * On-demand prices come from the Pricing API's GetProducts pages (JSON,
 * each PriceList entry a JSON document in a string), spot prices from
 * DescribeSpotPriceHistory pages (XML), the newest per type and zone.  A
 * type the Pricing API does not price falls back on the compiled-in
 * catalogue (ec2_catalogue.h).  Memory is malloc'd; out of memory aborts.
 */
#ifndef KERF_EC2_PRICES_H
#define KERF_EC2_PRICES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <libxml/tree.h>

#include <kerf/kerf.h>

struct ec2_price {
	char *type;
	char *zone;    /* "" for on-demand, priced per region */
	int64_t price; /* micro-dollars per hour */
	char *stamp;   /* spot: the history entry's timestamp (ISO 8601 sorts as text) */
};

/* Sorted by (type, zone) after ec2_prices_sort; lookups need that. */
struct ec2_prices {
	size_t n, cap;
	struct ec2_price *items;
};

/*
 * Adds one GetProducts response's products (aws_json's result).
 * KERF_E_PARSE when it has no PriceList or an entry is not a product
 * document; products without an instance type or a USD price are skipped.
 */
int ec2_prices_add_products(struct ec2_prices *p, const json_t *page, struct kerf_error *err);
/*
 * Adds one DescribeSpotPriceHistory page, keeping the newest price per
 * type and zone.  KERF_E_PARSE when it has no spotPriceHistorySet.
 */
int ec2_prices_add_spot(struct ec2_prices *p, const xmlDoc *page, struct kerf_error *err);
void ec2_prices_sort(struct ec2_prices *p);
/* The price of type in zone ("" on demand), -1 when unknown. */
int64_t ec2_prices_get(const struct ec2_prices *p, const char *type, const char *zone);
void ec2_prices_clear(struct ec2_prices *p);

/*
 * The GetProducts request for on-demand Linux prices in region (shared
 * tenancy, no pre-installed software, used capacity), from `token` (NULL
 * for the first page).  Caller json_decref's it.
 */
json_t *ec2_products_request(const char *region, const char *token);

/* --------------------------------------------------- insufficient capacity */

/*
 * Offerings EC2 said it had no capacity for, each until a moment of the
 * host's monotonic clock.  Not locked: the plugin guards it.
 */
struct ec2_ice {
	size_t n, cap;
	struct ec2_ice_mark {
		char *type, *zone;
		kerf_capacity_type ct;
		kerf_mono_ms_t until;
	} * items;
};

/* How long an offering stays unavailable after an insufficient-capacity error. */
#define EC2_ICE_TTL_MS (3 * 60 * 1000)

/* Marks (type, zone, ct) unavailable until now + EC2_ICE_TTL_MS. */
void ec2_ice_mark(struct ec2_ice *ice, const char *type, const char *zone, kerf_capacity_type ct,
		  kerf_mono_ms_t now);
/* True while the offering's mark lasts; expired marks are dropped. */
bool ec2_ice_blocked(struct ec2_ice *ice, const char *type, const char *zone, kerf_capacity_type ct,
		     kerf_mono_ms_t now);
void ec2_ice_clear(struct ec2_ice *ice);

/*
 * True for EC2 error codes that mean no capacity for an offering (and not
 * a fault of the request): InsufficientInstanceCapacity, ...
 */
bool ec2_is_capacity_code(const char *code);

#endif
