/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kerf/kerf.h - the whole plugin SDK in one include.
 */
#ifndef KERF_KERF_H
#define KERF_KERF_H

#include <kerf/error.h>
#include <kerf/quantity.h>
#include <kerf/types.h>
#include <kerf/doc.h>
#include <kerf/requirements.h>
#include <kerf/taints.h>
#include <kerf/scheduling.h>
#include <kerf/host.h>
#include <kerf/provider.h>
#include <kerf/cluster.h>
#include <kerf/packer.h>
#include <kerf/plugin.h>
#include <kerf/workload.h>

#endif
