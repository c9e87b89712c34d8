/* Issues: stored by the detection runner (issues_runner.c); these routes read them and change their
 * status. No route runs detection or writes anything but a status change (docs/detection.md,
 * "Issues"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hud/err.h"
#include "issues_store.h"
#include "query_internal.h"

/* The issue of ROW: its stored payload with the row's status fields (the runner writes the payload,
 * the status route only the row). */
static int q_issue_of_row(q_ctx *q, const srv_issue_row *row, hud_issue *out) {
  hud_issues_response one;
  hud_codec_error e;
  int rc = hud_issues_response_decode(row->payload, strlen(row->payload), NULL, q->arena, &one, &e);
  if (rc < 0 || one.n_issues != 1) {
    fprintf(stderr, "hud-server: issue %s: stored payload unreadable: %s\n", row->issue_id, rc < 0 ? e.message : "");
    return HUD_ESERVER;
  }
  *out = one.issues[0];
  out->status = row->status;
  out->detected_at = out->first_seen = row->first_seen;
  out->last_seen = row->last_seen;
  out->status_changed_at = row->status_changed_at;
  out->times_reopened = row->times_reopened;
  return 0;
}

static int q_history(q_ctx *q, hud_issue *h) {
  srv_issue_event_row *ev;
  size_t n;
  int rc = sq_issue_events(q, h->issue_id, &ev, &n);
  if (rc < 0) return rc;
  h->history = hud_arena_calloc(q->arena, n ? n : 1, sizeof *h->history);
  if (!h->history) return HUD_ENOMEM;
  for (size_t i = 0; i < n; i++) h->history[i] = (hud_issue_event){ev[i].at, ev[i].event, ev[i].note};
  h->n_history = n;
  return 0;
}

/* Issue routes read the stored rows: no hourly aggregates are built (that writes). A fresh read
 * still waits for the fold of what was acknowledged, as every route does ("Cache-Control:
 * no-cache"); the runner's pass that fold wakes comes later. */
static int q_begin_stored(const srv_request *req, srv_response *resp, srv_request *copy, q_ctx *q) {
  *copy = *req;
  int rc = q_begin(copy, resp, q);
  if (rc == 0) q->stored_only = true;
  return rc;
}

int q_h_issues(const srv_request *req, srv_response *resp) {
  srv_request rq;
  q_ctx q;
  int rc = q_begin_stored(req, resp, &rq, &q);
  if (rc < 0) return rc;
  hud_issues_request r;
  hud_codec_error e;
  rc = hud_issues_request_from_query(q.params, q.n_params, NULL, q.arena, &r, &e);
  if (rc < 0) return q_end(&q, q_fail_codec(&q, &e));
  if ((rc = q_scope(&q, &r.scope)) < 0) return q_end(&q, rc);
  srv_issue_filter f;
  if (srv_issue_filter_parse(r.status ? r.status : "active", &f) < 0)
    return q_end(&q, q_fail(&q, HUD_EFIELD, "status: expected active, open, acknowledged, muted, resolved or all"));
  int limit = r.limit > 0 ? r.limit : 100;
  srv_issue_row *rows;
  size_t n;
  /* Version and time filters apply after the read: a service has few issues. */
  bool filtered = r.scope.version || r.scope.from || r.scope.to;
  rc = sq_issues_list(&q, q.service_id, f, filtered ? 0 : limit, 0, &rows, &n);
  hud_issue *v = rc == 0 ? hud_arena_calloc(q.arena, n ? n : 1, sizeof *v) : NULL;
  if (rc == 0 && !v) rc = HUD_ENOMEM;
  size_t m = 0;
  for (size_t i = 0; rc == 0 && i < n && m < (size_t)limit; i++) {
    const srv_issue_row *row = &rows[i];
    if (r.scope.version && !((row->cand_label && strcmp(row->cand_label, r.scope.version) == 0) ||
                             (row->base_label && strcmp(row->base_label, r.scope.version) == 0)))
      continue;
    if ((rc = q_issue_of_row(&q, row, &v[m])) < 0) break;
    /* A window keeps the issues whose newer side's data overlaps it. */
    const hud_sample *cur = &v[m].current;
    if ((r.scope.from && cur->to <= r.scope.from) || (r.scope.to && cur->from >= r.scope.to)) continue;
    m++;
  }
  if (rc < 0) return q_end(&q, q_fail(&q, rc, "issues: %s", hud_strerror(rc)));
  hud_issues_response out = {m, v};
  return q_end(&q, Q_REPLY(&q, hud_issues_response_encode, &out));
}

