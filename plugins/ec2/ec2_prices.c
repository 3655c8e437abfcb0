/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ec2_prices.c - on-demand and spot prices, and the insufficient-capacity
 * marks that keep the next decision off an offering EC2 just refused.
 */
#include <stdlib.h>
#include <string.h>

#include "aws.h"
#include "ec2_prices.h"
#include "ec2_xml.h"

static char *dup(const char *s)
{
	char *d = strdup(s ? s : "");

	if (!d)
		abort();
	return d;
}

static int by_key(const void *a, const void *b)
{
	const struct ec2_price *x = a, *y = b;
	int c = strcmp(x->type, y->type);

	return c ? c : strcmp(x->zone, y->zone);
}

static struct ec2_price *find(const struct ec2_prices *p, const char *type, const char *zone)
{
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->items[i].type, type) == 0 && strcmp(p->items[i].zone, zone) == 0)
			return &p->items[i];
	return NULL;
}

static struct ec2_price *add(struct ec2_prices *p, const char *type, const char *zone)
{
	struct ec2_price *e;

	if (p->n == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 256;
		p->items = realloc(p->items, p->cap * sizeof(*p->items));
		if (!p->items)
			abort();
	}
	e = &p->items[p->n++];
	memset(e, 0, sizeof(*e));
	e->type = dup(type);
	e->zone = dup(zone);
	return e;
}

/* terms.OnDemand.<offer>.priceDimensions.<dim>.pricePerUnit.USD of one product. */
static bool on_demand_usd(const json_t *product, int64_t *price)
{
	const json_t *od = json_object_get(json_object_get(product, "terms"), "OnDemand");
	const char *k1, *k2;
	json_t *offer, *dim;

	json_object_foreach((json_t *)od, k1, offer)
	{
		json_object_foreach(json_object_get(offer, "priceDimensions"), k2, dim)
		{
			const char *usd = json_string_value(
			    json_object_get(json_object_get(dim, "pricePerUnit"), "USD"));
			if (usd && ec2_parse_usd(usd, price))
				return true;
		}
	}
	return false;
}

int ec2_prices_add_products(struct ec2_prices *p, const json_t *page, struct kerf_error *err)
{
	const json_t *list = json_object_get(page, "PriceList");
	size_t i;
	json_t *entry;

	if (!json_is_array(list))
		return kerf_error_set(err, KERF_E_PARSE,
				      "GetProducts: the response has no PriceList");
	json_array_foreach(list, i, entry)
	{
		const char *text = json_string_value(entry), *type;
		json_t *product = NULL;
		int64_t price;
		int rc;

		if (!text)
			return kerf_error_set(err, KERF_E_PARSE,
					      "GetProducts: PriceList[%zu] is not a string", i);
		if ((rc = aws_json_parse(text, strlen(text), &product, err)) != 0)
			return rc;
		type = json_string_value(json_object_get(
		    json_object_get(json_object_get(product, "product"), "attributes"),
		    "instanceType"));
		/* A zero price is a reservation's placeholder, not an offer. */
		if (type && on_demand_usd(product, &price) && price > 0) {
			struct ec2_price *e = find(p, type, "");
			if (!e)
				e = add(p, type, "");
			e->price = price;
		}
		json_decref(product);
	}
	return 0;
}

int ec2_prices_add_spot(struct ec2_prices *p, const xmlDoc *page, struct kerf_error *err)
{
	const xmlNode *root = xmlDocGetRootElement(page);

	if (!root || !aws_xml_child(root, "spotPriceHistorySet"))
		return kerf_error_set(err, KERF_E_PARSE,
				      "DescribeSpotPriceHistory: the response has no "
				      "spotPriceHistorySet");
	for (const xmlNode *it = ec2_xml_items(root, "spotPriceHistorySet"); it;
	     it = aws_xml_next(it)) {
		char *type = ec2_xml_str(it, "instanceType"),
		     *zone = ec2_xml_str(it, "availabilityZone");
		char *usd = ec2_xml_str(it, "spotPrice"), *stamp = ec2_xml_str(it, "timestamp");
		int64_t price;

		if (type && zone && *zone && usd && ec2_parse_usd(usd, &price)) {
			struct ec2_price *e = find(p, type, zone);
			if (!e)
				e = add(p, type, zone);
			if (!e->stamp || (stamp && strcmp(stamp, e->stamp) > 0)) {
				free(e->stamp);
				e->stamp = dup(stamp);
				e->price = price;
			}
		}
		free(type);
		free(zone);
		free(usd);
		free(stamp);
	}
	return 0;
}

