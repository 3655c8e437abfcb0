/*
 * packer.c - freeing a packer's plan.
 *
 * Plans come back from packer plugins, which allocate every piece with the
 * host allocator; the host allocator is malloc-based, so free() is its
 * match here and callers need no host table to drop a plan.
 */
#include <stdlib.h>

#include <kerf/packer.h>

void kerf_pack_plan_free(struct kerf_pack_plan *plan)
{
	if (!plan)
		return;
	for (size_t i = 0; i < plan->n_nodes; i++) {
		free(plan->nodes[i].options);
		free(plan->nodes[i].assign);
	}
	free(plan->nodes);
	for (size_t i = 0; i < plan->n_unplaced; i++)
		free(plan->unplaced[i].reason);
	free(plan->unplaced);
	free(plan);
}
