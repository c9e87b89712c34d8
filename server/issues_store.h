/* The stored issues' rows (engine-neutral) and the SQLite engine's SQL of them (tables issues and
 * issue_events of store.h): reads take a read connection, writes run on the writer inside the
 * transaction of srv_store_issues_write() (store.h). Times are unix ns. */
#ifndef SRV_ISSUES_STORE_H
#define SRV_ISSUES_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "hud/model.h"

struct sqlite3;

/* One row of `issues`; strings and the finding in the caller's arena. */
typedef struct srv_issue_row {
  hud_uuid issue_id;
  const char *kind, *function_id, *flow_id, *exception_type, *comparison, *status;
  int64_t first_seen, last_seen, status_changed_at;
  int32_t times_reopened;
  const char *base_label, *cand_label;
  const void *finding; /* issue_blob.h; NULL when absent */
  size_t finding_len;
  const char *payload; /* {"issues": [hud_issue]} as the codec encoded it */
  /* The lifecycle's memory (docs/detection.md, "Lifecycle"), kept here so a restart keeps it. */
  int64_t found_since;         /* first pass that found it since it was opened, reopened or regressed */
  int64_t alerted_at;          /* its last alert; 0: never */
  const char *alert_pending;   /* event waiting to be alerted until confirmed; NULL: none */
  const char *cand_version;    /* candidate version of its last versions/canary finding; NULL: none yet */
  const char *alerted_version; /* the candidate version its last alert named (NULL: none or windows) */
} srv_issue_row;

typedef struct srv_issue_event_row {
  int64_t at;
  const char *event, *note;
} srv_issue_event_row;

/* Which rows srv_issues_list() returns. */
typedef enum srv_issue_filter {
  SRV_ISSUES_ACTIVE = 0, /* open and acknowledged */
  SRV_ISSUES_OPEN,
  SRV_ISSUES_ACKNOWLEDGED,
  SRV_ISSUES_MUTED,
  SRV_ISSUES_RESOLVED,
  SRV_ISSUES_ALL,
} srv_issue_filter;

/* "active", "open", ... "all" -> *OUT; HUD_EFIELD for anything else. */
int srv_issue_filter_parse(const char *s, srv_issue_filter *out);

/* Rows of service SID matching F, most recently seen first, at most LIMIT (0: no limit); with
 * FINDINGS false the finding column is not read. */
int srv_issues_list(struct sqlite3 *db, int64_t sid, srv_issue_filter f, int limit, int findings, hud_arena *a,
                    srv_issue_row **rows, size_t *n);
/* The row of ISSUE_ID in service SID; HUD_ENOTFOUND when none. */
int srv_issues_get(struct sqlite3 *db, int64_t sid, const char *issue_id, hud_arena *a, srv_issue_row *out);
/* Its history, oldest first. */
int srv_issues_events(struct sqlite3 *db, const char *issue_id, hud_arena *a, srv_issue_event_row **ev, size_t *n);

/* ---- writes (writer connection, inside a transaction) ---- */

/* Inserts or replaces the whole row R of service SID. */
int srv_issues_put(struct sqlite3 *db, int64_t sid, const srv_issue_row *r);
/* Appends one history event (NOTE may be NULL). */
int srv_issues_event_add(struct sqlite3 *db, const char *issue_id, int64_t at, const char *event, const char *note);
/* Deletes the resolved issues (and their events) whose last change (last_seen, status_changed_at) is before
 * CUTOFF; *N (may be NULL): how many issues. */
int srv_issues_expire(struct sqlite3 *db, int64_t cutoff, uint64_t *n);

/* The SQLite engine's srv_store_ops.issues_write: FN in one writer transaction. */
struct srv_store;
struct srv_issue_tx;
int srv_sqlite_issues_write(struct srv_store *st, int (*fn)(struct srv_issue_tx *tx, void *arg), void *arg);

#endif
