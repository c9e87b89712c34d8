/* Shared plumbing of the query handlers (see query_internal.h). */
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hud/err.h"
#include "query_internal.h"
#include "store_hours.h"
#include "store.h"

#define Q_MMAP_SIZE "4294967296"

int q_begin(const srv_request *req, srv_response *resp, q_ctx *q) {
  memset(q, 0, sizeof *q);
  q->req = req;
  q->resp = resp;
  q->arena = hud_arena_new();
  if (!q->arena) return srv_response_error(resp, 500, "internal", "out of memory"), HUD_ENOMEM;
  q->params = hud_arena_calloc(q->arena, req->n_query ? req->n_query : 1, sizeof *q->params);
  if (!q->params) {
    hud_arena_free(q->arena);
    q->arena = NULL;
    return srv_response_error(resp, 500, "internal", "out of memory"), HUD_ENOMEM;
  }
  for (size_t i = 0; i < req->n_query; i++) {
    q->params[i].key = req->query[i].name;
    q->params[i].value = req->query[i].value;
  }
  q->n_params = req->n_query;
  int rc = req->fresh ? srv_store_sqlite_reader(req->store, &q->db) : srv_store_sqlite_reader_recent(req->store, &q->db);
  if (rc < 0) {
    q->db = NULL;
    hud_arena_free(q->arena);
    q->arena = NULL;
    srv_response_error(resp, rc == HUD_EBUSY ? 503 : 500, rc == HUD_EBUSY ? "unavailable" : "internal",
                       "store unavailable: %s", hud_strerror(rc));
    return rc;
  }
  /* Day-window queries read tens of MB of pages; with SQLite's default 2 MB cache each one comes
   * back through a pread (measured ~1/3 of a day-window top-N's CPU here). The same 64 MB as the
   * writer's cache keeps the hourly tables and recent minutes in the pool's connections; the
   * memory map (capped by SQLite's compile-time maximum, 2 GB on Debian) serves the rest. Both
   * are no-ops once set on a connection. */
  sqlite3_exec(q->db, "PRAGMA cache_size = -65536; PRAGMA mmap_size = " Q_MMAP_SIZE, NULL, NULL, NULL);
  return 0;
}

int q_end(q_ctx *q, int rc) {
  if (q->db && q->in_tx) sqlite3_exec(q->db, "COMMIT", NULL, NULL, NULL);
  q->in_tx = 0;
  if (q->db) srv_store_sqlite_reader_release(q->req->store, q->db);
  q->db = NULL;
  hud_arena_free(q->arena);
  q->arena = NULL;
  return rc < 0 && q->resp->err_code[0] ? 0 : rc;
}

static int q_status_of(int rc) {
  int s = hud_api_http_status(rc);
  return s >= 400 ? s : 500;
}

int q_fail_codec(q_ctx *q, const hud_codec_error *e) {
  int code = e->code < 0 ? e->code : HUD_EINVAL;
  srv_response_error(q->resp, q_status_of(code), hud_api_error_code(code), "%s", e->message);
  return 0;
}

int q_fail(q_ctx *q, int rc, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  srv_response_error(q->resp, q_status_of(rc), hud_api_error_code(rc), "%s", msg);
  return 0;
}

static hud_time_ns q_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (hud_time_ns)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Chooses the whole hours of the window that come from fn_hours: the request's reads run in one read
 * transaction in which no hour of [hour_from, hour_to) is dirty, or the split is dropped (exact
 * either way). Nothing is built here: the fold and maintenance build the hours (store_hours.h). */
static int q_hours(q_ctx *q) {
  int64_t h0 = (q->from_s + 3599) / 3600 * 3600, h1 = q->to_s / 3600 * 3600;
  q->hour_from = q->hour_to = q->blk_a = q->blk_b = q->from_s;
  if (q->stored_only) return 0; /* stored issues only: no split needed */
  /* HUD_SERVER_HOURLY=off reads minute slices only: the reference the exactness tests compare with. */
  const char *sw = getenv("HUD_SERVER_HOURLY");
  if (sw && strcmp(sw, "off") == 0) return 0;
  if (q->from_s < 0 || h1 <= h0) return 0;
  /* The completed 10-minute blocks of the partial hours at the edges. */
  int64_t b0 = (q->from_s + 599) / 600 * 600, b1 = q->to_s / 600 * 600;
  if (sqlite3_exec(q->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) return 0;
  q->in_tx = 1;
  int64_t dirty = 1;
  if (srv_hours_dirty_count(q->db, q->service_id, h0, h1, &dirty) == 0 && dirty == 0) {
    q->hour_from = q->blk_a = h0;
    q->hour_to = q->blk_b = h1;
    int64_t da = 1, db = 1;
    if (srv_blocks_dirty_count(q->db, q->service_id, b0, h0, &da) == 0 && da == 0 &&
        srv_blocks_dirty_count(q->db, q->service_id, h1, b1, &db) == 0 && db == 0) {
      q->blk_a = b0;
      q->blk_b = b1;
    }
  }
  return 0;
}

int q_scope(q_ctx *q, const hud_query_scope *s) {
  const srv_request *req = q->req;
  const char *env = s->environment;
  if (!env) {
    if (req->n_envs != 1) {
      q_fail(q, HUD_EFIELD, "environment: required, this key sees %zu environments", req->n_envs);
      return HUD_EFIELD;
    }
    env = req->envs[0];
  } else if (!srv_request_env_allowed(req, env)) {
    q_fail(q, HUD_EFORBIDDEN, "environment: '%s' is not visible to this key", env);
    return HUD_EFORBIDDEN;
  }
  q->env = env;
  if (!s->service || !*s->service) {
    q_fail(q, HUD_EFIELD, "service: required");
    return HUD_EFIELD;
  }
  q->service = s->service;
  int rc = sq_service_id(q, env, s->service, &q->service_id);
  if (rc == HUD_ENOTFOUND) {
    q_fail(q, HUD_ENOTFOUND, "service '%s' has no data in environment '%s'", s->service, env);
    return rc;
  }
  if (rc < 0) {
    q_fail(q, rc, "store: %s", hud_strerror(rc));
    return rc;
  }
  if (s->version) {
    int64_t fs, ls;
    rc = sq_version(q, q->service_id, s->version, &q->version_id, &fs, &ls);
    if (rc == HUD_ENOTFOUND) {
      q_fail(q, HUD_ENOTFOUND, "version '%s' of service '%s' is unknown", s->version, s->service);
      return rc;
    }
    if (rc < 0) {
      q_fail(q, rc, "store: %s", hud_strerror(rc));
      return rc;
    }
    q->version = s->version;
  }
  q->to = s->to ? s->to : q_now_ns();
  q->from = s->from ? s->from : q->to - Q_DEFAULT_WINDOW_NS;
  if (q->from >= q->to) {
    q_fail(q, HUD_ERANGE, "from: must be before to");
    return HUD_ERANGE;
  }
  q->from_s = q->from / 1000000000LL;
  q->to_s = (q->to + 999999999LL) / 1000000000LL;
  return q_hours(q);
}
