/* SPDX-License-Identifier: Apache-2.0 */
/*
 * packer.c - a packer's plan: its constructors and its free.
 *
 * Packers build plans here, so that the plan and its nodes have this
 * build's size whatever minor the packer was built against, and the host
 * frees them here.
 */
#include <stdlib.h>

#include <kerf/packer.h>

#include "util.h"

struct kerf_pack_plan *kerf_pack_plan_new(void)
{
	return xcalloc(1, sizeof(struct kerf_pack_plan));
}

struct kerf_pack_node *kerf_pack_node_new(void)
{
	struct kerf_pack_node *n = xcalloc(1, sizeof(*n));

	n->open_index = -1;
	return n;
}

void kerf_pack_node_free(struct kerf_pack_node *n)
{
	if (!n)
		return;
	free(n->options);
	for (size_t i = 0; n->assign && i < n->n_assign; i++)
		kerf_pack_assignment_free(n->assign[i]);
	free(n->assign);
	free(n);
}

void kerf_pack_assignment_free(struct kerf_pack_assignment *a)
{
	free(a);
}

void kerf_pack_unplaced_free(struct kerf_pack_unplaced *u)
{
	if (!u)
		return;
	free(u->reason);
	free(u);
}

void kerf_pack_plan_free(struct kerf_pack_plan *plan)
{
	if (!plan)
		return;
	for (size_t i = 0; plan->nodes && i < plan->n_nodes; i++)
		kerf_pack_node_free(plan->nodes[i]);
	free(plan->nodes);
	for (size_t i = 0; plan->unplaced && i < plan->n_unplaced; i++)
		kerf_pack_unplaced_free(plan->unplaced[i]);
	free(plan->unplaced);
	free(plan);
}

struct kerf_pack_node *kerf_pack_plan_add_node(struct kerf_pack_plan *plan)
{
	struct kerf_pack_node *n = kerf_pack_node_new();

	plan->nodes = xrealloc(plan->nodes, (plan->n_nodes + 1) * sizeof(*plan->nodes));
	plan->nodes[plan->n_nodes++] = n;
	return n;
}

struct kerf_pack_unplaced *kerf_pack_plan_add_unplaced(struct kerf_pack_plan *plan)
{
	struct kerf_pack_unplaced *u = xcalloc(1, sizeof(*u));

	plan->unplaced = xrealloc(plan->unplaced, (plan->n_unplaced + 1) * sizeof(*plan->unplaced));
	plan->unplaced[plan->n_unplaced++] = u;
	return u;
}

struct kerf_pack_assignment *kerf_pack_node_add_assignment(struct kerf_pack_node *n)
{
	struct kerf_pack_assignment *a = xcalloc(1, sizeof(*a));

	n->assign = xrealloc(n->assign, (n->n_assign + 1) * sizeof(*n->assign));
	n->assign[n->n_assign++] = a;
	return a;
}
