/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ab.h - the A/B packing comparison, read from the per-NodePool packer
 * records ("nodepools") of the decision log's batch lines.  kerfd feeds it
 * each batch line as it writes it and prints it in its end-of-run summary
 * and --report; `kerfctl ab-report` reads it back from decision log files.
 *
 * For each NodePool: figures per packer that acted and per shadow
 * challenger; for shadow pools the paired per-batch price difference
 * between the acting packer and its challenger, with a Student-t interval;
 * for split pools an unpaired (Welch) comparison of the price per pod.
 * Prices come in as integer micro-dollars per hour; doubles appear only in
 * the statistics and what is printed from them.
 */
#ifndef KERF_CORE_AB_H
#define KERF_CORE_AB_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include <kerf/error.h>

struct ab_report;

struct ab_report *ab_new(void);
void ab_free(struct ab_report *r); /* NULL allowed */

/*
 * Adds one decision log line (a JSON object).  Lines with "event" and lines
 * without "batch" are not batch lines and are ignored, as are batch lines
 * without "nodepools" (an older kerfd; counted and mentioned in the report).
 * A malformed record is KERF_E_PARSE naming the field
 * ("batch 7: nodepools[1].shadow.placed: expected a non-negative integer"),
 * a total that no longer fits KERF_E_RANGE; either way nothing of the line
 * is added.
 */
int ab_add_line(struct ab_report *r, const json_t *line, struct kerf_error *err);

/*
 * The longest decision log line read: a batch line of some thousand
 * NodePools.  A longer one is damage or not a decision log.
 */
#define AB_LINE_MAX (4 * 1024 * 1024)

/*
 * Adds every line of a decision log file.  A line that is not JSON (or has
 * a key twice), or a record ab_add_line rejects, stops the reading with
 * "path:LINE:COLUMN: ..." (kerfd writes each line whole, so a broken line
 * is damage, not a line still being written); so does a line longer than
 * AB_LINE_MAX (KERF_E_RANGE), a read error (KERF_E_IO) or running out of
 * memory (KERF_E_NOMEM).  Lines added before it stay added.  A last line
 * without its newline that is not JSON is what a full disk or a crash
 * during a write leaves: it is skipped with a warning (ab_warnings), and
 * everything before it counts.
 */
int ab_read_file(struct ab_report *r, const char *path, struct kerf_error *err);

/* The warnings ab_read_file gave, one per line ending in a newline; NULL when none. */
const char *ab_warnings(const struct ab_report *r);

/*
 * When path is a kerfd --report file rather than a decision log, sets *ab
 * to its "ab" section (a new reference, as ab_json made it) and returns 0;
 * one without an "ab" section is KERF_E_NOTFOUND with a message saying so.
 * Anything else (a decision log, an unreadable file) is 0 with *ab NULL and
 * is left to ab_read_file.  Only a file that starts as kerfd writes one, a
 * line holding "{" alone, is read whole, and one with more than a value
 * per 8 bytes is KERF_E_RANGE: it would take many times its size in memory.
 */
int ab_kerfd_report_section(const char *path, json_t **ab, struct kerf_error *err);

/*
 * Keeps only the NodePool name in such a section (NULL: keeps all); both
 * check that it has a "nodepools" list (KERF_E_PARSE), and a name not in it
 * is KERF_E_NOTFOUND.
 */
int ab_section_keep_nodepool(json_t *ab, const char *name, struct kerf_error *err);

/* A section's verdicts, one line per NodePool: the figures stay in its JSON. */
void ab_section_print(const json_t *ab, FILE *f);

/*
 * Keeps only the NodePool name; KERF_E_NOTFOUND, listing the NodePools
 * that have records, when it has none.
 */
int ab_keep_nodepool(struct ab_report *r, const char *name, struct kerf_error *err);

/* True when some NodePool has shadow or split records, i.e. something to compare. */
bool ab_has_comparison(const struct ab_report *r);

/* The text report: per NodePool its packer table, comparisons and verdict. */
void ab_print(const struct ab_report *r, FILE *f);

/* The same as a new JSON object: {"nodepools":[...], "batch_lines":N, ...}. */
json_t *ab_json(const struct ab_report *r);

/*
 * The p quantile of Student's t distribution with df degrees of freedom
 * (df > 0, not necessarily whole; INFINITY gives the normal quantile),
 * 0 < p < 1.  Exposed for the tests.
 */
double ab_t_quantile(double p, double df);

#endif
