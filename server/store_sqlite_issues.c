/* SQL of the stored issues (issues_store.h). */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "hud/err.h"
#include "issues_store.h"
#include "store.h"

static const char *const k_filters[] = {"active", "open", "acknowledged", "muted", "resolved", "all"};

int srv_issue_filter_parse(const char *s, srv_issue_filter *out) {
  for (size_t i = 0; s && i < sizeof k_filters / sizeof k_filters[0]; i++)
    if (strcmp(s, k_filters[i]) == 0) {
      *out = (srv_issue_filter)i;
      return 0;
    }
  return HUD_EFIELD;
}

static int prep(sqlite3 *db, const char *sql, sqlite3_stmt **st) {
  if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK) {
    fprintf(stderr, "hud-server: issues: %s\n", sqlite3_errmsg(db));
    *st = NULL;
    return HUD_ESTORE;
  }
  return 0;
}

static const char *text(hud_arena *a, sqlite3_stmt *st, int col) {
  const unsigned char *t = sqlite3_column_text(st, col);
  return t ? hud_arena_strdup(a, (const char *)t) : NULL;
}

#define ROW_COLS                                                                                              \
  "issue_id, kind, function_id, flow_id, exception_type, comparison, status, first_seen, last_seen,"         \
  " status_changed_at, times_reopened, base_label, cand_label, payload, found_since, alerted_at,"                \
  " alert_pending, cand_version, alerted_version"

static int row_read(sqlite3_stmt *st, int findings, hud_arena *a, srv_issue_row *r) {
  memset(r, 0, sizeof *r);
  const unsigned char *id = sqlite3_column_text(st, 0);
  snprintf(r->issue_id, sizeof r->issue_id, "%s", id ? (const char *)id : "");
  r->kind = text(a, st, 1);
  r->function_id = text(a, st, 2);
  r->flow_id = text(a, st, 3);
  r->exception_type = text(a, st, 4);
  r->comparison = text(a, st, 5);
  r->status = text(a, st, 6);
  r->first_seen = sqlite3_column_int64(st, 7);
  r->last_seen = sqlite3_column_int64(st, 8);
  r->status_changed_at = sqlite3_column_int64(st, 9);
  r->times_reopened = sqlite3_column_int(st, 10);
  r->base_label = text(a, st, 11);
  r->cand_label = text(a, st, 12);
  r->payload = text(a, st, 13);
  r->found_since = sqlite3_column_int64(st, 14);
  r->alerted_at = sqlite3_column_int64(st, 15);
  r->alert_pending = text(a, st, 16);
  r->cand_version = text(a, st, 17);
  r->alerted_version = text(a, st, 18);
  if (findings && sqlite3_column_type(st, 19) == SQLITE_BLOB) {
    int n = sqlite3_column_bytes(st, 19);
    void *b = hud_arena_alloc(a, n > 0 ? (size_t)n : 1);
    if (!b) return HUD_ENOMEM;
    memcpy(b, sqlite3_column_blob(st, 19), (size_t)n);
    r->finding = b;
    r->finding_len = (size_t)n;
  }
  if (!r->kind || !r->status || !r->payload || !r->comparison) return HUD_ENOMEM;
  return 0;
}

int srv_issues_list(sqlite3 *db, int64_t sid, srv_issue_filter f, int limit, int findings, hud_arena *a,
                    srv_issue_row **rows, size_t *n) {
  *rows = NULL;
  *n = 0;
  sqlite3_stmt *st;
  int rc = prep(db,
                "SELECT " ROW_COLS ", CASE WHEN ?4 THEN finding END FROM issues WHERE service_id = ?1 AND"
                " (?2 = 'all' OR status = ?2 OR (?2 = 'active' AND status IN ('open', 'acknowledged')))"
                " ORDER BY last_seen DESC, kind, issue_id LIMIT ?3",
                &st);
  if (rc < 0) return rc;
  sqlite3_bind_int64(st, 1, sid);
  sqlite3_bind_text(st, 2, k_filters[f], -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 3, limit > 0 ? limit : -1);
  sqlite3_bind_int(st, 4, findings);
  size_t cap = 0;
  int s;
  while ((s = sqlite3_step(st)) == SQLITE_ROW) {
    if (*n == cap) {
      size_t nc = cap ? cap * 2 : 16;
      srv_issue_row *nr = hud_arena_calloc(a, nc, sizeof *nr);
      if (!nr) {
        rc = HUD_ENOMEM;
        break;
      }
      if (*n) memcpy(nr, *rows, *n * sizeof *nr);
      *rows = nr;
      cap = nc;
    }
    if ((rc = row_read(st, findings, a, &(*rows)[*n])) < 0) break;
    (*n)++;
  }
  if (rc == 0 && s != SQLITE_DONE) rc = HUD_ESTORE;
  sqlite3_finalize(st);
  return rc;
}

