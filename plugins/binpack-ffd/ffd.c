/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ffd.c - the first-fit-decreasing packer behind binpack-ffd (and binpack-ilp
 * starts from its plan).
 *
 * The algorithm is Karpenter's scheduler reduced to the dense problem of
 * kerf/packer.h:
 *
 *   - Pods are taken largest first (cpu, then memory, descending; group
 *     index breaks ties).  Pods of a group are identical, so a group is
 *     placed as a batch: each node it visits takes as many of its pods as
 *     fit, which is exactly what placing them one at a time would do (the
 *     next identical pod would be refused by the same nodes).
 *   - Each pod goes to the first node that takes it: open nodes first (in
 *     index order), then nodes this plan already opened (in creation order),
 *     else a new node.
 *   - A new node is not one instance type but the set of types that can
 *     still hold everything assigned to it.  A type survives while its
 *     allocatable covers the summed requests in every dimension, every group
 *     on it lists it, and it has an offering in the zone and capacity types
 *     every group on it allows.
 *   - NodePool limits: while packing, a new node is charged, per dimension,
 *     the largest capacity among its surviving types (Karpenter's
 *     subtractMax), and the charge shrinks as the set narrows.  So whichever
 *     of the node's options is launched, the pool stays within its limits.
 *     A new node may only use types whose capacity fits in what remains,
 *     and costs one of nodes_remaining.
 *   - At the end each new node takes the cheapest offering of its surviving
 *     types, with Karpenter's capacity-type priority: reserved, then spot,
 *     then on-demand, among those the node's groups allow.  Its options are
 *     the surviving types ordered the same way (priority of the type's best
 *     offering, then price, then index), at most max_instance_types.
 *
 * Everything is ordered by index, so the plan does not depend on hash or
 * allocation order.  Memory comes from the host allocator, which aborts on
 * exhaustion, so there are no NULL checks after allocating.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ffd.h"

#define FFD_REASON_MAX 256

/* Every capacity type the ABI knows, as mask bits. */
#define CT_ALL                                                                                     \
	((1u << KERF_CAPACITY_ON_DEMAND) | (1u << KERF_CAPACITY_SPOT) |                            \
	 (1u << KERF_CAPACITY_RESERVED))

/* A node this plan opens. */
struct pnode {
	uint32_t pool;
	int32_t zone;	    /* -1 while every zone is still possible */
	uint32_t ct_mask;   /* capacity types every group on the node allows */
	int64_t *used;	    /* summed requests */
	int64_t *max_alloc; /* largest allocatable among survivors: a cheap upper bound */
	int64_t *charged;   /* what the node holds of its pool's limits */
	uint64_t *types;    /* surviving instance types, a bitset */
	size_t n_assign;
	size_t cap_assign;
	struct ffd_assign *assign;
};

/* What the plan puts on one of problem->open. */
struct onode {
	int64_t *remaining;
	size_t n_assign;
	size_t cap_assign;
	struct ffd_assign *assign;
};


/* A type and its value in one dimension. */
struct ranked {
	int64_t value;
	uint32_t type;
};

struct solver {
	const struct kerf_host *host;
	const struct kerf_pack_problem *p;
	size_t max_types;
	size_t nd;    /* dimensions */
	size_t nt;    /* instance types */
	size_t words; /* uint64_t words in a type bitset */
	int cpu_dim;  /* -1 when absent */
	int mem_dim;
	/*
	 * Capacity types offered, per type and zone: offer[t * (n_zones + 1) + z],
	 * with column n_zones the union over zones (for groups with no zone).
	 */
	uint8_t *offer;
	int64_t *pool_rem;   /* n_pools * nd: limits still free */
	bool *pool_limited;  /* n_pools * nd: false when the dimension is unlimited */
	int64_t *pool_nodes; /* n_pools */
	size_t *conf_off;    /* n_groups + 1: CSR index into conf */
	uint32_t *conf;	     /* conflict partners of each group */
	uint32_t *mark;	     /* n_groups: conflict marks for the group being placed */
	uint64_t *gset;	     /* the current group's compatible types */
	uint64_t *fit;	     /* nt: scratch, pods a type still takes */
	uint64_t *gfit;	     /* nt: pods of the current group an empty type takes */
	uint64_t *tmpset;
	int64_t prepared;	    /* the group gset and gfit were last built for, -1: none */
	struct ranked *alloc_order; /* nd * nt: types by allocatable, per dimension, or NULL */
	struct ranked **cap_order;  /* n_pools: types by the pool's capacity, or NULL */
	int64_t **max_cap;	    /* n_pools: largest capacity per dimension, or NULL */
	struct ffd_option **by_key; /* per (zone + 1) * 8 + mask: offered types, best first */
	size_t *n_by_key;
	struct onode *open;
	size_t n_nodes;
	size_t cap_nodes;
	struct pnode *nodes;
	uint32_t *unplaced; /* n_groups: pods left over */
	char **reason;	    /* n_groups */
	uint32_t *scratch;  /* nt */
};

/* ------------------------------------------------------------ helpers */

static void *zalloc(const struct solver *s, size_t n, size_t size)
{
	/* A zero-sized request still gets memory, so callers never see NULL. */
	return s->host->calloc(s->host->ctx, n ? n : 1, size ? size : 1);
}

static void hfree(const struct solver *s, void *ptr)
{
	if (ptr)
		s->host->free(s->host->ctx, ptr);
}

static void bit_set(uint64_t *set, size_t i)
{
	set[i / 64] |= (uint64_t)1 << (i % 64);
}

static int tier(kerf_capacity_type c)
{
	switch (c) {
	case KERF_CAPACITY_RESERVED:
		return 0;
	case KERF_CAPACITY_SPOT:
		return 1;
	case KERF_CAPACITY_ON_DEMAND:
		return 2;
	}
	return 3;
}

static bool has_offer(const struct solver *s, size_t t, int32_t zone, uint32_t ct_mask)
{
	size_t col = zone < 0 ? s->p->n_zones : (size_t)zone;

	return (s->offer[t * (s->p->n_zones + 1) + col] & ct_mask) != 0;
}

const int64_t *ffd_capacity_of(const struct kerf_pack_problem *p, uint32_t pool, size_t t)
{
	const struct kerf_pack_pool *pp = p->pools[pool];

	/* Without a capacity table, allocatable is the best the core told us. */
	if (pp->type_capacity && pp->type_capacity[t])
		return pp->type_capacity[t];
	return p->types[t]->allocatable;
}