void ec2_prices_sort(struct ec2_prices *p)
{
	if (p->n)
		qsort(p->items, p->n, sizeof(*p->items), by_key);
}

int64_t ec2_prices_get(const struct ec2_prices *p, const char *type, const char *zone)
{
	struct ec2_price key = {.type = (char *)type, .zone = (char *)zone};
	const struct ec2_price *e =
	    p->n ? bsearch(&key, p->items, p->n, sizeof(*p->items), by_key) : NULL;

	return e ? e->price : -1;
}

void ec2_prices_clear(struct ec2_prices *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->items[i].type);
		free(p->items[i].zone);
		free(p->items[i].stamp);
	}
	free(p->items);
	memset(p, 0, sizeof(*p));
}

static json_t *term(const char *field, const char *value)
{
	return json_pack("{s:s, s:s, s:s}", "Type", "TERM_MATCH", "Field", field, "Value", value);
}

json_t *ec2_products_request(const char *region, const char *token)
{
	json_t *filters = json_array(), *req;

	json_array_append_new(filters, term("regionCode", region));
	json_array_append_new(filters, term("operatingSystem", "Linux"));
	json_array_append_new(filters, term("tenancy", "Shared"));
	json_array_append_new(filters, term("preInstalledSw", "NA"));
	json_array_append_new(filters, term("capacitystatus", "Used"));
	req = json_pack("{s:s, s:s, s:o, s:i}", "ServiceCode", "AmazonEC2", "FormatVersion",
			"aws_v1", "Filters", filters, "MaxResults", 100);
	if (!req)
		abort();
	if (token)
		json_object_set_new(req, "NextToken", json_string(token));
	return req;
}

/* --------------------------------------------------- insufficient capacity */

static struct ec2_ice_mark *ice_find(struct ec2_ice *ice, const char *type, const char *zone,
				     kerf_capacity_type ct)
{
	for (size_t i = 0; i < ice->n; i++)
		if (ice->items[i].ct == ct && strcmp(ice->items[i].type, type) == 0 &&
		    strcmp(ice->items[i].zone, zone) == 0)
			return &ice->items[i];
	return NULL;
}

void ec2_ice_mark(struct ec2_ice *ice, const char *type, const char *zone, kerf_capacity_type ct,
		  kerf_mono_ms_t now)
{
	struct ec2_ice_mark *m = ice_find(ice, type, zone, ct);

	if (!m) {
		if (ice->n == ice->cap) {
			ice->cap = ice->cap ? 2 * ice->cap : 16;
			ice->items = realloc(ice->items, ice->cap * sizeof(*ice->items));
			if (!ice->items)
				abort();
		}
		m = &ice->items[ice->n++];
		m->type = dup(type);
		m->zone = dup(zone);
		m->ct = ct;
	}
	m->until = now + EC2_ICE_TTL_MS;
}

bool ec2_ice_blocked(struct ec2_ice *ice, const char *type, const char *zone, kerf_capacity_type ct,
		     kerf_mono_ms_t now)
{
	/* Expired marks go first, so the list stays as short as the live ones. */
	for (size_t i = 0; i < ice->n;) {
		if (ice->items[i].until <= now) {
			free(ice->items[i].type);
			free(ice->items[i].zone);
			ice->items[i] = ice->items[--ice->n];
		} else {
			i++;
		}
	}
	return ice_find(ice, type, zone, ct) != NULL;
}

void ec2_ice_clear(struct ec2_ice *ice)
{
	for (size_t i = 0; i < ice->n; i++) {
		free(ice->items[i].type);
		free(ice->items[i].zone);
	}
	free(ice->items);
	memset(ice, 0, sizeof(*ice));
}

bool ec2_is_capacity_code(const char *code)
{
	static const char *const codes[] = {"InsufficientInstanceCapacity",
					    "InsufficientHostCapacity",
					    "InsufficientReservedInstanceCapacity",
					    "MaxSpotInstanceCountExceeded",
					    "UnfulfillableCapacity",
					    "InsufficientCapacity",
					    "Unsupported",
					    "InsufficientFreeAddressesInSubnet",
					    "SpotMaxPriceTooLow",
					    NULL};

	for (size_t i = 0; code && codes[i]; i++)
		if (strcmp(code, codes[i]) == 0)
			return true;
	return false;
}
