/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * columns.c - binpack-ilp's master problem: its rows, its columns (node
 * patterns) and the seeds it starts from (FFD's plan, one pattern per group).
 */
#include <stdlib.h>
#include <string.h>

#include <glpk.h>

#include "ilp.h"

static uint64_t column_hash(const struct column *c)
{
	uint64_t h = mix((uint64_t)(c->open + 1), c->pool);

	h = mix(h, c->type);
	h = mix(h, c->zone);
	h = mix(h, (uint64_t)c->ct);
	for (size_t i = 0; i < c->n; i++)
		h = mix(mix(h, c->a[i].group), c->a[i].count);
	return h;
}

static bool same_column(const struct column *x, const struct column *y)
{
	return x->hash == y->hash && x->open == y->open && x->pool == y->pool &&
	       x->type == y->type && x->zone == y->zone && x->ct == y->ct && x->n == y->n &&
	       memcmp(x->a, y->a, x->n * sizeof(*x->a)) == 0;
}

static int assign_cmp(const void *a, const void *b)
{
	const struct ffd_assign *x = a, *y = b;

	return x->group < y->group ? -1 : x->group > y->group;
}

/* Index of column c among the master's, adding it when new (takes c->a). */
size_t ilp_add_column(struct solver *s, struct column *c)
{
	int *ind;
	double *val;
	int n = 0, j;

	qsort(c->a, c->n, sizeof(*c->a), assign_cmp);
	c->hash = column_hash(c);
	s->clk->work += 1 + (int64_t)(c->n + s->ncol / ILP_WORK_COLUMNS);
	for (size_t i = 0; i < s->ncol; i++)
		if (same_column(&s->cols[i], c)) {
			hfree(s, c->a);
			return i;
		}
	if (s->ncol == s->cap_col) {
		s->cap_col = s->cap_col ? s->cap_col * 2 : 64;
		s->cols = s->host->realloc(s->host->ctx, s->cols, s->cap_col * sizeof(*s->cols));
	}
	s->cols[s->ncol] = *c;

	ind = zalloc(s, c->n + s->nd + 3, sizeof(int));
	val = zalloc(s, c->n + s->nd + 3, sizeof(double));
	for (size_t i = 0; i < c->n; i++) {
		ind[++n] = (int)c->a[i].group + 1;
		val[n] = c->a[i].count;
	}
	if (c->open >= 0) {
		ind[++n] = s->row_open[c->open];
		val[n] = 1;
	} else {
		const int64_t *cap = ffd_capacity_of(s->p, c->pool, c->type);
		if (s->row_nodes[c->pool]) {
			ind[++n] = s->row_nodes[c->pool];
			val[n] = 1;
		}
		for (size_t d = 0; d < s->nd; d++) {
			size_t r = c->pool * s->nd + d;
			if (s->row_lim[r] && cap[d] != 0) {
				ind[++n] = s->row_lim[r];
				val[n] = (double)cap[d] / s->lim_scale[r];
			}
		}
	}
	j = glp_add_cols(s->lp, 1);
	glp_set_mat_col(s->lp, j, n, ind, val);
	glp_set_col_bnds(s->lp, j, GLP_LO, 0.0, 0.0);
	glp_set_obj_coef(s->lp, j, (double)c->price / ILP_MICRO);
	glp_set_col_stat(s->lp, j, GLP_NL);
	hfree(s, ind);
	hfree(s, val);
	return s->ncol++;
}

/* The master's rows and slack columns (columns 1..ng are the slacks). */
void ilp_build_master(struct solver *s)
{
	const struct kerf_pack_problem *p = s->p;
	int r;

	s->lp = glp_create_prob();
	glp_set_obj_dir(s->lp, GLP_MIN);
	glp_add_rows(s->lp, (int)s->ng);
	for (size_t g = 0; g < s->ng; g++)
		glp_set_row_bnds(s->lp, (int)g + 1, GLP_LO, p->groups[g]->count, 0.0);
	r = (int)s->ng;
	s->row_open = zalloc(s, p->n_open, sizeof(int));
	for (size_t o = 0; o < p->n_open; o++) {
		s->row_open[o] = ++r;
		glp_add_rows(s->lp, 1);
		glp_set_row_bnds(s->lp, r, GLP_UP, 0.0, 1.0);
	}
	s->row_nodes = zalloc(s, p->n_pools, sizeof(int));
	s->row_lim = zalloc(s, p->n_pools * s->nd, sizeof(int));
	s->lim_scale = zalloc(s, p->n_pools * s->nd, sizeof(double));
	for (size_t i = 0; i < p->n_pools; i++) {
		const struct kerf_pack_pool *pp = p->pools[i];
		if (pp->nodes_remaining != INT64_MAX) {
			s->row_nodes[i] = ++r;
			glp_add_rows(s->lp, 1);
			glp_set_row_bnds(
			    s->lp, r, GLP_UP, 0.0,
			    (double)(pp->nodes_remaining > 0 ? pp->nodes_remaining : 0));
		}
		for (size_t d = 0; d < s->nd; d++) {
			size_t k = i * s->nd + d;
			if (!dim_limited(s, (uint32_t)i, d))
				continue;
			s->row_lim[k] = ++r;
			s->lim_scale[k] = pp->remaining[d] > 1 ? (double)pp->remaining[d] : 1.0;
			glp_add_rows(s->lp, 1);
			glp_set_row_bnds(s->lp, r, GLP_UP, 0.0,
					 pp->remaining[d] > 0
					     ? (double)pp->remaining[d] / s->lim_scale[k]
					     : 0.0);
		}
	}
	s->n_rows = r;
	s->y = zalloc(s, (size_t)r + 1, sizeof(double));
	glp_add_cols(s->lp, (int)s->ng);
	for (size_t g = 0; g < s->ng; g++) {
		int ind[2] = {0, (int)g + 1};
		double val[2] = {0, 1};
		glp_set_mat_col(s->lp, (int)g + 1, 1, ind, val);
		glp_set_col_bnds(s->lp, (int)g + 1, GLP_LO, 0.0, 0.0);
		glp_set_obj_coef(s->lp, (int)g + 1, s->penalty);
		glp_set_col_kind(s->lp, (int)g + 1, GLP_IV);
	}
}

/* A column of kind k with room for n counts. */
struct column ilp_kind_column(const struct solver *s, const struct bkind *k, size_t n)
{
	struct column c = {.open = k->open,
			   .pool = k->pool,
			   .type = k->type,
			   .zone = k->zone,
			   .ct = k->ct,
			   .price = k->price,
			   .n = n};

	c.a = zalloc(s, n, sizeof(*c.a));
	return c;
}

/* FFD's nodes as columns, and FFD's solution as the first incumbent. */
void ilp_seed_ffd(struct solver *s, const struct kerf_pack_plan *ffd)
{
	size_t *idx = zalloc(s, ffd->n_nodes, sizeof(size_t));
	double *x;

	for (size_t i = 0; i < ffd->n_nodes; i++) {
		const struct kerf_pack_node *n = ffd->nodes[i];
		struct column c = {.open = n->open_index,
				   .pool = n->nodepool,
				   .type = n->type,
				   .zone = n->zone,
				   .ct = n->capacity_type,
				   .price = n->price,
				   .n = n->n_assign};
		c.a = zalloc(s, n->n_assign, sizeof(*c.a));
		for (size_t a = 0; a < n->n_assign; a++) {
			c.a[a].group = n->assign[a]->group;
			c.a[a].count = n->assign[a]->count;
		}
		idx[i] = ilp_add_column(s, &c);
	}
	x = zalloc(s, s->ng + s->ncol + 1, sizeof(double));
	for (size_t i = 0; i < ffd->n_nodes; i++)
		x[s->ng + 1 + idx[i]] += 1;
	for (size_t u = 0; u < ffd->n_unplaced; u++)
		x[ffd->unplaced[u]->group + 1] += ffd->unplaced[u]->count;
	hfree(s, idx);
	s->inc_x = x;
	s->inc_len = s->ng + s->ncol + 1;
	s->inc_obj = 0;
	for (size_t j = 1; j < s->inc_len; j++)
		s->inc_obj += x[j] * glp_get_obj_coef(s->lp, (int)j);
}

/* Stretches the incumbent over columns added since (at 0). */
void ilp_incumbent_fit(struct solver *s)
{
	size_t len = s->ng + s->ncol + 1;

	if (s->inc_len == len)
		return;
	s->inc_x = s->host->realloc(s->host->ctx, s->inc_x, len * sizeof(double));
	for (size_t j = s->inc_len; j < len; j++)
		s->inc_x[j] = 0;
	s->inc_len = len;
}

/*
 * One homogeneous pattern per group: as many of its pods as a node takes,
 * on the kind with the lowest price per pod.  They bound each group's dual
 * by a real price per pod from the first round, where FFD's columns alone
 * leave the master degenerate and its duals wild.
 */
void ilp_seed_homogeneous(struct solver *s)
{
	double *best = zalloc(s, s->ng, sizeof(double));
	size_t *kind = zalloc(s, s->ng, sizeof(size_t));
	uint32_t *pods = zalloc(s, s->ng, sizeof(uint32_t));

	s->clk->work += (int64_t)(s->n_kg / ILP_WORK_SCAN);
	for (size_t kk = 0; kk < s->nk; kk++) {
		const struct bkind *k = &s->kinds[kk];
		if (k->open >= 0)
			continue;
		for (size_t i = 0; i < k->ng; i++) {
			uint32_t g = s->kg[k->goff + i];
			uint32_t u =
			    fits(s->nd, k->room, s->p->groups[g]->request, per_node_cap(s, g));
			double per_pod = (double)k->price / u;
			if (u && (!pods[g] || per_pod < best[g])) {
				best[g] = per_pod;
				kind[g] = kk;
				pods[g] = u;
			}
		}
	}
	for (size_t g = 0; g < s->ng; g++) {
		const struct bkind *k;
		struct column c;
		if (!pods[g])
			continue;
		k = &s->kinds[kind[g]];
		c = ilp_kind_column(s, k, 1);
		c.a[0].group = (uint32_t)g;
		c.a[0].count = pods[g];
		ilp_add_column(s, &c);
	}
	hfree(s, best);
	hfree(s, kind);
	hfree(s, pods);
}