uint64_t ffd_fits(size_t nd, const int64_t *alloc, const int64_t *used, const int64_t *req,
		  uint64_t cap)
{
	uint64_t k = cap;

	for (size_t d = 0; d < nd && k > 0; d++) {
		int64_t u = used ? used[d] : 0;
		if (req[d] <= 0)
			continue;
		if (alloc[d] < u || alloc[d] - u < req[d])
			return 0;
		/* Room for all k needs no division (k * req[d] may overflow: then divide). */
		int64_t all;
		if (k <= INT64_MAX && !__builtin_mul_overflow((int64_t)k, req[d], &all) &&
		    all <= alloc[d] - u)
			continue;
		uint64_t q = (uint64_t)((alloc[d] - u) / req[d]);
		if (q < k)
			k = q;
	}
	return k;
}

bool ffd_lists(const uint32_t *v, size_t n, uint32_t g)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v[mid] == g)
			return true;
		if (v[mid] < g)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

bool ffd_min_values_met(const struct kerf_host *host, const struct kerf_pack_problem *p,
			uint32_t pool, const uint32_t *types, size_t n, size_t max_types)
{
	const struct kerf_pack_pool *pp = p->pools[pool];
	bool ok = true;

	for (size_t k = 0; k < pp->n_min_values && ok; k++) {
		const struct kerf_pack_min_values *mv = pp->min_values[k];
		uint8_t *seen = host->calloc(host->ctx, mv->n_values + 1, 1);
		uint32_t have = 0;
		for (size_t i = 0; i < n && have < mv->min; i++) {
			uint32_t v = mv->value_of[types[i]];
			if (v < mv->n_values && !seen[v]) {
				seen[v] = 1;
				have++;
			}
		}
		host->free(host->ctx, seen);
		ok = have >= mv->min && mv->min <= max_types;
	}
	return ok;
}

size_t ffd_keep_options(const struct kerf_host *host, const struct kerf_pack_problem *p,
			uint32_t pool, uint32_t *types, size_t n, size_t max)
{
	const struct kerf_pack_pool *pp = p->pools[pool];
	size_t nk = pp->n_min_values, kept = 0, lacking = 0, j = 0;
	uint8_t *keep, **seen;
	uint32_t *have;

	if (nk == 0)
		return n < max ? n : max;
	keep = host->calloc(host->ctx, n + 1, 1);
	seen = host->calloc(host->ctx, nk, sizeof(*seen));
	have = host->calloc(host->ctx, nk, sizeof(*have));
	for (size_t k = 0; k < nk; k++) {
		seen[k] = host->calloc(host->ctx, pp->min_values[k]->n_values + 1, 1);
		lacking += pp->min_values[k]->min > 0;
	}
	/* First the types that bring a value some key still lacks, best first. */
	for (size_t i = 0; i < n && kept < max && lacking > 0; i++) {
		bool adds = false;
		for (size_t k = 0; k < nk; k++) {
			const struct kerf_pack_min_values *mv = pp->min_values[k];
			uint32_t v = mv->value_of[types[i]];
			adds = adds || (v < mv->n_values && !seen[k][v] && have[k] < mv->min);
		}
		if (!adds)
			continue;
		keep[i] = 1;
		kept++;
		for (size_t k = 0; k < nk; k++) {
			const struct kerf_pack_min_values *mv = pp->min_values[k];
			uint32_t v = mv->value_of[types[i]];
			if (v >= mv->n_values || seen[k][v])
				continue;
			seen[k][v] = 1;
			if (++have[k] == mv->min)
				lacking--;
		}
	}
	/* Then the best of the rest. */
	for (size_t i = 0; i < n && kept < max; i++)
		if (!keep[i]) {
			keep[i] = 1;
			kept++;
		}
	for (size_t i = 0; i < n; i++)
		if (keep[i])
			types[j++] = types[i];
	for (size_t k = 0; k < nk; k++)
		host->free(host->ctx, seen[k]);
	host->free(host->ctx, seen);
	host->free(host->ctx, have);
	host->free(host->ctx, keep);
	return lacking ? 0 : kept;
}

static void push_assign(const struct solver *s, struct ffd_assign **v, size_t *n, size_t *cap,
			uint32_t g, uint32_t count)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 4;
		*v = s->host->realloc(s->host->ctx, *v, *cap * sizeof(**v));
	}
	(*v)[*n].group = g;
	(*v)[*n].count = count;
	(*n)++;
}

/* True when a group conflicting with the one being placed is on the node. */
static bool conflicted(const struct solver *s, uint32_t g, const struct ffd_assign *a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s->mark[a[i].group] == g + 1)
			return true;
	return false;
}

/* ------------------------------------------------------ reason text */

/* Appends to buf at *off without overflowing; output is truncated at len. */
static void addf(char *buf, size_t len, size_t *off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void addf(char *buf, size_t len, size_t *off, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*off >= len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *off, len - *off, fmt, ap);
	va_end(ap);
	if (n > 0)
		*off += (size_t)n < len - *off ? (size_t)n : len - *off - 1;
}

/* One quantity in Kubernetes notation: cpu in millicores, memory in binary units. */
static void add_quantity(const struct kerf_pack_problem *p, char *buf, size_t len, size_t *off,
			 size_t d, int64_t v)
{
	static const char *const suffix[] = {"Ki", "Mi", "Gi", "Ti"};
	const char *name = p->dim_names[d];

	if (strcmp(name, "cpu") == 0) {
		addf(buf, len, off, "%s=%" PRId64 "m", name, v);
		return;
	}
	if (strcmp(name, "memory") == 0 && v > 0 && v % 1024 == 0) {
		int i = -1;
		while (i < 3 && v % 1024 == 0) {
			v /= 1024;
			i++;
		}
		addf(buf, len, off, "%s=%" PRId64 "%s", name, v, suffix[i]);
		return;
	}
	addf(buf, len, off, "%s=%" PRId64, name, v);
}

/* The non-zero dimensions of a request, "cpu=8000m memory=16Gi". */
static void add_request(const struct kerf_pack_problem *p, char *buf, size_t len, size_t *off,
			const int64_t *req)
{
	bool first = true;

	for (size_t d = 0; d < p->n_dims; d++) {
		if (req[d] == 0)
			continue;
		if (!first)
			addf(buf, len, off, " ");
		add_quantity(p, buf, len, off, d, req[d]);
		first = false;
	}
	if (first)
		addf(buf, len, off, "no resources");
}

static void add_ct_mask(char *buf, size_t len, size_t *off, uint32_t mask)
{
	static const char *const names[] = {"on-demand", "spot", "reserved"};
	bool first = true;

	for (unsigned c = 0; c < 3; c++) {
		if (!(mask & (1u << c)))
			continue;
		addf(buf, len, off, "%s%s", first ? "" : "/", names[c]);
		first = false;
	}
	if (first)
		addf(buf, len, off, "no capacity type");
}

static void set_reason(struct solver *s, uint32_t g, const char *text)
{
	s->reason[g] = s->host->strdup(s->host->ctx, text);
}

