/* SPDX-License-Identifier: Apache-2.0 */
/* slurp.c - see slurp.h. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "slurp.h"

char *slurp(FILE *f)
{
	size_t cap = 4096, n = 0, got;
	char *buf = malloc(cap);

	ck_assert_ptr_nonnull(buf);
	while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
		n += got;
		if (n + 1 == cap) {
			cap *= 2;
			buf = realloc(buf, cap);
			ck_assert_ptr_nonnull(buf);
		}
	}
	buf[n] = '\0';
	return buf;
}

int run_captured(const char *cmd, char **out, char **err)
{
	char errpath[] = "/tmp/kerf-test-stderr.XXXXXX";
	char *full;
	int fd = mkstemp(errpath), status;
	size_t len;
	FILE *p, *e;

	ck_assert_int_ge(fd, 0);
	close(fd);
	len = strlen(cmd) + strlen(errpath) + 16;
	full = malloc(len);
	ck_assert_ptr_nonnull(full);
	snprintf(full, len, "%s 2>'%s'", cmd, errpath);
	p = popen(full, "r");
	ck_assert_ptr_nonnull(p);
	*out = slurp(p);
	status = pclose(p);
	free(full);
	ck_assert_msg(WIFEXITED(status), "%s: did not exit", cmd);
	e = fopen(errpath, "r");
	ck_assert_ptr_nonnull(e);
	*err = slurp(e);
	fclose(e);
	unlink(errpath);
	return WEXITSTATUS(status);
}

static const json_t *at(const json_t *o, const char *path)
{
	char key[128];
	const char *dot;

	while ((dot = strchr(path, '.')) != NULL) {
		ck_assert_uint_lt((size_t)(dot - path), sizeof(key));
		memcpy(key, path, (size_t)(dot - path));
		key[dot - path] = '\0';
		o = json_object_get(o, key);
		path = dot + 1;
	}
	return json_object_get(o, path);
}

json_int_t int_at(const json_t *o, const char *path)
{
	const json_t *v = at(o, path);

	ck_assert_msg(json_is_integer(v), "no integer \"%s\"", path);
	return json_integer_value(v);
}

double real_at(const json_t *o, const char *path)
{
	const json_t *v = at(o, path);

	ck_assert_msg(json_is_number(v), "no number \"%s\"", path);
	return json_number_value(v);
}

const char *str_at(const json_t *o, const char *path)
{
	const char *s = json_string_value(at(o, path));

	ck_assert_msg(s != NULL, "no string \"%s\"", path);
	return s;
}
