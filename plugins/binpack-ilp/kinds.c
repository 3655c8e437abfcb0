/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * kinds.c - binpack-ilp's bin kinds: every new-node offering and open node
 * the master may use, with the groups each can take, less the dominated ones.
 */
#include <stdlib.h>
#include <string.h>

#include "ilp.h"

static void push_kg(struct solver *s, uint32_t g)
{
	if (s->n_kg == s->cap_kg) {
		s->cap_kg = s->cap_kg ? s->cap_kg * 2 : 1024;
		s->kg = s->host->realloc(s->host->ctx, s->kg, s->cap_kg * sizeof(*s->kg));
	}
	s->kg[s->n_kg++] = g;
}

static struct bkind *push_kind(struct solver *s, size_t *cap)
{
	if (s->nk == *cap) {
		*cap = *cap ? *cap * 2 : 256;
		s->kinds = s->host->realloc(s->host->ctx, s->kinds, *cap * sizeof(*s->kinds));
	}
	memset(&s->kinds[s->nk], 0, sizeof(s->kinds[0]));
	return &s->kinds[s->nk++];
}

bool ilp_group_allows(const struct kerf_pack_group *gr, uint32_t zone, kerf_capacity_type ct)
{
	return (gr->zone < 0 || (uint32_t)gr->zone == zone) && (gr->capacity_types & (1u << ct));
}

/* Closes a kind's group list: its hash, or drops the kind when no group fits. */
static void finish_kind(struct solver *s, struct bkind *k)
{
	uint64_t h = mix(k->pool + 1, k->open + 2);

	k->ng = s->n_kg - k->goff;
	if (k->ng == 0) {
		s->nk--;
		return;
	}
	for (size_t i = 0; i < k->ng; i++)
		h = mix(h, s->kg[k->goff + i]);
	k->hash = h;
}

static int kind_cmp(const void *a, const void *b)
{
	const struct bkind *x = a, *y = b;

	if (x->open != y->open)
		return x->open < y->open ? -1 : 1;
	if (x->pool != y->pool)
		return x->pool < y->pool ? -1 : 1;
	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	if (x->ng != y->ng)
		return x->ng < y->ng ? -1 : 1;
	if (x->price != y->price)
		return x->price < y->price ? -1 : 1;
	if (x->type != y->type)
		return x->type < y->type ? -1 : 1;
	if (x->zone != y->zone)
		return x->zone < y->zone ? -1 : 1;
	return (int)x->ct - (int)y->ct;
}

static bool same_groups(const struct solver *s, const struct bkind *x, const struct bkind *y)
{
	return x->open == y->open && x->pool == y->pool && x->hash == y->hash && x->ng == y->ng &&
	       memcmp(&s->kg[x->goff], &s->kg[y->goff], x->ng * sizeof(uint32_t)) == 0;
}

/* True when kind a (no dearer) makes kind b redundant: see "Columns" in ilp.h. */
static bool dominates(const struct solver *s, const struct bkind *a, const struct bkind *b)
{
	const int64_t *ca = ffd_capacity_of(s->p, a->pool, a->type),
		      *cb = ffd_capacity_of(s->p, b->pool, b->type);

	if (a->price > b->price)
		return false;
	for (size_t d = 0; d < s->nd; d++) {
		if (a->room[d] < b->room[d])
			return false;
		if (dim_limited(s, a->pool, d) && ca[d] > cb[d])
			return false;
	}
	return true;
}

/*
 * Every offering of every type a pool's groups list, with the groups it can
 * take, then only the kinds no other kind of the same groups dominates.
 * Returns false when the deadline passed first.
 */