bool ffd_explain(const struct kerf_pack_problem *p, uint32_t g, const int64_t *rem,
		 int64_t nodes_left, char *buf, size_t len)
{
	const struct kerf_pack_group *gr = p->groups[g];
	const struct kerf_pack_pool *pp = p->pools[gr->nodepool];
	const char *pool = pp->name ? pp->name : "?";
	size_t off = 0;
	bool offered = false, fitting = false;
	uint64_t blocking = 0; /* bit d: dimension d's limit rules out a fitting type */

	buf[0] = '\0';
	for (size_t i = 0; i < gr->n_types; i++) {
		uint32_t t = gr->types[i];
		struct ffd_option opt;
		if (!ffd_best_offering(p, t, gr->zone, gr->capacity_types, &opt))
			continue;
		offered = true;
		if (ffd_fits(p->n_dims, p->types[t]->allocatable, NULL, gr->request, 1) == 0)
			continue;
		fitting = true;
		const int64_t *cap = ffd_capacity_of(p, gr->nodepool, t);
		for (size_t d = 0; d < p->n_dims && d < 64; d++)
			if (pp->remaining[d] != INT64_MAX && cap[d] > rem[d])
				blocking |= (uint64_t)1 << d;
	}
	if (gr->n_types == 0) {
		addf(buf, len, &off, "no instance type in nodepool %s is compatible", pool);
	} else if (!offered) {
		addf(buf, len, &off, "no compatible instance type in nodepool %s is offered", pool);
		if (gr->zone >= 0)
			addf(buf, len, &off, " in zone %s",
			     p->zone_names ? p->zone_names[gr->zone] : "?");
		addf(buf, len, &off, " as ");
		add_ct_mask(buf, len, &off, gr->capacity_types);
	} else if (!fitting) {
		addf(buf, len, &off, "no instance type in nodepool %s fits ", pool);
		add_request(p, buf, len, &off, gr->request);
	} else if (nodes_left <= 0) {
		addf(buf, len, &off, "nodepool %s limit nodes exceeded", pool);
	} else if (blocking == 0) {
		/* Nothing rules a node out, or only past the 64th dimension. */
		addf(buf, len, &off, "nodepool %s resource limits exceeded", pool);
		return false;
	} else {
		bool first = true;
		addf(buf, len, &off, "nodepool %s limit ", pool);
		for (size_t d = 0; d < p->n_dims && d < 64; d++) {
			if (!(blocking & ((uint64_t)1 << d)))
				continue;
			addf(buf, len, &off, "%s%s", first ? "" : ",", p->dim_names[d]);
			first = false;
		}
		addf(buf, len, &off, " exceeded (remaining");
		for (size_t d = 0; d < p->n_dims && d < 64; d++) {
			if (!(blocking & ((uint64_t)1 << d)))
				continue;
			addf(buf, len, &off, " ");
			add_quantity(p, buf, len, &off, d, rem[d]);
		}
		addf(buf, len, &off, ")");
	}
	return true;
}

/*
 * Explains why group g cannot open a new node.  Called only after every
 * fitting, offered type was ruled out, so one of ffd_explain's causes holds.
 */
static void explain(struct solver *s, uint32_t g)
{
	uint32_t pool = s->p->groups[g]->nodepool;
	char buf[FFD_REASON_MAX];

	ffd_explain(s->p, g, &s->pool_rem[(size_t)pool * s->nd], s->pool_nodes[pool], buf,
		    sizeof(buf));
	set_reason(s, g, buf);
}

/* ------------------------------------------------------------ packing */

static int ranked_cmp(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;

	if (x->value != y->value)
		return x->value > y->value ? -1 : 1;
	return x->type < y->type ? -1 : x->type > y->type;
}

/* For each dimension, every type with its value there, largest first (nd * nt). */
static struct ranked *rank_types(const struct solver *s, uint32_t pool, bool capacity)
{
	struct ranked *v = zalloc(s, s->nd * s->nt, sizeof(*v));

	for (size_t d = 0; d < s->nd; d++) {
		struct ranked *r = &v[d * s->nt];
		for (size_t t = 0; t < s->nt; t++) {
			const int64_t *q =
			    capacity ? ffd_capacity_of(s->p, pool, t) : s->p->types[t]->allocatable;
			r[t].type = (uint32_t)t;
			r[t].value = q[d];
		}
		qsort(r, s->nt, sizeof(*r), ranked_cmp);
	}
	return v;
}

/* The pool's types by capacity, per dimension, built on first use. */
static const struct ranked *cap_order(struct solver *s, uint32_t pool)
{
	if (!s->cap_order[pool])
		s->cap_order[pool] = rank_types(s, pool, true);
	return s->cap_order[pool];
}

/* The largest capacity of any of the pool's types, per dimension, built on first use. */
static const int64_t *max_cap(struct solver *s, uint32_t pool)
{
	if (!s->max_cap[pool]) {
		int64_t *v = zalloc(s, s->nd, sizeof(int64_t));
		for (size_t d = 0; d < s->nd; d++)
			v[d] = INT64_MIN;
		for (size_t t = 0; t < s->nt; t++) {
			const int64_t *cap = ffd_capacity_of(s->p, pool, t);
			for (size_t d = 0; d < s->nd; d++)
				if (cap[d] > v[d])
					v[d] = cap[d];
		}
		s->max_cap[pool] = v;
	}
	return s->max_cap[pool];
}

/*
 * Recomputes a node's bound and its charge after its type set changed, and
 * gives back to the pool what the node no longer needs (a new node's charge
 * starts at zero, so the same code charges it in full).
 */
static void node_restat(struct solver *s, struct pnode *n)
{
	int64_t *rem = &s->pool_rem[(size_t)n->pool * s->nd];
	const bool *lim = &s->pool_limited[(size_t)n->pool * s->nd];
	const struct ranked *by_cap = NULL;
	size_t survivors = 0;

	for (size_t w = 0; w < s->words; w++)
		survivors += (size_t)__builtin_popcountll(n->types[w]);
	if (survivors * 8 < s->nt) {
		/* Few survivors: one pass over them. */
		for (size_t d = 0; d < s->nd; d++) {
			n->max_alloc[d] = INT64_MIN;
			if (lim[d])
				rem[d] += n->charged[d];
			n->charged[d] = 0;
		}
		for (size_t w = 0; w < s->words; w++) {
			uint64_t bits = n->types[w];
			while (bits) {
				size_t t = w * 64 + (size_t)__builtin_ctzll(bits);
				const int64_t *alloc = s->p->types[t]->allocatable;
				const int64_t *cap = ffd_capacity_of(s->p, n->pool, t);
				bits &= bits - 1;
				for (size_t d = 0; d < s->nd; d++) {
					if (alloc[d] > n->max_alloc[d])
						n->max_alloc[d] = alloc[d];
					if (cap[d] > n->charged[d])
						n->charged[d] = cap[d];
				}
			}
		}
		for (size_t d = 0; d < s->nd; d++)
			if (lim[d])
				rem[d] -= n->charged[d];
		return;
	}
	/*
	 * Many survivors: the largest value among them is that of the first
	 * survivor in the dimension's descending order, a few steps instead of
	 * a pass over every survivor.  charged is read only where the pool is
	 * limited, so only those dimensions are charged.
	 */
	if (!s->alloc_order)
		s->alloc_order = rank_types(s, 0, false);
	for (size_t d = 0; d < s->nd; d++) {
		const struct ranked *r = &s->alloc_order[d * s->nt];
		n->max_alloc[d] = INT64_MIN;
		for (size_t i = 0; i < s->nt; i++)
			if (n->types[r[i].type / 64] & ((uint64_t)1 << (r[i].type % 64))) {
				n->max_alloc[d] = r[i].value;
				break;
			}
		if (!lim[d])
			continue;
		if (!by_cap)
			by_cap = cap_order(s, n->pool);
		rem[d] += n->charged[d];
		n->charged[d] = 0;
		r = &by_cap[d * s->nt];
		for (size_t i = 0; i < s->nt; i++)
			if (n->types[r[i].type / 64] & ((uint64_t)1 << (r[i].type % 64))) {
				if (r[i].value > 0)
					n->charged[d] = r[i].value;
				break;
			}
		rem[d] -= n->charged[d];
	}
}

