/* SPDX-License-Identifier: Apache-2.0 */
/*
 * decision_log.c - the JSON-lines decision log (see decision_log.h).
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "decision_log.h"
#include "log.h"
#include "util.h"

#define COMPONENT "decision-log"

struct decision_log {
	int fd;
	char *path;
	decision_log_clock_fn clock;
	void *clock_ctx;
	bool failed; /* a write failed and was logged: later failures stay quiet */
};

int decision_log_open(const char *path, decision_log_clock_fn clock, void *clock_ctx,
		      struct decision_log **out, struct kerf_error *err)
{
	*out = NULL;
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		return kerf_error_set(err, KERF_E_IO, "decision log %s: %s", path, strerror(errno));
	struct decision_log *l = xcalloc(1, sizeof(*l));
	l->fd = fd;
	l->path = xstrdup(path);
	l->clock = clock;
	l->clock_ctx = clock_ctx;
	*out = l;
	return 0;
}

void decision_log_close(struct decision_log *l)
{
	if (!l)
		return;
	if (close(l->fd) != 0 && !l->failed)
		log_warn(COMPONENT, "%s: close failed: %s", l->path, strerror(errno));
	free(l->path);
	free(l);
}

json_t *decision_log_line(const struct decision_log *l)
{
	json_t *o = json_object();
	json_object_set_new(o, "time_ms", json_integer(l->clock(l->clock_ctx)));
	return o;
}

/* A short write (a full disk, a signal) is finished or reported, never left as half a line. */
static int write_all(int fd, const char *buf, size_t n)
{
	while (n) {
		ssize_t w = write(fd, buf, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? errno : EIO;
		buf += w;
		n -= (size_t)w;
	}
	return 0;
}

void decision_log_emit(struct decision_log *l, json_t *obj)
{
	char *text = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
	json_decref(obj);
	if (!text)
		abort(); /* jansson fails only on allocation, which kerf treats as fatal */
	size_t n = strlen(text);
	char *line = xmalloc(n + 2);
	memcpy(line, text, n);
	line[n] = '\n';
	line[n + 1] = '\0';
	free(text);
	int e = write_all(l->fd, line, n + 1);
	free(line);
	if (e && !l->failed) {
		l->failed = true;
		log_warn(COMPONENT,
			 "%s: write failed (reported once; lines that fail are dropped): %s",
			 l->path, strerror(e));
	}
}
