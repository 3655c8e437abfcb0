/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz.h - what the fuzz targets share: the libFuzzer entry point each
 * defines, and input handed over as a file for readers that take a path.
 */
#ifndef KERF_TEST_FUZZ_H
#define KERF_TEST_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* One input; returns 0 (libFuzzer's contract).  Defined by each target. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Puts data into an anonymous in-memory file and writes its path
 * ("/proc/self/fd/N") to path; returns the descriptor, which the caller
 * closes, or aborts when the file cannot be made (a broken harness must not
 * pass for a clean run).
 */
int fuzz_memfile(const uint8_t *data, size_t size, char *path, size_t path_size);

#endif