/*
 * The most pods, at most best, that a node may take while the types of
 * `set` still holding them (fit[t] >= k) keep the pool's minValues; 0 when
 * none may.  Karpenter adds pods to a node one at a time and refuses the one
 * that would leave too few values.
 */
static uint64_t min_values_cap(struct solver *s, uint32_t pool, const uint64_t *set,
			       const uint64_t *fit, uint64_t best)
{
	uint64_t k = best;

	if (s->p->pools[pool]->n_min_values == 0)
		return best;
	while (k > 0) {
		size_t n = 0;
		uint64_t next = 0;
		for (size_t w = 0; w < s->words; w++) {
			uint64_t bits = set[w];
			while (bits) {
				size_t t = w * 64 + (size_t)__builtin_ctzll(bits);
				bits &= bits - 1;
				if (fit[t] >= k)
					s->scratch[n++] = (uint32_t)t;
				else if (fit[t] > next)
					next = fit[t];
			}
		}
		if (ffd_min_values_met(s->host, s->p, pool, s->scratch, n, s->max_types))
			return k;
		k = next;
	}
	return 0;
}

/* Why a new node for g cannot keep its pool's minValues: the first key short of them. */
static void explain_min_values(struct solver *s, uint32_t g, const uint64_t *set)
{
	const struct kerf_pack_group *gr = s->p->groups[g];
	const struct kerf_pack_pool *pp = s->p->pools[gr->nodepool];
	char buf[FFD_REASON_MAX];
	size_t n = 0, off = 0;

	for (size_t w = 0; w < s->words; w++) {
		uint64_t bits = set[w];
		while (bits) {
			s->scratch[n++] = (uint32_t)(w * 64 + (size_t)__builtin_ctzll(bits));
			bits &= bits - 1;
		}
	}
	for (size_t k = 0; k < pp->n_min_values; k++) {
		const struct kerf_pack_min_values *mv = pp->min_values[k];
		uint8_t *seen = zalloc(s, mv->n_values + 1, 1);
		uint32_t have = 0;
		for (size_t i = 0; i < n; i++) {
			uint32_t v = mv->value_of[s->scratch[i]];
			if (v < mv->n_values && !seen[v]) {
				seen[v] = 1;
				have++;
			}
		}
		hfree(s, seen);
		if (mv->min > s->max_types)
			addf(buf, sizeof(buf), &off,
			     "nodepool %s minValues: %s needs %" PRIu32
			     " values, more than max_instance_types (%zu)",
			     pp->name ? pp->name : "?", mv->key ? mv->key : "?", mv->min,
			     s->max_types);
		else if (have < mv->min)
			addf(buf, sizeof(buf), &off,
			     "nodepool %s minValues: %s needs %" PRIu32
			     " values, the instance types that fit give %" PRIu32,
			     pp->name ? pp->name : "?", mv->key ? mv->key : "?", mv->min, have);
		else
			continue;
		set_reason(s, g, buf);
		return;
	}
}

/* Puts as many pods of g as fit on open node o; returns how many. */
static uint32_t try_open(struct solver *s, size_t o, uint32_t g, uint32_t want)
{
	const struct kerf_pack_open_node *on = s->p->open[o];
	const struct kerf_pack_group *gr = s->p->groups[g];
	struct onode *st = &s->open[o];
	uint64_t k;

	if (!ffd_lists(on->groups, on->n_groups, g))
		return 0;
	if (gr->zone >= 0 && (uint32_t)gr->zone != on->zone)
		return 0;
	if (!(gr->capacity_types & (1u << on->capacity_type)))
		return 0;
	if (conflicted(s, g, st->assign, st->n_assign))
		return 0;
	k = ffd_fits(s->nd, st->remaining, NULL, gr->request, want);
	if (k == 0)
		return 0;
	for (size_t d = 0; d < s->nd; d++)
		st->remaining[d] -= (int64_t)k * gr->request[d];
	push_assign(s, &st->assign, &st->n_assign, &st->cap_assign, g, (uint32_t)k);
	return (uint32_t)k;
}

/* Puts as many pods of g as some surviving type holds on plan node n. */
static uint32_t try_node(struct solver *s, struct pnode *n, uint32_t g, uint32_t want)
{
	const struct kerf_pack_group *gr = s->p->groups[g];
	int32_t zone = n->zone;
	uint32_t mask = n->ct_mask & gr->capacity_types;
	uint64_t best = 0;
	bool any = false, changed = false;

	if (n->pool != gr->nodepool || !mask)
		return 0;
	if (gr->zone >= 0) {
		if (zone >= 0 && zone != gr->zone)
			return 0;
		zone = gr->zone;
	}
	/* Most nodes are full for this pod; the bound says so in nd steps. */
	for (size_t d = 0; d < s->nd; d++)
		if (gr->request[d] > 0 && n->max_alloc[d] - n->used[d] < gr->request[d])
			return 0;
	if (conflicted(s, g, n->assign, n->n_assign))
		return 0;

	for (size_t w = 0; w < s->words; w++) {
		uint64_t bits = n->types[w] & s->gset[w];
		s->tmpset[w] = 0;
		while (bits) {
			size_t t = w * 64 + (size_t)__builtin_ctzll(bits);
			bits &= bits - 1;
			if (!has_offer(s, t, zone, mask))
				continue;
			s->fit[t] = ffd_fits(s->nd, s->p->types[t]->allocatable, n->used,
					     gr->request, want);
			if (s->fit[t] == 0)
				continue;
			s->tmpset[w] |= (uint64_t)1 << (t % 64);
			any = true;
			if (s->fit[t] > best)
				best = s->fit[t];
		}
	}
	if (!any)
		return 0;
	if ((best = min_values_cap(s, n->pool, s->tmpset, s->fit, best)) == 0)
		return 0;
	/* Keep the types that hold all `best` pods: one-at-a-time FFD would stop there too. */
	for (size_t w = 0; w < s->words; w++) {
		uint64_t bits = s->tmpset[w], keep = 0;
		while (bits) {
			size_t t = w * 64 + (size_t)__builtin_ctzll(bits);
			bits &= bits - 1;
			if (s->fit[t] >= best)
				keep |= (uint64_t)1 << (t % 64);
		}
		if (keep != n->types[w])
			changed = true;
		n->types[w] = keep;
	}
	for (size_t d = 0; d < s->nd; d++)
		n->used[d] += (int64_t)best * gr->request[d];
	n->zone = zone;
	n->ct_mask = mask;
	/* The bound and the charge depend on the type set alone. */
	if (changed)
		node_restat(s, n);
	push_assign(s, &n->assign, &n->n_assign, &n->cap_assign, g, (uint32_t)best);
	return (uint32_t)best;
}