bool ilp_build_kinds(struct solver *s)
{
	const struct kerf_pack_problem *p = s->p;
	size_t cap = 0, kept = 0;
	uint32_t **tgroups = zalloc(s, p->n_types, sizeof(*tgroups));
	size_t *tn = zalloc(s, p->n_types, sizeof(size_t));
	size_t *tcap = zalloc(s, p->n_types, sizeof(size_t));
	bool ok = true;

	/* Groups per type, by pool (groups come in index order, so lists ascend). */
	for (uint32_t pool = 0; pool < p->n_pools && ok; pool++) {
		for (size_t t = 0; t < p->n_types; t++)
			tn[t] = 0;
		for (size_t g = 0; g < s->ng; g++) {
			const struct kerf_pack_group *gr = p->groups[g];
			if (gr->nodepool != pool || gr->count == 0)
				continue;
			for (size_t i = 0; i < gr->n_types; i++) {
				uint32_t t = gr->types[i];
				if (!fits(s->nd, p->types[t]->allocatable, gr->request, 1))
					continue;
				if (tn[t] == tcap[t]) {
					tcap[t] = tcap[t] ? tcap[t] * 2 : 8;
					tgroups[t] = s->host->realloc(s->host->ctx, tgroups[t],
								      tcap[t] * sizeof(uint32_t));
				}
				tgroups[t][tn[t]++] = (uint32_t)g;
			}
		}
		if (p->pools[pool]->nodes_remaining <= 0)
			continue;
		for (size_t t = 0; t < p->n_types && ok; t++) {
			const struct kerf_pack_type *ty = p->types[t];
			const int64_t *c = ffd_capacity_of(s->p, pool, t);
			bool room = tn[t] > 0;
			if ((t & 63) == 63)
				ok = ilp_now(s->clk) < s->deadline_cg;
			for (size_t d = 0; d < s->nd && room; d++)
				room = !dim_limited(s, pool, d) ||
				       c[d] <= p->pools[pool]->remaining[d];
			for (size_t o = 0; o < ty->n_offerings && room; o++) {
				const struct kerf_pack_offering *of = ty->offerings[o];
				struct bkind *k = push_kind(s, &cap);
				k->open = -1;
				k->pool = pool;
				k->type = (uint32_t)t;
				k->zone = of->zone;
				k->ct = of->capacity_type;
				k->price = of->price;
				k->room = ty->allocatable;
				k->goff = s->n_kg;
				s->clk->work += 1 + (int64_t)(tn[t] / ILP_WORK_SCAN);
				for (size_t i = 0; i < tn[t]; i++)
					if (ilp_group_allows(p->groups[tgroups[t][i]], of->zone,
							     of->capacity_type))
						push_kg(s, tgroups[t][i]);
				finish_kind(s, k);
			}
		}
		ok = ilp_now(s->clk) < s->deadline_cg;
	}
	for (size_t t = 0; t < p->n_types; t++)
		hfree(s, tgroups[t]);
	hfree(s, tgroups);
	hfree(s, tn);
	hfree(s, tcap);

	for (size_t o = 0; o < p->n_open; o++) {
		const struct kerf_pack_open_node *on = p->open[o];
		struct bkind *k = push_kind(s, &cap);
		k->open = (int32_t)o;
		k->type = on->type;
		k->zone = on->zone;
		k->ct = on->capacity_type;
		k->room = on->remaining;
		k->goff = s->n_kg;
		for (size_t i = 0; i < on->n_groups; i++) {
			uint32_t g = on->groups[i];
			if (p->groups[g]->count &&
			    ilp_group_allows(p->groups[g], on->zone, on->capacity_type) &&
			    fits(s->nd, on->remaining, p->groups[g]->request, 1))
				push_kg(s, g);
		}
		finish_kind(s, k);
	}
	if (!ok)
		return false;

	if (s->nk)
		qsort(s->kinds, s->nk, sizeof(*s->kinds), kind_cmp);
	/* Within each run of equal group sets (cheapest first), keep the skyline. */
	for (size_t i = 0; i < s->nk;) {
		size_t j = i, run_start = kept;
		while (j < s->nk && same_groups(s, &s->kinds[i], &s->kinds[j]))
			j++;
		for (size_t c = i; c < j; c++) {
			bool dom = false;
			for (size_t k = run_start; k < kept && !dom; k++)
				dom = s->kinds[k].open < 0 &&
				      dominates(s, &s->kinds[k], &s->kinds[c]);
			if (!dom)
				s->kinds[kept++] = s->kinds[c];
		}
		i = j;
	}
	s->nk = kept;
	s->kind_lam = zalloc(s, s->nk * s->nd, sizeof(double));
	s->kind_rclb = zalloc(s, s->nk, sizeof(double));
	s->kind_proven = zalloc(s, s->nk, sizeof(bool));
	return true;
}