int srv_issues_get(sqlite3 *db, int64_t sid, const char *issue_id, hud_arena *a, srv_issue_row *out) {
  sqlite3_stmt *st;
  int rc = prep(db, "SELECT " ROW_COLS ", finding FROM issues WHERE service_id = ?1 AND issue_id = ?2", &st);
  if (rc < 0) return rc;
  sqlite3_bind_int64(st, 1, sid);
  sqlite3_bind_text(st, 2, issue_id, -1, SQLITE_STATIC);
  int s = sqlite3_step(st);
  rc = s == SQLITE_ROW ? row_read(st, 1, a, out) : s == SQLITE_DONE ? HUD_ENOTFOUND : HUD_ESTORE;
  sqlite3_finalize(st);
  return rc;
}

int srv_issues_events(sqlite3 *db, const char *issue_id, hud_arena *a, srv_issue_event_row **ev, size_t *n) {
  *ev = NULL;
  *n = 0;
  sqlite3_stmt *st;
  int rc = prep(db, "SELECT at, event, note FROM issue_events WHERE issue_id = ?1 ORDER BY id", &st);
  if (rc < 0) return rc;
  sqlite3_bind_text(st, 1, issue_id, -1, SQLITE_STATIC);
  size_t cap = 0;
  int s;
  while ((s = sqlite3_step(st)) == SQLITE_ROW) {
    if (*n == cap) {
      size_t nc = cap ? cap * 2 : 8;
      srv_issue_event_row *ne = hud_arena_calloc(a, nc, sizeof *ne);
      if (!ne) {
        rc = HUD_ENOMEM;
        break;
      }
      if (*n) memcpy(ne, *ev, *n * sizeof *ne);
      *ev = ne;
      cap = nc;
    }
    srv_issue_event_row *e = &(*ev)[(*n)++];
    e->at = sqlite3_column_int64(st, 0);
    e->event = text(a, st, 1);
    e->note = text(a, st, 2);
    if (!e->event) {
      rc = HUD_ENOMEM;
      break;
    }
  }
  if (rc == 0 && s != SQLITE_DONE) rc = HUD_ESTORE;
  sqlite3_finalize(st);
  return rc;
}

static void bind_opt(sqlite3_stmt *st, int i, const char *s) {
  if (s) sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
  else sqlite3_bind_null(st, i);
}

static int step_once(sqlite3 *db, sqlite3_stmt *st) {
  int s = sqlite3_step(st);
  if (s != SQLITE_DONE) fprintf(stderr, "hud-server: issues: %s\n", sqlite3_errmsg(db));
  sqlite3_finalize(st);
  return s == SQLITE_DONE ? 0 : HUD_ESTORE;
}