/* Opens a new node for up to `want` pods of g; returns how many it took (0: none opened). */
static uint32_t open_node(struct solver *s, uint32_t g, uint32_t want)
{
	const struct kerf_pack_group *gr = s->p->groups[g];
	const int64_t *rem = &s->pool_rem[(size_t)gr->nodepool * s->nd];
	const bool *lim = &s->pool_limited[(size_t)gr->nodepool * s->nd];
	uint64_t best = 0;
	struct pnode *n;
	bool roomy = true; /* the pool's limits hold even its largest type */

	if (s->pool_nodes[gr->nodepool] <= 0)
		return 0;
	for (size_t d = 0; d < s->nd && roomy; d++)
		roomy = !lim[d] || max_cap(s, gr->nodepool)[d] <= rem[d];
	memset(s->tmpset, 0, s->words * sizeof(uint64_t));
	for (size_t i = 0; i < gr->n_types; i++) {
		uint32_t t = gr->types[i];
		const int64_t *cap;
		bool ok = true;
		if (s->gfit[t] == 0)
			continue;
		if (!roomy) {
			cap = ffd_capacity_of(s->p, gr->nodepool, t);
			for (size_t d = 0; d < s->nd && ok; d++)
				ok = !lim[d] || cap[d] <= rem[d];
			if (!ok)
				continue;
		}
		bit_set(s->tmpset, t);
		if (s->gfit[t] > best)
			best = s->gfit[t];
	}
	if (best == 0)
		return 0;
	if (best > want)
		best = want;
	if ((best = min_values_cap(s, gr->nodepool, s->tmpset, s->gfit, best)) == 0) {
		explain_min_values(s, g, s->tmpset);
		return 0;
	}

	if (s->n_nodes == s->cap_nodes) {
		s->cap_nodes = s->cap_nodes ? s->cap_nodes * 2 : 16;
		s->nodes =
		    s->host->realloc(s->host->ctx, s->nodes, s->cap_nodes * sizeof(*s->nodes));
	}
	n = &s->nodes[s->n_nodes++];
	memset(n, 0, sizeof(*n));
	n->pool = gr->nodepool;
	n->zone = gr->zone;
	n->ct_mask = gr->capacity_types & CT_ALL;
	n->used = zalloc(s, s->nd, sizeof(int64_t));
	n->max_alloc = zalloc(s, s->nd, sizeof(int64_t));
	n->charged = zalloc(s, s->nd, sizeof(int64_t));
	n->types = zalloc(s, s->words, sizeof(uint64_t));
	for (size_t w = 0; w < s->words; w++) {
		uint64_t bits = s->tmpset[w];
		while (bits) {
			size_t t = w * 64 + (size_t)__builtin_ctzll(bits);
			bits &= bits - 1;
			if (s->gfit[t] >= best)
				bit_set(n->types, t);
		}
	}
	for (size_t d = 0; d < s->nd; d++)
		n->used[d] = (int64_t)best * gr->request[d];
	node_restat(s, n);
	if (s->pool_nodes[gr->nodepool] != INT64_MAX)
		s->pool_nodes[gr->nodepool]--;
	push_assign(s, &n->assign, &n->n_assign, &n->cap_assign, g, (uint32_t)best);
	return (uint32_t)best;
}

/*
 * True when gset and gfit, last built for group s->prepared, are also group
 * g's: same request, zone, capacity types and instance types.  Groups come
 * largest first, so groups of one shape mostly follow one another.
 */
static bool same_shape(const struct solver *s, uint32_t g)
{
	const struct kerf_pack_group *a, *b = s->p->groups[g];

	if (s->prepared < 0)
		return false;
	a = s->p->groups[s->prepared];
	if (a->zone != b->zone || a->capacity_types != b->capacity_types ||
	    a->n_types != b->n_types)
		return false;
	if (memcmp(a->request, b->request, s->nd * sizeof(*a->request)) != 0)
		return false;
	return a->types == b->types ||
	       memcmp(a->types, b->types, a->n_types * sizeof(*a->types)) == 0;
}

static void place_group(struct solver *s, uint32_t g)
{
	const struct kerf_pack_group *gr = s->p->groups[g];
	uint32_t left = gr->count;
	uint32_t per_node = gr->max_per_node ? gr->max_per_node : UINT32_MAX;

	if (left == 0)
		return;
	if (!same_shape(s, g)) {
		memset(s->gset, 0, s->words * sizeof(uint64_t));
		for (size_t i = 0; i < gr->n_types; i++) {
			uint32_t t = gr->types[i];
			bit_set(s->gset, t);
			s->gfit[t] = has_offer(s, t, gr->zone, gr->capacity_types)
					 ? ffd_fits(s->nd, s->p->types[t]->allocatable, NULL,
						    gr->request, UINT32_MAX)
					 : 0;
		}
		s->prepared = g;
	}
	for (size_t i = s->conf_off[g]; i < s->conf_off[g + 1]; i++) {
		s->mark[s->conf[i]] = g + 1;
		/* A group in conflict with itself allows one pod per node. */
		if (s->conf[i] == g)
			per_node = 1;
	}

	/*
	 * Each node is visited once per group: it takes all it can, and the
	 * group's remaining pods would be refused by it.
	 */
	for (size_t o = 0; o < s->p->n_open && left > 0; o++)
		left -= try_open(s, o, g, left < per_node ? left : per_node);
	for (size_t i = 0; i < s->n_nodes && left > 0; i++)
		left -= try_node(s, &s->nodes[i], g, left < per_node ? left : per_node);
	while (left > 0) {
		uint32_t k = open_node(s, g, left < per_node ? left : per_node);
		if (k == 0)
			break;
		left -= k;
	}
	if (left > 0) {
		s->unplaced[g] = left;
		if (!s->reason[g])
			explain(s, g);
	}
}

