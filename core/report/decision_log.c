/* SPDX-License-Identifier: Apache-2.0 */
/*
 * decision_log.c - the JSON-lines decision log (see decision_log.h).
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
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
	int write_errno; /* the first failed write's; later failures stay quiet */
	uint64_t lost;	 /* lines dropped since */
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

int decision_log_status(const struct decision_log *l, struct kerf_error *err)
{
	if (!l->write_errno)
		return 0;
	return kerf_error_set(err, KERF_E_IO,
			      "decision log %s: write failed: %s (%llu line%s lost)", l->path,
			      strerror(l->write_errno), (unsigned long long)l->lost,
			      l->lost == 1 ? "" : "s");
}

int decision_log_close(struct decision_log *l, struct kerf_error *err)
{
	int rc = 0;

	if (!l)
		return 0;
	/* Whatever the kernel still holds is on the disk before kerfd says it is done. */
	if (fsync(l->fd) != 0 && errno != EINVAL && errno != EROFS)
		rc = kerf_error_set(err, KERF_E_IO, "decision log %s: fsync failed: %s", l->path,
				    strerror(errno));
	if (close(l->fd) != 0 && rc == 0)
		rc = kerf_error_set(err, KERF_E_IO, "decision log %s: close failed: %s", l->path,
				    strerror(errno));
	free(l->path);
	free(l);
	return rc;
}

json_t *decision_log_line(const struct decision_log *l)
{
	json_t *o = json_object();
	json_object_set_new(o, "time_ms", json_integer(l->clock(l->clock_ctx)));
	return o;
}

/* The errno of a write that could not finish, 0 when all n bytes went out. */
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

/*
 * One line, whole or not at all: a write cut short (a full disk, a file
 * size limit) is finished if it can be, and otherwise cut back to where the
 * line started, so the file never ends in half a line that the next line
 * would be glued onto.
 */
static int write_line(int fd, const char *line, size_t n)
{
	off_t start = lseek(fd, 0, SEEK_END);
	int e = write_all(fd, line, n);
	if (e && start >= 0)
		while (ftruncate(fd, start) != 0 && errno == EINTR)
			;
	return e;
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
	int e = write_line(l->fd, line, n + 1);
	free(line);
	if (!e)
		return;
	l->lost++;
	if (!l->write_errno) {
		l->write_errno = e;
		log_error(COMPONENT,
			  "%s: write failed (reported once; lines that fail are dropped, and kerfd "
			  "will exit with an error): %s",
			  l->path, strerror(e));
	}
}