/* Answers ISSUE_ID of Q's service with its history. */
static int q_reply_issue(q_ctx *q, const char *issue_id) {
  srv_issue_row row;
  int rc = sq_issue_get(q, q->service_id, issue_id, &row);
  if (rc == HUD_ENOTFOUND)
    return q_fail(q, rc, "issue %s not found in service '%s' of environment '%s'", issue_id, q->service, q->env);
  hud_issue h;
  if (rc == 0) rc = q_issue_of_row(q, &row, &h);
  if (rc == 0) rc = q_history(q, &h);
  if (rc < 0) return q_fail(q, rc, "issue: %s", hud_strerror(rc));
  return Q_REPLY(q, hud_issue_encode, &h);
}

int q_h_issue(const srv_request *req, srv_response *resp) {
  srv_request rq;
  q_ctx q;
  int rc = q_begin_stored(req, resp, &rq, &q);
  if (rc < 0) return rc;
  hud_issue_request r;
  hud_codec_error e;
  rc = hud_issue_request_from_query(srv_request_path_param(req, "id"), q.params, q.n_params, NULL, q.arena, &r, &e);
  if (rc < 0) return q_end(&q, q_fail_codec(&q, &e));
  if ((rc = q_scope(&q, &r.scope)) < 0) return q_end(&q, rc);
  return q_end(&q, q_reply_issue(&q, r.issue_id));
}

/* ---- POST /v1/issues/{id}/status ---- */

typedef struct q_status_change {
  int64_t sid;
  const char *issue_id, *status, *note;
  hud_time_ns now;
  hud_arena *arena;
  int found;
} q_status_change;

/* The event a person's change makes (NULL: no change). */
static const char *q_status_event(const char *from, const char *to) {
  if (strcmp(from, to) == 0) return NULL;
  if (strcmp(to, "acknowledged") == 0) return "acknowledged";
  if (strcmp(to, "muted") == 0) return "muted";
  if (strcmp(from, "muted") == 0) return "unmuted";
  if (strcmp(from, "resolved") == 0) return "reopened";
  return "updated"; /* acknowledged -> open */
}

static int q_status_apply(srv_issue_tx *tx, void *arg) {
  q_status_change *c = arg;
  srv_issue_row row;
  int rc = srv_issue_tx_get(tx, c->sid, c->issue_id, c->arena, &row);
  if (rc == HUD_ENOTFOUND) return 0; /* answered 404 after the (empty) transaction */
  if (rc < 0) return rc;
  c->found = 1;
  const char *event = q_status_event(row.status, c->status);
  if (!event) return 0;
  char note[600];
  const char *n = c->note;
  if (strcmp(event, "updated") == 0) {
    snprintf(note, sizeof note, "%s -> %s%s%s", row.status, c->status, c->note ? ": " : "", c->note ? c->note : "");
    n = note;
  }
  row.status = c->status;
  row.status_changed_at = c->now;
  if (strcmp(event, "reopened") == 0) row.times_reopened++;
  if ((rc = srv_issue_tx_put(tx, c->sid, &row)) < 0) return rc;
  return srv_issue_tx_event_add(tx, c->issue_id, c->now, event, n);
}

int q_h_issue_status(const srv_request *req, srv_response *resp) {
  srv_request rq;
  q_ctx q;
  int rc = q_begin_stored(req, resp, &rq, &q);
  if (rc < 0) return rc;
  hud_issue_status_request r;
  hud_codec_error e;
  rc = hud_issue_status_request_decode((const char *)req->body, req->body ? req->body_len : 0, NULL, q.arena, &r, &e);
  if (rc == 0)
    rc = hud_issue_status_request_from_query(srv_request_path_param(req, "id"), q.params, q.n_params, NULL, q.arena,
                                             &r, &e);
  if (rc < 0) return q_end(&q, q_fail_codec(&q, &e));
  if ((rc = q_scope(&q, &r.scope)) < 0) return q_end(&q, rc);
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  q_status_change c = {q.service_id, r.issue_id, r.status, r.note, (hud_time_ns)ts.tv_sec * 1000000000LL + ts.tv_nsec,
                       q.arena, 0};
  rc = srv_store_issues_write(req->store, q_status_apply, &c);
  if (rc < 0) return q_end(&q, q_fail(&q, rc, "issue status: %s", hud_strerror(rc)));
  return q_end(&q, q_reply_issue(&q, r.issue_id));
}