/* ------------------------------------------------------------ the plan */

int ffd_option_cmp(const void *a, const void *b)
{
	const struct ffd_option *x = a, *y = b;

	if (x->tier != y->tier)
		return x->tier < y->tier ? -1 : 1;
	if (x->price != y->price)
		return x->price < y->price ? -1 : 1;
	return x->type < y->type ? -1 : x->type > y->type;
}

bool ffd_best_offering(const struct kerf_pack_problem *p, size_t t, int32_t zone, uint32_t mask,
		       struct ffd_option *out)
{
	const struct kerf_pack_type *ty = p->types[t];
	bool found = false;

	for (size_t i = 0; i < ty->n_offerings; i++) {
		const struct kerf_pack_offering *of = ty->offerings[i];
		struct ffd_option c = {(uint32_t)t, tier(of->capacity_type), of->price, of->zone,
				       of->capacity_type};
		if (zone >= 0 && of->zone != (uint32_t)zone)
			continue;
		if (!(mask & (1u << of->capacity_type)))
			continue;
		if (found &&
		    (c.tier > out->tier || (c.tier == out->tier && c.price > out->price) ||
		     (c.tier == out->tier && c.price == out->price && c.zone >= out->zone)))
			continue;
		*out = c;
		found = true;
	}
	return found;
}

/*
 * Every type with an offering for a node of this zone (-1: any) and
 * capacity-type mask, each with its best offering, sorted by ffd_option_cmp:
 * built once per key.  A node's options are the first max_types of these
 * it still holds, which is what keeping its best max_types and sorting
 * them gives, since ffd_option_cmp is a total order.
 */
static const struct ffd_option *options_for(struct solver *s, size_t key, int32_t zone,
					    uint32_t mask)
{
	/* key is (zone + 1) * 8 + mask: capacity types are bits 0-2. */
	if (!s->by_key[key]) {
		struct ffd_option *v = zalloc(s, s->nt, sizeof(*v));
		size_t m = 0;
		for (size_t t = 0; t < s->nt; t++)
			if (ffd_best_offering(s->p, t, zone, mask, &v[m]))
				m++;
		qsort(v, m, sizeof(*v), ffd_option_cmp);
		s->by_key[key] = v;
		s->n_by_key[key] = m;
	}
	return s->by_key[key];
}

void ffd_plan_assign(struct kerf_pack_node *pn, const struct ffd_assign *a, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct kerf_pack_assignment *x = kerf_pack_node_add_assignment(pn);
		x->group = a[i].group;
		x->count = a[i].count;
	}
}

/*
 * The first max_types of a node's sorted options that keep its pool's
 * minValues.  Packing kept them on the whole set; should the shortened list
 * still miss them, the plain first max_types stand and the host refuses the
 * node.
 */
static size_t keep_min_values(struct solver *s, uint32_t pool, struct ffd_option *opts, size_t m)
{
	size_t kept, j = 0;

	for (size_t i = 0; i < m; i++)
		s->scratch[i] = opts[i].type;
	kept = ffd_keep_options(s->host, s->p, pool, s->scratch, m, s->max_types);
	if (kept == 0)
		return m < s->max_types ? m : s->max_types;
	/* Both lists are best first: keep the options whose type survived. */
	for (size_t i = 0; i < m && j < kept; i++)
		if (opts[i].type == s->scratch[j])
			opts[j++] = opts[i];
	return kept;
}

static int build_plan(struct solver *s, struct kerf_pack_plan *plan, struct ffd_option *opts,
		      struct kerf_error *err)
{
	const struct kerf_pack_problem *p = s->p;

	for (size_t o = 0; o < p->n_open; o++) {
		struct onode *st = &s->open[o];
		struct kerf_pack_node *pn;
		if (!st->n_assign)
			continue;
		pn = kerf_pack_plan_add_node(plan);
		pn->open_index = (int32_t)o;
		/* Open nodes carry no pool; report the pool of the first group placed. */
		pn->nodepool = p->groups[st->assign[0].group]->nodepool;
		pn->zone = p->open[o]->zone;
		pn->capacity_type = p->open[o]->capacity_type;
		pn->type = p->open[o]->type;
		pn->price = 0;
		pn->n_options = 1;
		pn->options = zalloc(s, 1, sizeof(uint32_t));
		pn->options[0] = p->open[o]->type;
		ffd_plan_assign(pn, st->assign, st->n_assign);
	}

	for (size_t i = 0; i < s->n_nodes; i++) {
		struct pnode *n = &s->nodes[i];
		struct kerf_pack_node *pn;
		size_t m = 0, survivors = 0;
		size_t key = ((size_t)(n->zone + 1) << 3) | (n->ct_mask & 7u);
		bool min_values = p->pools[n->pool]->n_min_values > 0;
		for (size_t w = 0; w < s->words; w++)
			survivors += (size_t)__builtin_popcountll(n->types[w]);
		if (survivors * 8 < s->nt || min_values) {
			/* Few types: their best offerings, sorted, the first max_types. */
			for (size_t w = 0; w < s->words; w++) {
				uint64_t bits = n->types[w];
				while (bits) {
					size_t t = w * 64 + (size_t)__builtin_ctzll(bits);
					bits &= bits - 1;
					if (ffd_best_offering(s->p, t, n->zone, n->ct_mask,
							      &opts[m]))
						m++;
				}
			}
			qsort(opts, m, sizeof(*opts), ffd_option_cmp);
			if (min_values)
				m = keep_min_values(s, n->pool, opts, m);
			else if (m > s->max_types)
				m = s->max_types;
		} else {
			/* Many: the first max_types of them in the key's order. */
			const struct ffd_option *ranked = options_for(s, key, n->zone, n->ct_mask);
			for (size_t j = 0; j < s->n_by_key[key] && m < s->max_types; j++)
				if (n->types[ranked[j].type / 64] &
				    ((uint64_t)1 << (ranked[j].type % 64)))
					opts[m++] = ranked[j];
		}
		if (m == 0)
			return kerf_error_set(err, KERF_E_INTERNAL,
					      "binpack-ffd: new node %zu has no offering left", i);
		pn = kerf_pack_plan_add_node(plan);
		pn->nodepool = n->pool;
		pn->zone = opts[0].zone;
		pn->capacity_type = opts[0].ct;
		pn->type = opts[0].type;
		pn->price = opts[0].price;
		pn->n_options = m;
		pn->options = zalloc(s, m, sizeof(uint32_t));
		for (size_t j = 0; j < m; j++)
			pn->options[j] = opts[j].type;
		ffd_plan_assign(pn, n->assign, n->n_assign);
		plan->total_price += pn->price;
	}

