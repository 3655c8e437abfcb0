/* SPDX-License-Identifier: Apache-2.0 */
/* A shared object that exports something, but not kerf_plugin_descriptor. */
#include "abi_ops.h"

__attribute__((visibility("default"))) const int abi_not_a_descriptor = 1;
