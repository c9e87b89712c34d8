/* Shared by the issue tests (test_issues, test_issue_lifecycle): the synthetic shop ingested one
 * version at a time into a real hud-server, and issues read back through the query API. The helpers
 * fail the running cmocka test on any error. */
#ifndef ISSUES_FIXTURE_H
#define ISSUES_FIXTURE_H

#include <stdint.h>

#include "hud/model.h"

#define ISF_INV 2000 /* invocations per flow per ingested version */

/* Simulates VERSION of SERVICE (fetch_order SLOW times slower when SLOW > 0: a code change, so its
 * source hash names the factor) with SEED and ingests it as one batch BATCH_ID at TS through PORT
 * with KEY. */
void isf_ingest(int port, const char *key, const char *service, const char *version, double slow, uint64_t seed,
                const char *batch_id, hud_time_ns ts);

/* The same on a host HOST times slower than idle (every self time times HOST), where fetch_order
 * waits: it slows as HOST^WAIT (a function that sleeps or waits on a lock wakes late on a busy host). */
void isf_ingest_on_host(int port, const char *key, const char *service, const char *version, double slow,
                        double host, double wait, uint64_t seed, const char *batch_id, hud_time_ns ts);

/* GET /v1/issues/ISSUE_ID of shop in prod with KEY: the status must be WANT; the issue (decoded into
 * A) when it is 200, zeroed otherwise. */
hud_issue isf_get(hud_arena *a, int port, const char *key, const char *issue_id, long want);

/* How many events EVENT the issue's history has; the note of the newest one (NULL: none). */
int isf_history_has(const hud_issue *is, const char *event);
const char *isf_history_note(const hud_issue *is, const char *event);

#endif