	for (size_t g = 0; g < p->n_groups; g++) {
		struct kerf_pack_unplaced *u;
		if (!s->unplaced[g])
			continue;
		u = kerf_pack_plan_add_unplaced(plan);
		u->group = (uint32_t)g;
		u->count = s->unplaced[g];
		u->reason = s->reason[g];
		s->reason[g] = NULL; /* now the plan's */
	}
	return 0;
}

/* ------------------------------------------------------------ checks */

static int validate(const struct kerf_pack_problem *p, struct kerf_error *err)
{
	if (!p)
		return kerf_error_set(err, KERF_E_INVALID, "binpack-ffd: no problem");
	if (p->n_dims > 0 && !p->dim_names)
		return kerf_error_set(err, KERF_E_INVALID, "binpack-ffd: dimensions have no names");
	for (size_t d = 0; d < p->n_dims; d++)
		if (!p->dim_names[d])
			return kerf_error_set(err, KERF_E_INVALID,
					      "binpack-ffd: dimension %zu has no name", d);
	if ((p->n_pools > 0 && !p->pools) || (p->n_types > 0 && !p->types) ||
	    (p->n_groups > 0 && !p->groups) || (p->n_conflicts > 0 && !p->conflicts) ||
	    (p->n_open > 0 && !p->open))
		return kerf_error_set(err, KERF_E_INVALID, "binpack-ffd: a list is missing");
	for (size_t t = 0; t < p->n_types; t++) {
		const struct kerf_pack_type *ty = p->types[t];
		if (!ty || !ty->allocatable || (ty->n_offerings && !ty->offerings))
			return kerf_error_set(err, KERF_E_INVALID,
					      "binpack-ffd: instance type %zu is incomplete", t);
		for (size_t i = 0; i < ty->n_offerings; i++)
			if (!ty->offerings[i] || ty->offerings[i]->zone >= p->n_zones ||
			    (unsigned)ty->offerings[i]->capacity_type > KERF_CAPACITY_RESERVED)
				return kerf_error_set(err, KERF_E_INVALID,
						      "binpack-ffd: instance type %zu offering %zu "
						      "has a bad zone or capacity type",
						      t, i);
	}
	for (size_t g = 0; g < p->n_groups; g++) {
		const struct kerf_pack_group *gr = p->groups[g];
		if (!gr || !gr->request || gr->nodepool >= p->n_pools ||
		    (gr->zone >= 0 && (uint32_t)gr->zone >= p->n_zones) || gr->zone < -1 ||
		    (gr->n_types && !gr->types))
			return kerf_error_set(err, KERF_E_INVALID,
					      "binpack-ffd: group %zu is invalid", g);
		for (size_t d = 0; d < p->n_dims; d++)
			if (gr->request[d] < 0)
				return kerf_error_set(
				    err, KERF_E_INVALID,
				    "binpack-ffd: group %zu requests a negative %s", g,
				    p->dim_names[d]);
		for (size_t i = 0; i < gr->n_types; i++)
			if (gr->types[i] >= p->n_types ||
			    (i > 0 && gr->types[i] <= gr->types[i - 1]))
				return kerf_error_set(
				    err, KERF_E_INVALID,
				    "binpack-ffd: group %zu types are not ascending "
				    "indexes",
				    g);
	}
	for (size_t c = 0; c < p->n_conflicts; c++)
		if (!p->conflicts[c] || p->conflicts[c]->a >= p->n_groups ||
		    p->conflicts[c]->b >= p->n_groups)
			return kerf_error_set(err, KERF_E_INVALID,
					      "binpack-ffd: conflict %zu names no group", c);
	for (size_t o = 0; o < p->n_open; o++) {
		const struct kerf_pack_open_node *on = p->open[o];
		if (!on || on->type >= p->n_types || on->zone >= p->n_zones || !on->remaining ||
		    (unsigned)on->capacity_type > KERF_CAPACITY_RESERVED ||
		    (on->n_groups && !on->groups))
			return kerf_error_set(err, KERF_E_INVALID,
					      "binpack-ffd: open node %zu is invalid", o);
		for (size_t i = 0; i < on->n_groups; i++)
			if (on->groups[i] >= p->n_groups ||
			    (i > 0 && on->groups[i] <= on->groups[i - 1]))
				return kerf_error_set(err, KERF_E_INVALID,
						      "binpack-ffd: open node %zu groups are not "
						      "ascending indexes",
						      o);
	}
	for (size_t i = 0; i < p->n_pools; i++)
		if (!p->pools[i] || !p->pools[i]->remaining)
			return kerf_error_set(err, KERF_E_INVALID,
					      "binpack-ffd: pool %zu has no limits", i);
	return 0;
}

/* ------------------------------------------------------------ setup */

struct group_key {
	int64_t cpu;
	int64_t mem;
	uint32_t index;
};

