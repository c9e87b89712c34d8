/* The store engines, listed once, and the srv_store_* calls routed to the handle's engine (store.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hud/err.h"
#include "store.h"
#include "store_reads.h"

extern const srv_store_ops srv_store_sqlite_ops;
extern const srv_store_ops srv_store_ch_ops;

static const srv_store_ops *const k_engines[] = {&srv_store_sqlite_ops, &srv_store_ch_ops};

/* Every engine's store and read handle begin with their ops. */
typedef struct handle_head {
  const srv_store_ops *ops;
} handle_head;

static const srv_store_ops *ops_of(const void *h) { return ((const handle_head *)h)->ops; }

static const srv_store_ops *engine_for(const char *location) {
  for (size_t i = 0; location && i < sizeof k_engines / sizeof *k_engines; i++)
    if (k_engines[i]->accepts(location)) return k_engines[i];
  return NULL;
}

int srv_store_open(const srv_store_options *opt, srv_store **out) {
  const srv_store_ops *e = engine_for(opt->path);
  if (!e) {
    fprintf(stderr, "hud-server: store: no engine for '%s'\n", opt->path ? opt->path : "");
    return HUD_EUNSUPPORTED;
  }
  return e->open(opt, out);
}

int srv_store_open_keys(const char *path, srv_store **out) {
  const srv_store_ops *e = engine_for(path);
  return e ? e->open_keys(path, out) : HUD_EUNSUPPORTED;
}

void srv_store_free(srv_store *st) {
  if (st) ops_of(st)->free(st);
}

int srv_store_ping(srv_store *st) { return ops_of(st)->ping(st); }

int srv_store_ingest(srv_store *st, const char *env, const struct hud_batch *batch, int64_t now,
                     srv_ingest_result *result) {
  return ops_of(st)->ingest(st, env, batch, now, result);
}

int srv_store_batch_known(srv_store *st, const char *batch_id) { return ops_of(st)->batch_known(st, batch_id); }

struct srv_membudget *srv_store_decode_budget(srv_store *st) { return ops_of(st)->decode_budget(st); }

void srv_store_on_fold(srv_store *st, void (*fn)(void *arg, const int64_t *service_ids, size_t n), void *arg) {
  ops_of(st)->on_fold(st, fn, arg);
}

int srv_store_key_insert(srv_store *st, const unsigned char hash[32], const char *envs, const char *roles,
                         const char *label, int64_t now, int64_t *id) {
  return ops_of(st)->key_insert(st, hash, envs, roles, label, now, id);
}

int srv_store_key_get(srv_store *st, int64_t id, srv_key_info *info, unsigned char hash[32]) {
  return ops_of(st)->key_get(st, id, info, hash);
}

int srv_store_key_list(srv_store *st, int (*fn)(const srv_key_info *k, void *arg), void *arg) {
  return ops_of(st)->key_list(st, fn, arg);
}

int srv_store_key_revoke(srv_store *st, int64_t id, int64_t now) { return ops_of(st)->key_revoke(st, id, now); }

int srv_store_disk_full(srv_store *st) { return ops_of(st)->disk_full(st); }

int srv_store_maintain(srv_store *st, int64_t now, srv_maintain_result *res) {
  return ops_of(st)->maintain(st, now, res);
}

int srv_store_issues_write(srv_store *st, int (*fn)(srv_issue_tx *tx, void *arg), void *arg) {
  return ops_of(st)->issues_write(st, fn, arg);
}

/* An issue transaction begins with its ops. */
typedef struct tx_head {
  const srv_issue_tx_ops *ops;
} tx_head;

static const srv_issue_tx_ops *tx_ops(srv_issue_tx *tx) { return ((tx_head *)tx)->ops; }

int srv_issue_tx_get(srv_issue_tx *tx, int64_t sid, const char *issue_id, struct hud_arena *a,
                     struct srv_issue_row *out) {
  return tx_ops(tx)->get(tx, sid, issue_id, a, out);
}

int srv_issue_tx_put(srv_issue_tx *tx, int64_t sid, const struct srv_issue_row *r) {
  return tx_ops(tx)->put(tx, sid, r);
}

int srv_issue_tx_event_add(srv_issue_tx *tx, const char *issue_id, int64_t at, const char *event, const char *note) {
  return tx_ops(tx)->event_add(tx, issue_id, at, event, note);
}

int srv_store_read_begin(srv_store *st, int fresh, struct hud_arena *arena, srv_store_read **out) {
  return ops_of(st)->read_begin(st, fresh, arena, out);
}

int srv_store_read_window(srv_store_read *rd, int64_t service_id, int64_t version_id, int64_t from_s, int64_t to_s,
                          int aggregates) {
  return ops_of(rd)->read_window(rd, service_id, version_id, from_s, to_s, aggregates);
}

void srv_store_read_snapshot_end(srv_store_read *rd) {
  if (rd) ops_of(rd)->read_snapshot_end(rd);
}

void srv_store_read_end(srv_store_read *rd) {
  if (rd) ops_of(rd)->read_end(rd);
}

const struct srv_store_reads *srv_store_read_ops(const srv_store_read *rd) { return ops_of(rd)->reads; }

int srv_exc_path_ids(hud_arena *a, const char *path, int64_t **ids, size_t *n) {
  size_t cap = 1;
  for (const char *p = path; *p; p++) cap += *p == ' ';
  *n = 0;
  if (!(*ids = hud_arena_calloc(a, cap, sizeof **ids))) return HUD_ENOMEM;
  for (const char *p = path; *p && *n < cap;) {
    char *end;
    long long v = strtoll(p, &end, 10);
    if (end == p) break;
    (*ids)[(*n)++] = v;
    p = end;
    while (*p == ' ') p++;
  }
  return 0;
}
