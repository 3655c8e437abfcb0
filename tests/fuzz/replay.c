/* SPDX-License-Identifier: Apache-2.0 */
/*
 * replay.c - runs one fuzz target over every file of its corpus directory
 * (the seeds, and each crash a fuzzer found, kept as a regression input)
 * without libFuzzer, so that make check replays them in the ordinary build
 * and under the sanitizers.  Arguments override the directory compiled in
 * (FUZZ_CORPUS); a directory that holds no file is a failure, since then
 * nothing was checked.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0;

	if (!f) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	for (;;) {
		if (len == cap) {
			cap = cap ? 2 * cap : 65536;
			buf = realloc(buf, cap);
			if (!buf)
				abort();
		}
		size_t got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (got == 0)
			break;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, len);
	free(buf);
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int replay_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;

	if (!d) {
		fprintf(stderr, "%s: %s\n", dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			names = realloc(names, cap * sizeof(*names));
			if (!names)
				abort();
		}
		size_t size = strlen(dir) + strlen(e->d_name) + 2;
		names[n] = malloc(size);
		if (!names[n])
			abort();
		snprintf(names[n], size, "%s/%s", dir, e->d_name);
		n++;
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_names);
	for (size_t i = 0; i < n; i++) {
		if (replay_file(names[i]) != 0)
			rc = -1;
		free(names[i]);
	}
	free(names);
	if (n == 0) {
		fprintf(stderr, "%s: no inputs\n", dir);
		return -1;
	}
	printf("%s: %zu inputs replayed\n", dir, n);
	return rc;
}

int main(int argc, char **argv)
{
	int rc = 0;

	if (argc < 2)
		return replay_dir(FUZZ_CORPUS) == 0 ? 0 : 1;
	for (int i = 1; i < argc; i++)
		if (replay_dir(argv[i]) != 0)
			rc = 1;
	return rc;
}