static int group_key_cmp(const void *a, const void *b)
{
	const struct group_key *x = a, *y = b;

	if (x->cpu != y->cpu)
		return x->cpu > y->cpu ? -1 : 1;
	if (x->mem != y->mem)
		return x->mem > y->mem ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

static void solver_init(struct solver *s)
{
	const struct kerf_pack_problem *p = s->p;
	size_t zc = (size_t)p->n_zones + 1;

	s->nd = p->n_dims;
	s->nt = p->n_types;
	s->words = (s->nt + 63) / 64;
	s->cpu_dim = s->mem_dim = -1;
	for (size_t d = 0; d < s->nd; d++) {
		if (s->cpu_dim < 0 && strcmp(p->dim_names[d], "cpu") == 0)
			s->cpu_dim = (int)d;
		if (s->mem_dim < 0 && strcmp(p->dim_names[d], "memory") == 0)
			s->mem_dim = (int)d;
	}

	s->offer = zalloc(s, s->nt * zc, 1);
	for (size_t t = 0; t < s->nt; t++) {
		const struct kerf_pack_type *ty = p->types[t];
		for (size_t i = 0; i < ty->n_offerings; i++) {
			uint8_t bit = (uint8_t)(1u << ty->offerings[i]->capacity_type);
			s->offer[t * zc + ty->offerings[i]->zone] |= bit;
			s->offer[t * zc + p->n_zones] |= bit;
		}
	}

	s->pool_rem = zalloc(s, p->n_pools * s->nd, sizeof(int64_t));
	s->pool_limited = zalloc(s, p->n_pools * s->nd, sizeof(bool));
	s->pool_nodes = zalloc(s, p->n_pools, sizeof(int64_t));
	for (size_t i = 0; i < p->n_pools; i++) {
		s->pool_nodes[i] = p->pools[i]->nodes_remaining;
		for (size_t d = 0; d < s->nd; d++) {
			s->pool_rem[i * s->nd + d] = p->pools[i]->remaining[d];
			s->pool_limited[i * s->nd + d] = p->pools[i]->remaining[d] != INT64_MAX;
		}
	}

	/* Conflicts as adjacency lists, both directions, in conflict order. */
	s->conf_off = zalloc(s, p->n_groups + 1, sizeof(size_t));
	s->conf = zalloc(s, 2 * p->n_conflicts, sizeof(uint32_t));
	for (size_t c = 0; c < p->n_conflicts; c++) {
		s->conf_off[p->conflicts[c]->a + 1]++;
		if (p->conflicts[c]->b != p->conflicts[c]->a)
			s->conf_off[p->conflicts[c]->b + 1]++;
	}
	for (size_t g = 0; g < p->n_groups; g++)
		s->conf_off[g + 1] += s->conf_off[g];
	{
		size_t *fill = zalloc(s, p->n_groups + 1, sizeof(size_t));
		for (size_t c = 0; c < p->n_conflicts; c++) {
			uint32_t a = p->conflicts[c]->a, b = p->conflicts[c]->b;
			s->conf[s->conf_off[a] + fill[a]++] = b;
			if (a != b)
				s->conf[s->conf_off[b] + fill[b]++] = a;
		}
		hfree(s, fill);
	}
	s->mark = zalloc(s, p->n_groups, sizeof(uint32_t));
	s->gset = zalloc(s, s->words, sizeof(uint64_t));
	s->tmpset = zalloc(s, s->words, sizeof(uint64_t));
	s->fit = zalloc(s, s->nt, sizeof(uint64_t));
	s->gfit = zalloc(s, s->nt, sizeof(uint64_t));
	s->open = zalloc(s, p->n_open, sizeof(*s->open));
	for (size_t o = 0; o < p->n_open; o++) {
		s->open[o].remaining = zalloc(s, s->nd, sizeof(int64_t));
		memcpy(s->open[o].remaining, p->open[o]->remaining, s->nd * sizeof(int64_t));
	}
	s->unplaced = zalloc(s, p->n_groups, sizeof(uint32_t));
	s->reason = zalloc(s, p->n_groups, sizeof(char *));
	s->scratch = zalloc(s, s->nt, sizeof(uint32_t));
	s->prepared = -1;
	s->cap_order = zalloc(s, p->n_pools, sizeof(*s->cap_order));
	s->max_cap = zalloc(s, p->n_pools, sizeof(*s->max_cap));
	s->by_key = zalloc(s, zc * 8, sizeof(*s->by_key));
	s->n_by_key = zalloc(s, zc * 8, sizeof(size_t));
}

static void solver_free(struct solver *s)
{
	hfree(s, s->offer);
	hfree(s, s->pool_rem);
	hfree(s, s->pool_limited);
	hfree(s, s->pool_nodes);
	hfree(s, s->conf_off);
	hfree(s, s->conf);
	hfree(s, s->mark);
	hfree(s, s->gset);
	hfree(s, s->tmpset);
	hfree(s, s->fit);
	hfree(s, s->gfit);
	for (size_t o = 0; s->open && o < s->p->n_open; o++) {
		hfree(s, s->open[o].remaining);
		hfree(s, s->open[o].assign);
	}
	hfree(s, s->open);
	for (size_t i = 0; i < s->n_nodes; i++) {
		hfree(s, s->nodes[i].used);
		hfree(s, s->nodes[i].max_alloc);
		hfree(s, s->nodes[i].charged);
		hfree(s, s->nodes[i].types);
		hfree(s, s->nodes[i].assign);
	}
	hfree(s, s->nodes);
	for (size_t g = 0; s->reason && g < s->p->n_groups; g++)
		hfree(s, s->reason[g]);
	hfree(s, s->reason);
	hfree(s, s->scratch);
	hfree(s, s->unplaced);
	for (size_t k = 0; s->by_key && k < ((size_t)s->p->n_zones + 1) * 8; k++)
		hfree(s, s->by_key[k]);
	hfree(s, s->by_key);
	hfree(s, s->alloc_order);
	for (size_t i = 0; s->cap_order && i < s->p->n_pools; i++)
		hfree(s, s->cap_order[i]);
	hfree(s, s->cap_order);
	for (size_t i = 0; s->max_cap && i < s->p->n_pools; i++)
		hfree(s, s->max_cap[i]);
	hfree(s, s->max_cap);
	hfree(s, s->n_by_key);
}

/*
 * The plan's solve_ms is the real time the pass took: the host clock may be
 * the simulator's, which stands still during a solve.  A host table
 * without real_mono_ms leaves only its host clock.
 */
static int64_t now_ms(const struct kerf_host *host)
{
	if (KERF_HOST_HAS(host, real_mono_ms))
		return host->real_mono_ms(host->ctx);
	return KERF_HOST_HAS(host, mono_ms) ? host->mono_ms(host->ctx) : 0;
}

int ffd_pack(const struct kerf_host *host, size_t max_types,
	     const struct kerf_pack_problem *problem, struct kerf_pack_plan **out,
	     struct kerf_error *err)
{
	struct solver s;
	struct group_key *order;
	struct ffd_option *opts;
	struct kerf_pack_plan *plan;
	uint64_t pods = 0;
	int64_t start;
	int rc;

	if (!host || !out)
		return kerf_error_set(err, KERF_E_INVALID, "binpack-ffd: no instance or output");
	rc = validate(problem, err);
	if (rc)
		return rc;
	start = now_ms(host);
	memset(&s, 0, sizeof(s));
	s.host = host;
	s.p = problem;
	s.max_types = max_types;
	solver_init(&s);

	order = zalloc(&s, problem->n_groups, sizeof(*order));
	for (size_t g = 0; g < problem->n_groups; g++) {
		const int64_t *req = problem->groups[g]->request;
		order[g].cpu = s.cpu_dim >= 0 ? req[s.cpu_dim] : 0;
		order[g].mem = s.mem_dim >= 0 ? req[s.mem_dim] : 0;
		order[g].index = (uint32_t)g;
		pods += problem->groups[g]->count;
	}
	qsort(order, problem->n_groups, sizeof(*order), group_key_cmp);
	for (size_t i = 0; i < problem->n_groups; i++)
		place_group(&s, order[i].index);
	hfree(&s, order);

	plan = kerf_pack_plan_new();
	opts = zalloc(&s, s.nt, sizeof(*opts));
	rc = build_plan(&s, plan, opts, err);
	hfree(&s, opts);
	solver_free(&s);
	if (rc) {
		kerf_pack_plan_free(plan);
		return rc;
	}
	plan->lower_bound = 0;
	plan->optimal = false;
	plan->solve_ms = now_ms(host) - start;
	host->log(host->ctx, KERF_LOG_DEBUG,
		     "packed %" PRIu64 " pods in %zu groups: %zu nodes, %zu groups unplaced, "
		     "%" PRId64 " ms",
		     pods, problem->n_groups, plan->n_nodes, plan->n_unplaced, plan->solve_ms);
	*out = plan;
	return 0;
}