int srv_issues_put(sqlite3 *db, int64_t sid, const srv_issue_row *r) {
  sqlite3_stmt *st;
  int rc = prep(db,
                "INSERT OR REPLACE INTO issues (" ROW_COLS ", service_id, finding) VALUES"
                " (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21)",
                &st);
  if (rc < 0) return rc;
  sqlite3_bind_text(st, 1, r->issue_id, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, r->kind, -1, SQLITE_STATIC);
  bind_opt(st, 3, r->function_id);
  bind_opt(st, 4, r->flow_id);
  bind_opt(st, 5, r->exception_type);
  sqlite3_bind_text(st, 6, r->comparison, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 7, r->status, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 8, r->first_seen);
  sqlite3_bind_int64(st, 9, r->last_seen);
  sqlite3_bind_int64(st, 10, r->status_changed_at);
  sqlite3_bind_int(st, 11, r->times_reopened);
  bind_opt(st, 12, r->base_label);
  bind_opt(st, 13, r->cand_label);
  sqlite3_bind_text(st, 14, r->payload, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 15, r->found_since);
  sqlite3_bind_int64(st, 16, r->alerted_at);
  bind_opt(st, 17, r->alert_pending);
  bind_opt(st, 18, r->cand_version);
  bind_opt(st, 19, r->alerted_version);
  sqlite3_bind_int64(st, 20, sid);
  if (r->finding) sqlite3_bind_blob(st, 21, r->finding, (int)r->finding_len, SQLITE_STATIC);
  else sqlite3_bind_null(st, 21);
  return step_once(db, st);
}

int srv_issues_event_add(sqlite3 *db, const char *issue_id, int64_t at, const char *event, const char *note) {
  sqlite3_stmt *st;
  int rc = prep(db, "INSERT INTO issue_events (issue_id, at, event, note) VALUES (?1, ?2, ?3, ?4)", &st);
  if (rc < 0) return rc;
  sqlite3_bind_text(st, 1, issue_id, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 2, at);
  sqlite3_bind_text(st, 3, event, -1, SQLITE_STATIC);
  bind_opt(st, 4, note);
  return step_once(db, st);
}

int srv_issues_expire(sqlite3 *db, int64_t cutoff, uint64_t *n) {
  if (n) *n = 0;
  const char *expired = "status = 'resolved' AND MAX(last_seen, status_changed_at) < ?1";
  char sql[256];
  snprintf(sql, sizeof sql, "DELETE FROM issue_events WHERE issue_id IN (SELECT issue_id FROM issues WHERE %s)",
           expired);
  sqlite3_stmt *st;
  int rc = prep(db, sql, &st);
  if (rc < 0) return rc;
  sqlite3_bind_int64(st, 1, cutoff);
  if ((rc = step_once(db, st)) < 0) return rc;
  snprintf(sql, sizeof sql, "DELETE FROM issues WHERE %s", expired);
  if ((rc = prep(db, sql, &st)) < 0) return rc;
  sqlite3_bind_int64(st, 1, cutoff);
  if ((rc = step_once(db, st)) < 0) return rc;
  if (n) *n = (uint64_t)sqlite3_changes(db);
  return 0;
}

/* ---- the issue transaction of srv_store_issues_write (store.h) ---- */

typedef struct sqlite_issue_tx {
  const srv_issue_tx_ops *ops;
  sqlite3 *db;
} sqlite_issue_tx;

static int tx_get(srv_issue_tx *tx, int64_t sid, const char *issue_id, hud_arena *a, srv_issue_row *out) {
  return srv_issues_get(((sqlite_issue_tx *)tx)->db, sid, issue_id, a, out);
}

static int tx_put(srv_issue_tx *tx, int64_t sid, const srv_issue_row *r) {
  return srv_issues_put(((sqlite_issue_tx *)tx)->db, sid, r);
}

static int tx_event_add(srv_issue_tx *tx, const char *issue_id, int64_t at, const char *event, const char *note) {
  return srv_issues_event_add(((sqlite_issue_tx *)tx)->db, issue_id, at, event, note);
}

static const srv_issue_tx_ops k_tx_ops = {tx_get, tx_put, tx_event_add};

typedef struct tx_call {
  int (*fn)(srv_issue_tx *tx, void *arg);
  void *arg;
} tx_call;

static int tx_run(sqlite3 *db, void *arg) {
  tx_call *c = arg;
  sqlite_issue_tx tx = {&k_tx_ops, db};
  return c->fn((srv_issue_tx *)&tx, c->arg);
}

int srv_sqlite_issues_write(srv_store *st, int (*fn)(srv_issue_tx *tx, void *arg), void *arg) {
  tx_call c = {fn, arg};
  return srv_store_sqlite_write(st, tx_run, &c);
}
