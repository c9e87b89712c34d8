/* The SQLite engine's typed reads (store_reads.h: srv_store_sqlite_reads) against the schema of
 * server/store.h, on a read handle (store_sqlite_read.h; named q here). They sum rows over the
 * handle's window; what the sums mean is the query side's (query_figures.h), whose accumulators the
 * summary reads fill. Everything returned lives in the handle's arena. */
#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hud/err.h"
#include "hud/stats.h"
#include "query_figures.h"
#include "store_reads.h"
#include "sat.h"
#include "store.h"
#include "store_hours.h"
#include "store_sqlite_read.h"

/* ---- small helpers ---- */

static int sq_prep(srv_store_read *q, const char *sql, sqlite3_stmt **st) {
  if (sqlite3_prepare_v2(q->db, sql, -1, st, NULL) != SQLITE_OK) {
    fprintf(stderr, "hud-server: query prepare failed: %s\n", sqlite3_errmsg(q->db));
    *st = NULL;
    return HUD_ESTORE;
  }
  return 0;
}

static const char *sq_text(srv_store_read *q, sqlite3_stmt *st, int col) {
  const unsigned char *t = sqlite3_column_text(st, col);
  return t ? hud_arena_strdup(q->arena, (const char *)t) : NULL;
}

static void sq_uuid(sqlite3_stmt *st, int col, hud_uuid out) {
  const unsigned char *t = sqlite3_column_text(st, col);
  out[0] = '\0';
  if (t) snprintf(out, sizeof(hud_uuid), "%s", (const char *)t);
}

static hud_time_ns sq_ns(int64_t s) { return s * 1000000000LL; }

/* Column COL's sketch blob copied into the arena (NULL: no values). */
static int sq_blob(srv_store_read *q, sqlite3_stmt *st, int col, srv_sketch_ref *out) {
  const void *b = sqlite3_column_blob(st, col);
  int n = sqlite3_column_bytes(st, col);
  out->blob = NULL;
  out->len = 0;
  if (!b || n <= 0) return 0;
  unsigned char *c = hud_arena_alloc(q->arena, (size_t)n);
  if (!c) return HUD_ENOMEM;
  memcpy(c, b, (size_t)n);
  out->blob = c;
  out->len = (size_t)n;
  return 0;
}

/* Window and version binding shared by the sliced-table queries: ?1 service, ?2 from, ?3 to, ?4 version. */
static void sq_bind_scope(srv_store_read *q, sqlite3_stmt *st) {
  sqlite3_bind_int64(st, 1, q->service_id);
  sqlite3_bind_int64(st, 2, q->from_s);
  sqlite3_bind_int64(st, 3, q->to_s);
  sqlite3_bind_int64(st, 4, q->version_id);
}

#define SQ_SCOPE " service_id = ?1 AND slice >= ?2 AND slice < ?3 AND (?4 = 0 OR version_id = ?4) "
/* The same for queries by function (or caller): the unary + keeps SQLite from preferring the primary
 * key's (service_id, slice) range over the (fn, slice) index, which reads a handful of rows. */
#define SQ_SCOPE_BY_FN " +service_id = ?1 AND slice >= ?2 AND slice < ?3 AND (?4 = 0 OR version_id = ?4) "

/* The two partial-hour edges of the window (q_ctx.hour_from/hour_to): ?10 = hour_from, ?11 = hour_to.
 * With no whole hours both equal from_s, so EDGE_A is empty and EDGE_B the whole window. */
#define SQ_EDGE_A " service_id = ?1 AND slice >= ?2 AND slice < ?10 AND (?4 = 0 OR version_id = ?4) "
#define SQ_EDGE_B " service_id = ?1 AND slice >= ?11 AND slice < ?3 AND (?4 = 0 OR version_id = ?4) "
#define SQ_EDGE_A_BY_FN " +service_id = ?1 AND slice >= ?2 AND slice < ?10 AND (?4 = 0 OR version_id = ?4) "
#define SQ_EDGE_B_BY_FN " +service_id = ?1 AND slice >= ?11 AND slice < ?3 AND (?4 = 0 OR version_id = ?4) "
/* Whole hours from fn_hours: version_id 0 holds all versions, so "= ?4" is the scope's filter. */
#define SQ_HOURS " service_id = ?1 AND hour >= ?10 AND hour < ?11 AND version_id = ?4 "
#define SQ_HOURS_BY_FN " +service_id = ?1 AND hour >= ?10 AND hour < ?11 "
#define SQ_TREND_COLS " dn, du, duu, dy, duy, en, eu, euu, ey, euy "
/* The all-functions scan's minute edges when the 10-minute blocks [?12, ?10) and [?11, ?13) come
 * from fn_blocks (q_ctx.blk_a/blk_b). */
#define SQ_MIN_A " service_id = ?1 AND slice >= ?2 AND slice < ?12 AND (?4 = 0 OR version_id = ?4) "
#define SQ_MIN_B " service_id = ?1 AND slice >= ?13 AND slice < ?3 AND (?4 = 0 OR version_id = ?4) "
#define SQ_MIN_A_BY_FN " +service_id = ?1 AND slice >= ?2 AND slice < ?12 AND (?4 = 0 OR version_id = ?4) "
#define SQ_MIN_B_BY_FN " +service_id = ?1 AND slice >= ?13 AND slice < ?3 AND (?4 = 0 OR version_id = ?4) "
#define SQ_BLOCKS_A " block >= ?12 AND block < ?10 "
#define SQ_BLOCKS_B " block >= ?11 AND block < ?13 "

static void sq_bind_split(srv_store_read *q, sqlite3_stmt *st) {
  sqlite3_bind_int64(st, 10, q->hour_from);
  sqlite3_bind_int64(st, 11, q->hour_to);
}

/* int64 -> index map. */
typedef struct sq_map {
  int64_t *keys;
  uint32_t *vals; /* index + 1 */
  size_t cap;
} sq_map;

static uint64_t sq_mix(int64_t k) {
  uint64_t h = (uint64_t)k * 0x9E3779B97F4A7C15ull;
  return h ^ (h >> 31);
}

static int sq_map_init(sq_map *m, size_t n) {
  size_t cap = 64;
  while (cap < 2 * n + 2) cap *= 2;
  m->keys = calloc(cap, sizeof *m->keys);
  m->vals = calloc(cap, sizeof *m->vals);
  m->cap = cap;
  return m->keys && m->vals ? 0 : HUD_ENOMEM;
}

static void sq_map_free(sq_map *m) {
  free(m->keys);
  free(m->vals);
  memset(m, 0, sizeof *m);
}

/* Index of K or -1. */
static long sq_map_get(const sq_map *m, int64_t k) {
  size_t j = sq_mix(k) & (m->cap - 1);
  while (m->vals[j]) {
    if (m->keys[j] == k) return (long)m->vals[j] - 1;
    j = (j + 1) & (m->cap - 1);
  }
  return -1;
}

/* Sets K -> V (the caller grows the map before it is half full). */
static void sq_map_put(sq_map *m, int64_t k, size_t v) {
  size_t j = sq_mix(k) & (m->cap - 1);
  while (m->vals[j] && m->keys[j] != k) j = (j + 1) & (m->cap - 1);
  m->keys[j] = k;
  m->vals[j] = (uint32_t)(v + 1);
}

static int sq_map_grow(sq_map *m) {
  sq_map n;
  if (sq_map_init(&n, m->cap) < 0) {
    sq_map_free(&n);
    return HUD_ENOMEM;
  }
  for (size_t j = 0; j < m->cap; j++)
    if (m->vals[j]) sq_map_put(&n, m->keys[j], m->vals[j] - 1);
  sq_map_free(m);
  *m = n;
  return 0;
}

/* ---- services, versions ---- */

static int sq_service_id(srv_store_read *q, const char *env, const char *name, int64_t *id) {
  sqlite3_stmt *st;
  int rc = sq_prep(q, "SELECT id FROM services WHERE env = ?1 AND name = ?2", &st);
  if (rc < 0) return rc;
  sqlite3_bind_text(st, 1, env, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
  int s = sqlite3_step(st);
  if (s == SQLITE_ROW) *id = sqlite3_column_int64(st, 0);
  rc = s == SQLITE_ROW ? 0 : s == SQLITE_DONE ? HUD_ENOTFOUND : HUD_ESTORE;
  sqlite3_finalize(st);
  return rc;
}

static int sq_version(srv_store_read *q, int64_t service_id, const char *version, int64_t *id, int64_t *first_seen,
               int64_t *last_seen) {
  sqlite3_stmt *st;
  int rc = sq_prep(q, "SELECT id, first_seen, last_seen FROM versions WHERE service_id = ?1 AND version = ?2", &st);
  if (rc < 0) return rc;
  sqlite3_bind_int64(st, 1, service_id);
  sqlite3_bind_text(st, 2, version, -1, SQLITE_STATIC);
  int s = sqlite3_step(st);
  if (s == SQLITE_ROW) {
    *id = sqlite3_column_int64(st, 0);
    *first_seen = sqlite3_column_int64(st, 1);
    *last_seen = sqlite3_column_int64(st, 2);
  }
  rc = s == SQLITE_ROW ? 0 : s == SQLITE_DONE ? HUD_ENOTFOUND : HUD_ESTORE;
  sqlite3_finalize(st);
  return rc;
}

static int sq_version_row(srv_store_read *q, const char *sql, int64_t a, int64_t b, int64_t *id, const char **name,
                          int64_t *first_seen, int64_t *last_seen) {
  sqlite3_stmt *st;
  int rc = sq_prep(q, sql, &st);
  if (rc < 0) return rc;
  sqlite3_bind_int64(st, 1, a);
  sqlite3_bind_int64(st, 2, b);
  int s = sqlite3_step(st);
  if (s == SQLITE_ROW) {
    *id = sqlite3_column_int64(st, 0);
    *name = sq_text(q, st, 1);
    *first_seen = sqlite3_column_int64(st, 2);
    *last_seen = sqlite3_column_int64(st, 3);
  }
  rc = s == SQLITE_ROW ? 0 : s == SQLITE_DONE ? HUD_ENOTFOUND : HUD_ESTORE;
  sqlite3_finalize(st);
  return rc;
}

static int sq_previous_version(srv_store_read *q, int64_t service_id, int64_t version_id, int64_t *prev_id, const char **name,
                        int64_t *first_seen, int64_t *last_seen) {
  return sq_version_row(q,
                        "SELECT v.id, v.version, v.first_seen, v.last_seen FROM versions v, versions c"
                        " WHERE c.id = ?2 AND v.service_id = ?1 AND v.id != c.id AND"
                        " (v.first_seen < c.first_seen OR (v.first_seen = c.first_seen AND v.id < c.id))"
                        " ORDER BY v.first_seen DESC, v.id DESC LIMIT 1",
                        service_id, version_id, prev_id, name, first_seen, last_seen);
}

static int sq_latest_version(srv_store_read *q, int64_t service_id, int64_t *id, const char **name, int64_t *first_seen,
                      int64_t *last_seen) {
  return sq_version_row(q,
                        "SELECT id, version, first_seen, last_seen FROM versions WHERE service_id = ?1 AND ?2 = ?2"
                        " ORDER BY first_seen DESC, id DESC LIMIT 1",
                        service_id, 0, id, name, first_seen, last_seen);
}

static int sq_services(srv_store_read *q, const char *service_filter, int (*env_allowed)(void *arg, const char *env),
                void *arg, size_t max_envs, hud_services_response *out) {
  memset(out, 0, sizeof *out);
  sqlite3_stmt *st, *vs;
  int rc = sq_prep(q, "SELECT id, env, name, first_seen, last_seen FROM services ORDER BY name, env", &st);
  if (rc < 0) return rc;
  rc = sq_prep(q, "SELECT version, first_seen, last_seen FROM versions WHERE service_id = ?1"
                  " ORDER BY first_seen DESC, id DESC", &vs);
  if (rc < 0) {
    sqlite3_finalize(st);
    return rc;
  }
  size_t cap = 0;
  int s;
  while ((s = sqlite3_step(st)) == SQLITE_ROW && rc == 0) {
    const char *env = (const char *)sqlite3_column_text(st, 1);
    const char *name = (const char *)sqlite3_column_text(st, 2);
    if (!env || !name || !env_allowed(arg, env)) continue;
    if (service_filter && strcmp(service_filter, name) != 0) continue;
    hud_service_info *svc = out->n_services ? &out->services[out->n_services - 1] : NULL;
    if (!svc || strcmp(svc->name, name) != 0) {
      if (out->n_services == cap) {
        size_t nc = cap ? cap * 2 : 8;
        hud_service_info *nv = hud_arena_calloc(q->arena, nc, sizeof *nv);
        if (!nv) {
          rc = HUD_ENOMEM;
          break;
        }
        if (out->n_services) memcpy(nv, out->services, out->n_services * sizeof *nv);
        out->services = nv;
        cap = nc;
      }
      svc = &out->services[out->n_services++];
      svc->name = hud_arena_strdup(q->arena, name);
      svc->environments = hud_arena_calloc(q->arena, max_envs, sizeof *svc->environments);
      if (!svc->name || !svc->environments) {
        rc = HUD_ENOMEM;
        break;
      }
    }
    if (svc->n_environments >= max_envs) continue;
    hud_environment_info *e = &svc->environments[svc->n_environments++];
    e->name = hud_arena_strdup(q->arena, env);
    e->first_seen = sq_ns(sqlite3_column_int64(st, 3));
    e->last_seen = sq_ns(sqlite3_column_int64(st, 4));
    if (svc->n_environments == 1 || e->first_seen < svc->first_seen) svc->first_seen = e->first_seen;
    if (e->last_seen > svc->last_seen) svc->last_seen = e->last_seen;
    sqlite3_reset(vs);
    sqlite3_bind_int64(vs, 1, sqlite3_column_int64(st, 0));
    size_t vcap = 0;
    while (sqlite3_step(vs) == SQLITE_ROW) {
      if (e->n_versions == vcap) {
        size_t nc = vcap ? vcap * 2 : 8;
        hud_version_info *nv = hud_arena_calloc(q->arena, nc, sizeof *nv);
        if (!nv) {
          rc = HUD_ENOMEM;
          break;
        }
        if (e->n_versions) memcpy(nv, e->versions, e->n_versions * sizeof *nv);
        e->versions = nv;
        vcap = nc;
      }
      hud_version_info *v = &e->versions[e->n_versions++];
      v->version = sq_text(q, vs, 0);
      v->first_seen = sq_ns(sqlite3_column_int64(vs, 1));
      v->last_seen = sq_ns(sqlite3_column_int64(vs, 2));
    }
  }
  if (rc == 0 && s != SQLITE_DONE && s != SQLITE_ROW) rc = HUD_ESTORE;
  sqlite3_finalize(st);
  sqlite3_finalize(vs);
  return rc;
}

/* ---- ids ---- */

static int sq_id_of(srv_store_read *q, const char *sql, const char *uuid, int64_t *id) {
  sqlite3_stmt *st;
  int rc = sq_prep(q, sql, &st);
  if (rc < 0) return rc;
  sqlite3_bind_int64(st, 1, q->service_id);
  sqlite3_bind_text(st, 2, uuid, -1, SQLITE_STATIC);
  int s = sqlite3_step(st);
  if (s == SQLITE_ROW) *id = sqlite3_column_int64(st, 0);
  rc = s == SQLITE_ROW ? 0 : s == SQLITE_DONE ? HUD_ENOTFOUND : HUD_ESTORE;
  sqlite3_finalize(st);
  return rc;
}

static int sq_fn_id(srv_store_read *q, const char *uuid, int64_t *fn) {
  return sq_id_of(q, "SELECT id FROM functions WHERE service_id = ?1 AND function_id = ?2", uuid, fn);
}

static int sq_flow_id(srv_store_read *q, const char *uuid, int64_t *flow) {
  return sq_id_of(q, "SELECT id FROM flows WHERE service_id = ?1 AND flow_id = ?2", uuid, flow);
}

static int sq_fns_of_modules(srv_store_read *q, const char *const *paths, size_t n, int64_t **fns, size_t *n_fns) {
  sqlite3_stmt *st;
  int rc = sq_prep(q, "SELECT id FROM functions WHERE service_id = ?1 AND module_path = ?2 ORDER BY start_line, id", &st);
  if (rc < 0) return rc;
  size_t cap = 64, cnt = 0;
  int64_t *v = hud_arena_calloc(q->arena, cap, sizeof *v);
  if (!v) rc = HUD_ENOMEM;
  for (size_t i = 0; i < n && rc == 0; i++) {
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, q->service_id);
    sqlite3_bind_text(st, 2, paths[i], -1, SQLITE_STATIC);
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
      if (cnt == cap) {
        int64_t *nv = hud_arena_calloc(q->arena, cap * 2, sizeof *nv);
        if (!nv) {
          rc = HUD_ENOMEM;
          break;
        }
        memcpy(nv, v, cnt * sizeof *nv);
        v = nv;
        cap *= 2;
      }
      v[cnt++] = sqlite3_column_int64(st, 0);
    }
    if (rc == 0 && s != SQLITE_DONE) rc = HUD_ESTORE;
  }
  sqlite3_finalize(st);
  *fns = v;
  *n_fns = cnt;
  return rc;
}

static int sq_fn_declared_in(srv_store_read *q, int64_t fn) {
  sqlite3_stmt *st;
  int rc = sq_prep(q, "SELECT 1 FROM functions WHERE id = ?1 AND name IS NOT NULL AND first_seen < ?3 AND last_seen >= ?2",
                   &st);
  if (rc < 0) return rc;
  sqlite3_bind_int64(st, 1, fn);
  sqlite3_bind_int64(st, 2, q->from_s);
  sqlite3_bind_int64(st, 3, q->to_s);
  int s = sqlite3_step(st);
  rc = s == SQLITE_ROW ? 1 : s == SQLITE_DONE ? 0 : HUD_ESTORE;
  sqlite3_finalize(st);
  return rc;
}

/* ---- merged sketches ---- */

/* Merged sketches are srv_bins_acc (sketch_bins.h): bins add, what hud_sketch_agg does, without a
 * SQL GROUP BY (a sort of every blob). */
typedef srv_bins_acc sq_bins;

/* Bins a fresh accumulator takes for its first N bins (srv_acc_cover's headroom). */
static size_t sq_bins_first(size_t n) { return n + 2 * (n / 2 + 4); }

/* ---- function summaries ---- */

/* Columns 1..7 of a function row (slice or span start, count, errors, sampled_count, sum_duration,
 * sum_squared_duration, self_duration) as a typed row. */
static void sq_fn_row_at(sqlite3_stmt *st, int64_t fn, srv_fn_row *r) {
  r->fn = fn;
  r->version_id = 0;
  r->slice = sqlite3_column_int64(st, 1);
  r->count = sqlite3_column_int64(st, 2);
  r->errors = sqlite3_column_int64(st, 3);
  r->sampled = sqlite3_column_int64(st, 4);
  r->sum = sqlite3_column_double(st, 5);
  r->sumsq = sqlite3_column_double(st, 6);
  r->self = sqlite3_column_double(st, 7);
}

static void sq_trend_part_at(sqlite3_stmt *st, int t, srv_trend_part *p) {
  p->n = sqlite3_column_int64(st, t);
  p->u = sqlite3_column_double(st, t + 1);
  p->uu = sqlite3_column_double(st, t + 2);
  p->y = sqlite3_column_double(st, t + 3);
  p->uy = sqlite3_column_double(st, t + 4);
}

/* An fn_hours / fn_blocks row: figures in columns 1..7, trend sums from column T (T < 0: none). */
static void sq_acc_hour(q_fig *a, sqlite3_stmt *st, int t, int64_t from_s) {
  srv_fn_row r;
  srv_trend_part d, e;
  sq_fn_row_at(st, a->fn, &r);
  if (t >= 0) {
    sq_trend_part_at(st, t, &d);
    sq_trend_part_at(st, t + 5, &e);
  }
  q_fig_add_span(a, &r, t >= 0 ? &d : NULL, t >= 0 ? &e : NULL, from_s);
}

static int sq_acc_row(q_fig *a, sqlite3_stmt *st, bool points) {
  srv_fn_row r;
  sq_fn_row_at(st, a->fn, &r);
  return q_fig_add(a, &r, points);
}

typedef q_fig sq_acc;

/* Index *I of function FN's accumulator, added (zeroed) when new. */
static int sq_acc_of(sq_map *map, sq_acc **acc, size_t *n_acc, size_t *cap_acc, int64_t fn, long *i) {
  *i = sq_map_get(map, fn);
  if (*i >= 0) return 0;
  if ((*n_acc + 1) * 2 > map->cap && sq_map_grow(map) < 0) return HUD_ENOMEM;
  if (*n_acc == *cap_acc) {
    size_t nc = *cap_acc ? *cap_acc * 2 : 256;
    sq_acc *na = realloc(*acc, nc * sizeof *na);
    if (!na) return HUD_ENOMEM;
    *acc = na;
    *cap_acc = nc;
  }
  memset(&(*acc)[*n_acc], 0, sizeof **acc);
  (*acc)[*n_acc].fn = fn;
  sq_map_put(map, fn, *n_acc);
  *i = (long)(*n_acc)++;
  return 0;
}

/* Merged fn_hours sketches per function over whole hours [hour_from, hour_to) of one service and
 * version row (?4), for the p95 sort: decoding ~24 sketches per function is most of that query, and
 * the answer only changes when the window's hours move (hourly) or an hour is rebuilt (hours_gen
 * changes, see store_hours.h). One entry, the last window asked; ~functions * bins * 8 bytes. */
typedef struct sq_hours_cache {
  int64_t service_id, flow, version_id, hour_from, hour_to, gen; /* flow 0: fn_hours, else flow_fn_hours */
  sq_map map; /* fn -> index in bins */
  int64_t *fns;
  sq_bins *bins;
  size_t n;
} sq_hours_cache;

/* What a store's queries keep between requests (one per store: srv_sqlite_qcache_of): the merged
 * hours above, and one warm block of bins (the p95 sort needs a few MB of counts per request, and
 * fresh memory costs a page fault per 4 KB, measured ~1/5 of that query). */
struct srv_sqlite_qcache {
  pthread_mutex_t lock; /* hc */
  sq_hours_cache hc;
  pthread_mutex_t slab_lock; /* slab (taken while lock is held: never the other way round) */
  uint64_t *slab;
  size_t slab_n;
};

static void sq_hours_cache_clear(sq_hours_cache *c);

srv_sqlite_qcache *srv_sqlite_qcache_new(void) {
  srv_sqlite_qcache *c = calloc(1, sizeof *c);
  if (c) {
    pthread_mutex_init(&c->lock, NULL);
    pthread_mutex_init(&c->slab_lock, NULL);
  }
  return c;
}

void srv_sqlite_qcache_free(srv_sqlite_qcache *c) {
  if (!c) return;
  sq_hours_cache_clear(&c->hc);
  free(c->slab);
  pthread_mutex_destroy(&c->lock);
  pthread_mutex_destroy(&c->slab_lock);
  free(c);
}

static uint64_t *sq_slab_take(srv_sqlite_qcache *c, size_t n) {
  uint64_t *b = NULL;
  pthread_mutex_lock(&c->slab_lock);
  if (c->slab && c->slab_n >= n) {
    b = c->slab;
    c->slab = NULL;
  }
  pthread_mutex_unlock(&c->slab_lock);
  if (!b) b = malloc(n * sizeof *b);
  return b;
}

static void sq_slab_give(srv_sqlite_qcache *c, uint64_t *b, size_t n) {
  if (!b) return;
  pthread_mutex_lock(&c->slab_lock);
  if (!c->slab || c->slab_n < n) {
    uint64_t *old = c->slab;
    c->slab = b;
    c->slab_n = n;
    b = old;
  }
  pthread_mutex_unlock(&c->slab_lock);
  free(b);
}

static void sq_hours_cache_clear(sq_hours_cache *c) {
  for (size_t i = 0; i < c->n; i++) free(c->bins[i].counts);
  free(c->bins);
  free(c->fns);
  sq_map_free(&c->map);
  memset(c, 0, sizeof *c);
}

/* Adds to ACC[i].sketch the merged fn_hours sketches of function ACC[i].fn over Q's whole hours:
 * from the cache when its key and generation (read in Q's read transaction) match, else decoded
 * from fn_hours and then cached. */
/* Before the row passes: when the cache holds Q's hours (key and generation), starts an
 * accumulator per cached function with its merged hours (*SEEDED = true), so that the edges'
 * sketches then mostly land in bins already allocated. */
static int sq_hours_seed(srv_store_read *q, int64_t flow, sq_map *map, sq_acc **acc, size_t *n_acc, size_t *cap_acc, int64_t *gen,
                         bool *seeded, uint64_t **slab, size_t *slab_n) {
  *seeded = false;
  int rc = srv_hours_generation(q->db, q->service_id, gen);
  if (rc < 0) return rc;
  srv_sqlite_qcache *qc = srv_sqlite_qcache_of(q->st);
  sq_hours_cache *hc = &qc->hc;
  pthread_mutex_lock(&qc->lock);
  if (hc->bins && hc->service_id == q->service_id &&
      hc->flow == flow && hc->version_id == q->version_id && hc->hour_from == q->hour_from && hc->hour_to == q->hour_to &&
      hc->gen == *gen) {
    size_t total = 0;
    for (size_t k = 0; k < hc->n; k++)
      if (hc->bins[k].set) total += sq_bins_first(hc->bins[k].n);
    *slab_n = total;
    *slab = sq_slab_take(qc, total ? total : 1);
    if (!*slab) rc = HUD_ENOMEM;
    for (size_t k = 0, at = 0; k < hc->n && rc == 0; k++) {
      /* Only functions with hour sketches: they have fn_hours rows, so the hours pass lists them
       * anyway; one seen only in the edges of an earlier request must not appear with no calls. */
      if (!hc->bins[k].set) continue;
      long i;
      if ((rc = sq_acc_of(map, acc, n_acc, cap_acc, hc->fns[k], &i)) < 0) break;
      sq_bins *b = &(*acc)[i].sketch;
      if (!b->counts) {
        b->counts = *slab + at;
        b->cap = sq_bins_first(hc->bins[k].n);
        b->borrowed = 1;
        at += b->cap;
      }
      if (srv_acc_merge(b, &hc->bins[k]) < 0) rc = HUD_ESTORE;
    }
    *seeded = rc == 0;
  }
  pthread_mutex_unlock(&qc->lock);
  return rc;
}

/* After the row passes, when not seeded: decodes the hours' sketches into ACC and caches them. */
static int sq_hours_sketches(srv_store_read *q, int64_t flow, const sq_map *map, sq_acc *acc, size_t n_acc, int64_t gen) {
  int rc = 0;
  sq_hours_cache c = {.service_id = q->service_id, .flow = flow, .version_id = q->version_id,
                      .hour_from = q->hour_from, .hour_to = q->hour_to, .gen = gen, .n = n_acc};
  c.bins = calloc(n_acc ? n_acc : 1, sizeof *c.bins);
  c.fns = calloc(n_acc ? n_acc : 1, sizeof *c.fns);
  rc = c.bins && c.fns ? sq_map_init(&c.map, n_acc) : HUD_ENOMEM;
  for (size_t i = 0; i < n_acc && rc == 0; i++) {
    sq_map_put(&c.map, acc[i].fn, i);
    c.fns[i] = acc[i].fn;
  }
  sqlite3_stmt *st = NULL;
  if (rc == 0)
    rc = sq_prep(q,
                 flow ? "SELECT fn, sketch FROM flow_fn_hours WHERE service_id = ?1 AND flow = ?6 AND version_id = ?4"
                        " AND hour >= ?10 AND hour < ?11"
                      : "SELECT fn, sketch FROM fn_hours WHERE" SQ_HOURS,
                 &st);
  if (rc == 0) {
    sq_bind_scope(q, st);
    sq_bind_split(q, st);
    if (flow) sqlite3_bind_int64(st, 6, flow);
    int s;
    while (rc == 0 && (s = sqlite3_step(st)) == SQLITE_ROW) {
      long i = sq_map_get(map, sqlite3_column_int64(st, 0));
      if (i < 0 || sqlite3_column_type(st, 1) == SQLITE_NULL) continue;
      if (srv_acc_add_blob(&c.bins[i], sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1)) < 0)
        rc = HUD_ESTORE;
    }
    if (rc == 0 && s != SQLITE_DONE) rc = HUD_ESTORE;
  }
  sqlite3_finalize(st);
  for (size_t i = 0; i < n_acc && rc == 0; i++)
    if (srv_acc_merge(&acc[i].sketch, &c.bins[i]) < 0) rc = HUD_ESTORE;
  if (rc < 0) {
    sq_hours_cache_clear(&c);
    return rc;
  }
  srv_sqlite_qcache *qc = srv_sqlite_qcache_of(q->st);
  pthread_mutex_lock(&qc->lock);
  sq_hours_cache_clear(&qc->hc);
  qc->hc = c;
  pthread_mutex_unlock(&qc->lock);
  return 0;
}

static int sq_fn_summaries(srv_store_read *q, const srv_fn_filter *f, hud_function_summary **items, int64_t **fns_out,
                           size_t *n, srv_version_sums **vs_out) {
  *items = NULL;
  *fns_out = NULL;
  *n = 0;
  *vs_out = NULL;
  const char *sql_all =
      "SELECT fn, slice, count, errors, sampled_count, sum_duration, sum_squared_duration, self_duration"
      " FROM fn_slices WHERE" SQ_MIN_A " UNION ALL"
      " SELECT fn, slice, count, errors, sampled_count, sum_duration, sum_squared_duration, self_duration"
      " FROM fn_slices WHERE" SQ_MIN_B;
  const char *sql_fn =
      "SELECT fn, slice, count, errors, sampled_count, sum_duration, sum_squared_duration, self_duration"
      " FROM fn_slices WHERE fn = ?5 AND" SQ_EDGE_A_BY_FN " UNION ALL"
      " SELECT fn, slice, count, errors, sampled_count, sum_duration, sum_squared_duration, self_duration"
      " FROM fn_slices WHERE fn = ?5 AND" SQ_EDGE_B_BY_FN " ORDER BY slice";
  const char *sql_hours_all =
      "SELECT fn, hour, count, errors, sampled_count, sum_duration, sum_squared_duration, self_duration,"
      SQ_TREND_COLS " FROM fn_hours WHERE" SQ_HOURS;
  const char *sql_hours_fn =
      "SELECT fn, hour, count, errors, sampled_count, sum_duration, sum_squared_duration, self_duration,"
      SQ_TREND_COLS " FROM fn_hours WHERE fn = ?5 AND" SQ_HOURS_BY_FN " AND version_id = ?4";
  /* In a flow: the partial hours from calls, the whole hours from flow_fn_hours (its version rows
   * as fn_hours'); given functions: by the calls_fn and flow_fn_hours_fn indexes, in slice order
   * (a slice's rows of one function make one point). */
  const char *sql_flow =
      "SELECT fn, slice, count, errors, sampled_count, sum_duration, sum_squared_duration, self_duration"
      " FROM calls WHERE flow = ?6 AND" SQ_MIN_A " UNION ALL"
      " SELECT fn, slice, count, errors, sampled_count, sum_duration, sum_squared_duration, self_duration"
      " FROM calls WHERE flow = ?6 AND" SQ_MIN_B;
  const char *sql_flow_fn =
      "SELECT fn, slice, count, errors, sampled_count, sum_duration, sum_squared_duration, self_duration"
      " FROM calls WHERE fn = ?5 AND flow = ?6 AND" SQ_EDGE_A_BY_FN " UNION ALL"
      " SELECT fn, slice, count, errors, sampled_count, sum_duration, sum_squared_duration, self_duration"
      " FROM calls WHERE fn = ?5 AND flow = ?6 AND" SQ_EDGE_B_BY_FN " ORDER BY slice";
  const char *sql_flow_hours =
      "SELECT fn, hour, count, errors, sampled_count, sum_duration, sum_squared_duration, self_duration,"
      SQ_TREND_COLS " FROM flow_fn_hours WHERE service_id = ?1 AND flow = ?6 AND version_id = ?4"
      " AND hour >= ?10 AND hour < ?11";
  const char *sql_flow_hours_fn =
      "SELECT fn, hour, count, errors, sampled_count, sum_duration, sum_squared_duration, self_duration,"
      SQ_TREND_COLS " FROM flow_fn_hours WHERE fn = ?5 AND flow = ?6 AND" SQ_HOURS_BY_FN " AND version_id = ?4";
  /* Sorting by p95: the edges with their sketches (column 8); the hours' merged sketches come from
   * sq_hours_sketches (cached). */
  /* Two statements rather than a UNION ALL, which copies every sketch blob once more. */
  const char *sql_a_p95 =
      "SELECT fn, slice, count, errors, sampled_count, sum_duration, sum_squared_duration, self_duration, sketch"
      " FROM fn_slices WHERE" SQ_MIN_A;
  const char *sql_b_p95 =
      "SELECT fn, slice, count, errors, sampled_count, sum_duration, sum_squared_duration, self_duration, sketch"
      " FROM fn_slices WHERE" SQ_MIN_B;
  const char *sql_flow_a_p95 =
      "SELECT fn, slice, count, errors, sampled_count, sum_duration, sum_squared_duration, self_duration, sketch"
      " FROM calls WHERE flow = ?6 AND" SQ_MIN_A;
  const char *sql_flow_b_p95 =
      "SELECT fn, slice, count, errors, sampled_count, sum_duration, sum_squared_duration, self_duration, sketch"
      " FROM calls WHERE flow = ?6 AND" SQ_MIN_B;
  bool p95 = f->p95 && !f->fns;
  /* Slowdown in the same pass: every function, all versions read (no version in the scope). */
  bool slow = f->versions.prev && !f->flow && !f->fns && !q->version_id;
  int64_t cur_v = f->versions.cur, prev = f->versions.prev;
  const char *sql_all_v =
      "SELECT fn, slice, count, errors, sampled_count, sum_duration, sum_squared_duration, self_duration,"
      " version_id FROM fn_slices WHERE" SQ_MIN_A " UNION ALL"
      " SELECT fn, slice, count, errors, sampled_count, sum_duration, sum_squared_duration, self_duration,"
      " version_id FROM fn_slices WHERE" SQ_MIN_B;
  /* Whole hours: fn_hours; in a flow flow_fn_hours. */
  bool use_hours = q->hour_to > q->hour_from;
  /* 10-minute blocks of the edges (every function only): columns as the hours', sketch at 18. */
  bool use_blocks = use_hours && !f->fns && (q->blk_a < q->hour_from || q->blk_b > q->hour_to);
  const char *sql_blocks =
      p95 ? "SELECT fn, block, count, errors, sampled_count, sum_duration, sum_squared_duration, self_duration,"
            SQ_TREND_COLS ", sketch FROM fn_blocks WHERE service_id = ?1 AND version_id = ?4 AND" SQ_BLOCKS_A
            " UNION ALL SELECT fn, block, count, errors, sampled_count, sum_duration, sum_squared_duration,"
            " self_duration," SQ_TREND_COLS ", sketch FROM fn_blocks WHERE service_id = ?1 AND version_id = ?4 AND"
            SQ_BLOCKS_B
          : "SELECT fn, block, count, errors, sampled_count, sum_duration, sum_squared_duration, self_duration,"
            SQ_TREND_COLS " FROM fn_blocks WHERE service_id = ?1 AND version_id = ?4 AND" SQ_BLOCKS_A
            " UNION ALL SELECT fn, block, count, errors, sampled_count, sum_duration, sum_squared_duration,"
            " self_duration," SQ_TREND_COLS " FROM fn_blocks WHERE service_id = ?1 AND version_id = ?4 AND"
            SQ_BLOCKS_B;
  const char *sql_flow_blocks =
      p95 ? "SELECT fn, block, count, errors, sampled_count, sum_duration, sum_squared_duration, self_duration,"
            SQ_TREND_COLS ", sketch FROM flow_fn_blocks WHERE service_id = ?1 AND flow = ?6 AND version_id = ?4 AND"
            SQ_BLOCKS_A " UNION ALL SELECT fn, block, count, errors, sampled_count, sum_duration,"
            " sum_squared_duration, self_duration," SQ_TREND_COLS ", sketch FROM flow_fn_blocks WHERE"
            " service_id = ?1 AND flow = ?6 AND version_id = ?4 AND" SQ_BLOCKS_B
          : "SELECT fn, block, count, errors, sampled_count, sum_duration, sum_squared_duration, self_duration,"
            SQ_TREND_COLS " FROM flow_fn_blocks WHERE service_id = ?1 AND flow = ?6 AND version_id = ?4 AND"
            SQ_BLOCKS_A " UNION ALL SELECT fn, block, count, errors, sampled_count, sum_duration,"
            " sum_squared_duration, self_duration," SQ_TREND_COLS " FROM flow_fn_blocks WHERE"
            " service_id = ?1 AND flow = ?6 AND version_id = ?4 AND" SQ_BLOCKS_B;
  /* The split bound to ?10/?11; without hours both are from_s: EDGE_A empty, EDGE_B the window. */
  int64_t split_from = use_hours ? q->hour_from : q->from_s, split_to = use_hours ? q->hour_to : q->from_s;
  sqlite3_stmt *st, *st_b = NULL;
  int rc = sq_prep(q,
                   f->flow ? (f->fns ? sql_flow_fn : p95 ? sql_flow_a_p95 : sql_flow)
                   : f->fns ? sql_fn
                   : p95    ? sql_a_p95
                   : slow   ? sql_all_v
                            : sql_all,
                   &st);
  if (rc < 0) return rc;
  if (p95 && (rc = sq_prep(q, f->flow ? sql_flow_b_p95 : sql_b_p95, &st_b)) < 0) {
    sqlite3_finalize(st);
    return rc;
  }
  sq_map map = {0};
  sq_acc *acc = NULL;
  size_t n_acc = 0, cap_acc = 0;
  rc = sq_map_init(&map, f->fns ? f->n_fns : 256);
  size_t rounds = f->fns ? f->n_fns : 1;
  /* Edges (or the whole window) from fn_slices first, then the whole hours from fn_hours. */
  sqlite3_stmt *hst = NULL;
  if (rc == 0 && use_hours)
    rc = sq_prep(q,
                 f->flow ? (f->fns ? sql_flow_hours_fn : sql_flow_hours)
                 : f->fns ? sql_hours_fn
                          : sql_hours_all,
                 &hst);
  int64_t gen = 0;
  bool seeded = false;
  uint64_t *slab = NULL; /* the accumulators' bins when seeded (sq_slab_give at the end) */
  size_t slab_n = 0;
  if (rc == 0 && p95 && use_hours)
    rc = sq_hours_seed(q, f->flow, &map, &acc, &n_acc, &cap_acc, &gen, &seeded, &slab, &slab_n);
  sqlite3_stmt *bst = NULL;
  if (rc == 0 && use_blocks) rc = sq_prep(q, f->flow ? sql_flow_blocks : sql_blocks, &bst);
  /* Slowdown: the two versions' fn_hours (and fn_blocks) rows of the whole hours (and blocks). */
  sqlite3_stmt *vst = NULL, *vbst = NULL;
  if (rc == 0 && slow && use_hours)
    rc = sq_prep(q,
                 "SELECT fn, version_id, sampled_count, sum_duration FROM fn_hours WHERE service_id = ?1"
                 " AND version_id IN (?6, ?7) AND hour >= ?10 AND hour < ?11",
                 &vst);
  if (rc == 0 && slow && use_blocks)
    rc = sq_prep(q,
                 /* Two ranges (an OR of them scans every block of the versions). */
                 "SELECT fn, version_id, sampled_count, sum_duration FROM fn_blocks WHERE service_id = ?1"
                 " AND version_id IN (?6, ?7) AND" SQ_BLOCKS_A " UNION ALL SELECT fn, version_id, sampled_count,"
                 " sum_duration FROM fn_blocks WHERE service_id = ?1 AND version_id IN (?6, ?7) AND" SQ_BLOCKS_B,
                 &vbst);
  /* Edges: minutes of fn_slices (edge B separately when p95), blocks, then the hours. */
  int64_t blk_a = use_blocks ? q->blk_a : split_from, blk_b = use_blocks ? q->blk_b : split_to;
  sqlite3_stmt *passes[4];
  size_t n_passes = 0;
  passes[n_passes++] = st;
  if (st_b) passes[n_passes++] = st_b;
  size_t hours_pass = n_passes;
  if (use_hours) passes[n_passes++] = hst;
  size_t blocks_pass = n_passes;
  if (bst) passes[n_passes++] = bst;
  for (size_t ps = 0; ps < n_passes && rc == 0; ps++) {
    bool pass = ps == hours_pass || ps == blocks_pass;
    for (size_t r = 0; r < rounds && rc == 0; r++) {
      sqlite3_stmt *cur = passes[ps];
      sqlite3_reset(cur);
      sq_bind_scope(q, cur);
      sqlite3_bind_int64(cur, 10, split_from);
      sqlite3_bind_int64(cur, 11, split_to);
      sqlite3_bind_int64(cur, 12, blk_a);
      sqlite3_bind_int64(cur, 13, blk_b);
      sqlite3_bind_int64(cur, 5, f->fns ? f->fns[r] : 0);
      if (f->flow) sqlite3_bind_int64(cur, 6, f->flow);
      int s;
      while ((s = sqlite3_step(cur)) == SQLITE_ROW) {
        long i;
        if ((rc = sq_acc_of(&map, &acc, &n_acc, &cap_acc, sqlite3_column_int64(cur, 0), &i)) < 0) break;
        if (pass) sq_acc_hour(&acc[i], cur, f->no_trends ? -1 : 8, q->from_s);
        else if ((rc = sq_acc_row(&acc[i], cur, !f->no_trends)) < 0) break;
        if (slow && !pass) {
          int64_t ver = sqlite3_column_int64(cur, 8);
          if (ver == cur_v || ver == prev)
            q_fig_add_version(&acc[i], ver == cur_v, sqlite3_column_int64(cur, 4), sqlite3_column_int64(cur, 5));
        }
        /* A bad or mixed-alpha blob fails the query, as hud_sketch_agg does. */
        int kc = ps == blocks_pass ? 18 : 8; /* the blocks' sketch column; hours: from the cache */
        if (p95 && (!pass || ps == blocks_pass) && sqlite3_column_type(cur, kc) != SQLITE_NULL &&
            srv_acc_add_blob(&acc[i].sketch, sqlite3_column_blob(cur, kc), (size_t)sqlite3_column_bytes(cur, kc)) < 0) {
          rc = HUD_ESTORE;
          break;
        }
      }
      if (rc == 0 && s != SQLITE_DONE) rc = HUD_ESTORE;
    }
  }
  sqlite3_stmt *vpasses[2] = {vst, vbst};
  for (int vp = 0; vp < 2 && rc == 0; vp++) {
    sqlite3_stmt *v = vpasses[vp];
    if (!v) continue;
    sq_bind_scope(q, v);
    sqlite3_bind_int64(v, 10, split_from);
    sqlite3_bind_int64(v, 11, split_to);
    sqlite3_bind_int64(v, 12, blk_a);
    sqlite3_bind_int64(v, 13, blk_b);
    sqlite3_bind_int64(v, 6, cur_v);
    sqlite3_bind_int64(v, 7, prev);
    int s;
    while ((s = sqlite3_step(v)) == SQLITE_ROW) {
      long i = sq_map_get(&map, sqlite3_column_int64(v, 0));
      if (i < 0) continue;
      q_fig_add_version(&acc[i], sqlite3_column_int64(v, 1) == cur_v, sqlite3_column_int64(v, 2),
                        sqlite3_column_int64(v, 3));
    }
    if (s != SQLITE_DONE) rc = HUD_ESTORE;
  }
  sqlite3_finalize(vst);
  sqlite3_finalize(vbst);
  sqlite3_finalize(bst);
  sqlite3_finalize(st);
  sqlite3_finalize(st_b);
  sqlite3_finalize(hst);
  if (rc == 0 && p95 && use_hours && !seeded) rc = sq_hours_sketches(q, f->flow, &map, acc, n_acc, gen);
  if (rc == 0 && n_acc) {
    *items = hud_arena_calloc(q->arena, n_acc, sizeof **items);
    *fns_out = hud_arena_calloc(q->arena, n_acc, sizeof **fns_out);
    if (!*items || !*fns_out) rc = HUD_ENOMEM;
    if (rc == 0 && slow && !(*vs_out = hud_arena_calloc(q->arena, n_acc, sizeof **vs_out))) rc = HUD_ENOMEM;
  }
  for (size_t i = 0; i < n_acc && rc == 0; i++) {
    hud_function_summary *it = &(*items)[i];
    const sq_acc *a = &acc[i];
    (*fns_out)[i] = a->fn;
    q_fig_summary(a, q->from_s, it);
    double v;
    bool have;
    static const double q95 = 0.95;
    if (p95 && (rc = srv_acc_quantiles(&acc[i].sketch, &q95, 1, &v, &have)) == 0 && have) it->p95 = v;
    if (slow) q_fig_version_sums(a, &(*vs_out)[i]);
  }
  if (rc == 0) *n = n_acc;
  for (size_t i = 0; i < n_acc; i++) q_fig_free(&acc[i]);
  sq_slab_give(srv_sqlite_qcache_of(q->st), slab, slab_n);
  free(acc);
  sq_map_free(&map);
  return rc;
}

static int sq_fn_page(srv_store_read *q, const int64_t *fns, size_t n, srv_version_pair versions,
                      hud_function_summary *items, srv_version_sums *vs) {
  int64_t cur = versions.cur, prev = versions.prev;
  int rc;
  sqlite3_stmt *st;
  /* Every version is read (?4 bound to 0) so that the previous one is there for the slowdown; the
   * scope's version filter is applied below. */
  rc = sq_prep(q,
               "SELECT version_id, slice, count, errors, sampled_count, sum_duration, sum_squared_duration,"
               " self_duration, sketch FROM fn_slices WHERE fn = ?5 AND" SQ_EDGE_A_BY_FN " UNION ALL"
               " SELECT version_id, slice, count, errors, sampled_count, sum_duration, sum_squared_duration,"
               " self_duration, sketch FROM fn_slices WHERE fn = ?5 AND" SQ_EDGE_B_BY_FN " ORDER BY slice",
               &st);
  if (rc < 0) return rc;
  /* Whole hours: the scope's row (version ?4, 0 = all) and the current/previous versions' rows for
   * the slowdown (?6, ?7; -1 when there is no previous version). */
  sqlite3_stmt *hst = NULL;
  bool use_hours = q->hour_to > q->hour_from;
  if (use_hours &&
      (rc = sq_prep(q,
                    "SELECT version_id, hour, count, errors, sampled_count, sum_duration, sum_squared_duration,"
                    " self_duration, sketch," SQ_TREND_COLS " FROM fn_hours WHERE fn = ?5 AND" SQ_HOURS_BY_FN
                    " AND version_id IN (?4, ?6, ?7)",
                    &hst)) < 0) {
    sqlite3_finalize(st);
    return rc;
  }
  for (size_t i = 0; i < n && rc == 0; i++) {
    sq_acc a = {.fn = fns[i]};
    sqlite3_reset(st);
    sq_bind_scope(q, st);
    sq_bind_split(q, st);
    sqlite3_bind_int64(st, 4, 0);
    sqlite3_bind_int64(st, 5, fns[i]);
    int s;
    for (int pass = 0; pass < (use_hours ? 2 : 1) && rc == 0; pass++) {
      sqlite3_stmt *cur_st = st;
      if (pass) {
        cur_st = hst;
        sqlite3_reset(hst);
        sq_bind_scope(q, hst);
        sq_bind_split(q, hst);
        sqlite3_bind_int64(hst, 5, fns[i]);
        sqlite3_bind_int64(hst, 6, prev ? cur : -1);
        sqlite3_bind_int64(hst, 7, prev ? prev : -1);
      }
      while ((s = sqlite3_step(cur_st)) == SQLITE_ROW) {
        int64_t ver = sqlite3_column_int64(cur_st, 0);
        /* fn_hours' version 0 row is the all-versions total, not a version. */
        if (prev && (ver == cur || ver == prev) && !(pass && ver == 0))
          q_fig_add_version(&a, ver == cur, sqlite3_column_int64(cur_st, 4), sqlite3_column_int64(cur_st, 5));
        if (pass ? ver != q->version_id : (q->version_id && ver != q->version_id)) continue;
        if (pass) sq_acc_hour(&a, cur_st, 9, q->from_s);
        else if ((rc = sq_acc_row(&a, cur_st, true)) < 0) break;
        const void *blob = sqlite3_column_blob(cur_st, 8);
        int len = sqlite3_column_bytes(cur_st, 8);
        if (blob && len > 0 && srv_acc_add_blob(&a.sketch, blob, (size_t)len) < 0) {
          rc = HUD_ESTORE; /* a bad or mixed-alpha blob fails the query, as hud_sketch_agg does */
          break;
        }
      }
      if (rc == 0 && s != SQLITE_DONE) rc = HUD_ESTORE;
    }
    hud_function_summary *it = &items[i];
    q_fig_summary(&a, q->from_s, it);
    if (rc == 0) rc = q_fig_percentiles(&a.sketch, it);
    q_fig_version_sums(&a, &vs[i]);
    q_fig_free(&a);
  }
  sqlite3_finalize(st);
  sqlite3_finalize(hst);
  return rc;
}

static int sq_fn_meta(srv_store_read *q, int64_t fn, hud_function_summary *it) {
  sqlite3_stmt *st;
  int rc = sq_prep(q,
                   "SELECT function_id, name, module_path, file, start_line, end_line, is_async, source_code_hash"
                   " FROM functions WHERE id = ?1",
                   &st);
  if (rc < 0) return rc;
  sqlite3_bind_int64(st, 1, fn);
  if (sqlite3_step(st) == SQLITE_ROW) {
    sq_uuid(st, 0, it->function_id);
    it->name = sq_text(q, st, 1);
    it->module_path = sq_text(q, st, 2);
    it->file = sq_text(q, st, 3);
    it->start_line = sqlite3_column_int(st, 4);
    it->end_line = sqlite3_column_int(st, 5);
    it->is_async = sqlite3_column_int(st, 6) != 0;
    const unsigned char *h = sqlite3_column_text(st, 7);
    it->source_code_hash[0] = '\0';
    if (h && strlen((const char *)h) == HUD_SHA1_HEXLEN) memcpy(it->source_code_hash, h, HUD_SHA1_HEXLEN + 1);
  } else {
    rc = HUD_ENOTFOUND;
  }
  sqlite3_finalize(st);
  return rc;
}

static int sq_fn_sketch(srv_store_read *q, int64_t fn, int64_t flow, srv_sketch_ref *out) {
  out->blob = NULL;
  out->len = 0;
  sqlite3_stmt *st;
  int rc = sq_prep(q,
                   /* In a flow: minutes, 10-minute blocks and hours (the split of the top-N scan). */
                   flow ? "SELECT hud_sketch_agg(sketch) FROM"
                          " (SELECT sketch FROM calls WHERE fn = ?5 AND flow = ?6 AND" SQ_MIN_A_BY_FN
                          " UNION ALL SELECT sketch FROM calls WHERE fn = ?5 AND flow = ?6 AND" SQ_MIN_B_BY_FN
                          " UNION ALL SELECT sketch FROM flow_fn_blocks WHERE fn = ?5 AND flow = ?6 AND" SQ_BLOCKS_A
                          " AND +service_id = ?1 AND version_id = ?4"
                          " UNION ALL SELECT sketch FROM flow_fn_blocks WHERE fn = ?5 AND flow = ?6 AND" SQ_BLOCKS_B
                          " AND +service_id = ?1 AND version_id = ?4"
                          " UNION ALL SELECT sketch FROM flow_fn_hours WHERE fn = ?5 AND flow = ?6 AND" SQ_HOURS_BY_FN
                          " AND version_id = ?4)"
                        : "SELECT hud_sketch_agg(sketch) FROM"
                          " (SELECT sketch FROM fn_slices WHERE fn = ?5 AND" SQ_EDGE_A_BY_FN
                          " UNION ALL SELECT sketch FROM fn_slices WHERE fn = ?5 AND" SQ_EDGE_B_BY_FN
                          " UNION ALL SELECT sketch FROM fn_hours WHERE fn = ?5 AND" SQ_HOURS_BY_FN
                          " AND version_id = ?4)",
                   &st);
  if (rc < 0) return rc;
  sq_bind_scope(q, st);
  sq_bind_split(q, st);
  sqlite3_bind_int64(st, 5, fn);
  if (flow) {
    sqlite3_bind_int64(st, 6, flow);
    sqlite3_bind_int64(st, 12, q->hour_to > q->hour_from ? q->blk_a : q->hour_from);
    sqlite3_bind_int64(st, 13, q->hour_to > q->hour_from ? q->blk_b : q->hour_to);
  }
  int s = sqlite3_step(st);
  if (s == SQLITE_ROW) {
    rc = sq_blob(q, st, 0, out);
  } else if (s != SQLITE_DONE) {
    rc = HUD_ESTORE;
  }
  sqlite3_finalize(st);
  return rc;
}

static int sq_fn_version_sums(srv_store_read *q, const int64_t *fns, size_t n, srv_version_pair versions,
                              srv_version_sums *out) {
  int64_t cur = versions.cur, prev = versions.prev;
  int rc = 0;
  memset(out, 0, n * sizeof *out);
  if (!prev) return 0;
  /* Both versions over the query window: a deployment inside the window compares its two sides.
   * A few functions (a top-N page, one file): indexed lookups per function; many: two scans. */
  if (n <= 64) {
    sqlite3_stmt *st;
    /* fn_hours' version 0 rows (all versions) never match: versions.id starts at 1. */
    rc = sq_prep(q,
                 "SELECT v, hud_sum(n), hud_sum(d) FROM (SELECT version_id AS v, sampled_count AS n, sum_duration AS d"
                 " FROM fn_slices WHERE fn = ?5 AND +service_id = ?1 AND slice >= ?2 AND slice < ?10"
                 " AND version_id IN (?6, ?7) UNION ALL SELECT version_id, sampled_count, sum_duration FROM fn_slices"
                 " WHERE fn = ?5 AND +service_id = ?1 AND slice >= ?11 AND slice < ?3 AND version_id IN (?6, ?7)"
                 " UNION ALL SELECT version_id, sampled_count, sum_duration FROM fn_hours WHERE fn = ?5 AND"
                 SQ_HOURS_BY_FN " AND version_id IN (?6, ?7)) GROUP BY v",
                 &st);
    for (size_t i = 0; i < n && rc == 0; i++) {
      sqlite3_reset(st);
      sq_bind_scope(q, st);
      sq_bind_split(q, st);
      sqlite3_bind_int64(st, 5, fns[i]);
      sqlite3_bind_int64(st, 6, cur);
      sqlite3_bind_int64(st, 7, prev);
      while (sqlite3_step(st) == SQLITE_ROW) {
        int k = sqlite3_column_int64(st, 0) == cur;
        out[i].n[k] = sqlite3_column_int64(st, 1);
        out[i].sum[k] = sqlite3_column_int64(st, 2);
      }
    }
    sqlite3_finalize(st);
    return rc;
  }
  /* Many functions: one pass over the window's rows of both versions (edges from fn_slices, whole
   * hours from fn_hours' version rows), summed in memory: no SQL GROUP BY. */
  sq_map map = {0};
  int64_t *cnt = calloc(2 * (n ? n : 1), sizeof *cnt), *sum = calloc(2 * (n ? n : 1), sizeof *sum);
  rc = cnt && sum ? sq_map_init(&map, n) : HUD_ENOMEM;
  for (size_t i = 0; i < n && rc == 0; i++) sq_map_put(&map, fns[i], i);
  sqlite3_stmt *st = NULL;
  if (rc == 0)
    rc = sq_prep(q,
                 "SELECT fn, version_id, sampled_count, sum_duration FROM fn_slices WHERE service_id = ?1"
                 " AND slice >= ?2 AND slice < ?10 AND version_id IN (?6, ?7) UNION ALL"
                 " SELECT fn, version_id, sampled_count, sum_duration FROM fn_slices WHERE service_id = ?1"
                 " AND slice >= ?11 AND slice < ?3 AND version_id IN (?6, ?7) UNION ALL"
                 " SELECT fn, version_id, sampled_count, sum_duration FROM fn_hours WHERE service_id = ?1"
                 " AND version_id IN (?6, ?7) AND hour >= ?10 AND hour < ?11",
                 &st);
  if (rc == 0) {
    sq_bind_scope(q, st);
    sq_bind_split(q, st);
    sqlite3_bind_int64(st, 6, cur);
    sqlite3_bind_int64(st, 7, prev);
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
      long i = sq_map_get(&map, sqlite3_column_int64(st, 0));
      if (i < 0) continue;
      size_t k = 2 * (size_t)i + (sqlite3_column_int64(st, 1) == cur);
      cnt[k] = srv_sat_add(cnt[k], sqlite3_column_int64(st, 2));
      sum[k] = srv_sat_add(sum[k], sqlite3_column_int64(st, 3));
    }
    if (s != SQLITE_DONE) rc = HUD_ESTORE;
  }
  for (size_t i = 0; i < n && rc == 0; i++)
    for (int k = 0; k < 2; k++) {
      out[i].n[k] = cnt[2 * i + (size_t)k];
      out[i].sum[k] = sum[2 * i + (size_t)k];
    }
  sqlite3_finalize(st);
  sq_map_free(&map);
  free(cnt);
  free(sum);
  return rc;
}

/* ---- one function ---- */

/* Grows an arena array *V of *CAP elements of SIZE when *N == *CAP. */
static int sq_grow(srv_store_read *q, void **v, size_t *cap, size_t n, size_t size) {
  if (n < *cap) return 0;
  size_t nc = *cap ? *cap * 2 : 16;
  void *nv = hud_arena_calloc(q->arena, nc, size);
  if (!nv) return HUD_ENOMEM;
  if (n) memcpy(nv, *v, n * size);
  *v = nv;
  *cap = nc;
  return 0;
}

/* Call edges of the window by function or by caller (?5): the partial-hour edges from calls, the
 * whole hours from call_hours (store_hours.h), never both for one hour. Columns: fn, caller,
 * caller_module, call_line, flow, version_id, count, sampled_count, sum_duration, sum_squared_duration,
 * self_duration, errors. BY is "fn" or "caller". */
#define SQ_EDGE_COLS \
  " fn, caller, caller_module, call_line, flow, version_id, count, sampled_count, sum_duration," \
  " sum_squared_duration, self_duration, errors "
#define SQ_CALL_ROWS(by)                                                                               \
  "(SELECT" SQ_EDGE_COLS "FROM calls WHERE " by " = ?5 AND" SQ_EDGE_A_BY_FN " UNION ALL"            \
  " SELECT" SQ_EDGE_COLS "FROM calls WHERE " by " = ?5 AND" SQ_EDGE_B_BY_FN " UNION ALL"             \
  " SELECT" SQ_EDGE_COLS "FROM call_hours WHERE " by " = ?5 AND" SQ_HOURS_BY_FN                      \
  " AND (?4 = 0 OR version_id = ?4))"

static int sq_peers(srv_store_read *q, int64_t fn, bool callers, srv_peer_row **out, size_t *n_out) {
  /* Ties in calls follow the source (store_reads.h), then uuids, so that the order depends on
   * neither the plan nor the engine's ids. */
  const char *sql_callers =
      "SELECT f.function_id, f.name, COALESCE(f.module_path, NULLIF(c.caller_module, '')), c.call_line,"
      " hud_sum(c.count), hud_sum(c.errors), hud_sum(c.sampled_count), hud_sum(c.sum_duration)"
      " FROM " SQ_CALL_ROWS("fn") " c LEFT JOIN functions f ON f.id = c.caller AND c.caller != 0"
      " GROUP BY c.caller, c.caller_module, c.call_line"
      " ORDER BY hud_sum(c.count) DESC, COALESCE(f.module_path, NULLIF(c.caller_module, '')), c.call_line, f.function_id";
  const char *sql_callees =
      "SELECT f.function_id, f.name, f.module_path, c.call_line,"
      " hud_sum(c.count), hud_sum(c.errors), hud_sum(c.sampled_count), hud_sum(c.sum_duration)"
      " FROM " SQ_CALL_ROWS("caller") " c JOIN functions f ON f.id = c.fn"
      " GROUP BY c.fn, c.call_line ORDER BY hud_sum(c.count) DESC, c.call_line, f.function_id";
  sqlite3_stmt *st;
  int rc = sq_prep(q, callers ? sql_callers : sql_callees, &st);
  if (rc < 0) return rc;
  sq_bind_scope(q, st);
  sq_bind_split(q, st);
  sqlite3_bind_int64(st, 5, fn);
  srv_peer_row *v = NULL;
  size_t n = 0, cap = 0;
  int s;
  while ((s = sqlite3_step(st)) == SQLITE_ROW) {
    if ((rc = sq_grow(q, (void **)&v, &cap, n, sizeof *v)) < 0) break;
    hud_call_peer *p = &v[n].peer;
    v[n++].sampled = sqlite3_column_int64(st, 6);
    sq_uuid(st, 0, p->function_id);
    p->name = sq_text(q, st, 1);
    p->module_path = sq_text(q, st, 2);
    p->line = sqlite3_column_int(st, 3);
    p->calls = sqlite3_column_int64(st, 4);
    p->errors = sqlite3_column_int64(st, 5);
    p->sum_duration = sqlite3_column_int64(st, 7);
  }
  if (rc == 0 && s != SQLITE_DONE) rc = HUD_ESTORE;
  sqlite3_finalize(st);
  *out = v;
  *n_out = n;
  return rc;
}

static int sq_sums_at(srv_store_read *q, sqlite3_stmt *st, int col, srv_sums *out);

static int sq_series(srv_store_read *q, int64_t fn, int64_t bucket_s, srv_series_row **rows, size_t *n_rows) {
  *rows = NULL;
  *n_rows = 0;
  sqlite3_stmt *st;
  int rc = sq_prep(q,
                   "SELECT (slice - ?2) / ?6 AS b, hud_sum(count), hud_sum(errors), hud_sum(sampled_count),"
                   " hud_sum(sum_duration), hud_sum(sum_squared_duration), hud_sketch_agg(sketch) FROM fn_slices"
                   " WHERE fn = ?5 AND" SQ_SCOPE_BY_FN " GROUP BY b ORDER BY b",
                   &st);
  if (rc < 0) return rc;
  sq_bind_scope(q, st);
  sqlite3_bind_int64(st, 5, fn);
  sqlite3_bind_int64(st, 6, bucket_s);
  size_t cap = 0;
  int s;
  while (rc == 0 && (s = sqlite3_step(st)) == SQLITE_ROW) {
    if ((rc = sq_grow(q, (void **)rows, &cap, *n_rows, sizeof **rows)) < 0) break;
    srv_series_row *r = &(*rows)[(*n_rows)++];
    r->start = q->from_s + sqlite3_column_int64(st, 0) * bucket_s;
    rc = sq_sums_at(q, st, 1, &r->s);
  }
  if (rc == 0 && s != SQLITE_DONE) rc = HUD_ESTORE;
  sqlite3_finalize(st);
  return rc;
}

/* Columns COL..COL+5: count, errors, sampled_count, sum_duration, sum_squared_duration, sketch. */
static int sq_sums_at(srv_store_read *q, sqlite3_stmt *st, int col, srv_sums *out) {
  out->count = sqlite3_column_int64(st, col);
  out->errors = sqlite3_column_int64(st, col + 1);
  out->sampled = sqlite3_column_int64(st, col + 2);
  out->sum = sqlite3_column_double(st, col + 3);
  out->sumsq = sqlite3_column_double(st, col + 4);
  return sq_blob(q, st, col + 5, &out->sketch);
}

static int sq_errors_by_type(srv_store_read *q, int64_t fn, hud_count_map *m) {
  sqlite3_stmt *st;
  int rc = sq_prep(q, "SELECT type, hud_sum(count) FROM fn_errors WHERE fn = ?5 AND" SQ_SCOPE_BY_FN
                      " GROUP BY type ORDER BY hud_sum(count) DESC, type", &st);
  if (rc < 0) return rc;
  sq_bind_scope(q, st);
  sqlite3_bind_int64(st, 5, fn);
  size_t cap = 0;
  int s;
  while ((s = sqlite3_step(st)) == SQLITE_ROW) {
    if ((rc = sq_grow(q, (void **)&m->items, &cap, m->n, sizeof *m->items)) < 0) break;
    m->items[m->n].key = sq_text(q, st, 0);
    m->items[m->n].count = sqlite3_column_int64(st, 1);
    m->n++;
  }
  if (rc == 0 && s != SQLITE_DONE) rc = HUD_ESTORE;
  sqlite3_finalize(st);
  return rc;
}

static int sq_fn_versions(srv_store_read *q, int64_t fn, srv_version_row **rows, size_t *n_rows) {
  *rows = NULL;
  *n_rows = 0;
  sqlite3_stmt *st;
  int rc = sq_prep(q,
                   "SELECT v.version, v.first_seen, v.last_seen, c, e, n, s, ss, k FROM"
                   " (SELECT version_id, hud_sum(count) AS c, hud_sum(errors) AS e, hud_sum(sampled_count) AS n,"
                   " hud_sum(sum_duration) AS s, hud_sum(sum_squared_duration) AS ss, hud_sketch_agg(sketch) AS k FROM"
                   " (SELECT version_id, count, errors, sampled_count, sum_duration, sum_squared_duration, sketch"
                   "  FROM fn_slices WHERE fn = ?5 AND" SQ_EDGE_A_BY_FN " UNION ALL"
                   "  SELECT version_id, count, errors, sampled_count, sum_duration, sum_squared_duration, sketch"
                   "  FROM fn_slices WHERE fn = ?5 AND" SQ_EDGE_B_BY_FN " UNION ALL"
                   "  SELECT version_id, count, errors, sampled_count, sum_duration, sum_squared_duration, sketch"
                   "  FROM fn_hours WHERE fn = ?5 AND" SQ_HOURS_BY_FN " AND version_id <> 0"
                   "  AND (?4 = 0 OR version_id = ?4))"
                   " GROUP BY version_id) x"
                   " JOIN versions v ON v.id = x.version_id ORDER BY v.first_seen DESC, v.id DESC",
                   &st);
  if (rc < 0) return rc;
  sq_bind_scope(q, st);
  sq_bind_split(q, st);
  sqlite3_bind_int64(st, 5, fn);
  size_t cap = 0;
  int s;
  while (rc == 0 && (s = sqlite3_step(st)) == SQLITE_ROW) {
    if ((rc = sq_grow(q, (void **)rows, &cap, *n_rows, sizeof **rows)) < 0) break;
    srv_version_row *v = &(*rows)[(*n_rows)++];
    v->version = sq_text(q, st, 0);
    v->first_seen = sqlite3_column_int64(st, 1);
    v->last_seen = sqlite3_column_int64(st, 2);
    rc = sq_sums_at(q, st, 3, &v->s);
  }
  if (rc == 0 && s != SQLITE_DONE) rc = HUD_ESTORE;
  sqlite3_finalize(st);
  return rc;
}

/* The newest declaration of FN into *DECL (arena), NULL when calls were seen but no declaration came
 * (the functions row has no name yet); HUD_ENOTFOUND for an unknown function. */
static int sq_decl(srv_store_read *q, int64_t fn, hud_function_decl **decl) {
  sqlite3_stmt *st;
  *decl = NULL;
  int rc = sq_prep(q,
                   "SELECT function_id, name, file, module_path, start_line, end_line, is_async, source_code_hash"
                   " FROM functions WHERE id = ?1",
                   &st);
  if (rc < 0) return rc;
  sqlite3_bind_int64(st, 1, fn);
  if (sqlite3_step(st) != SQLITE_ROW) {
    rc = HUD_ENOTFOUND;
  } else if (sqlite3_column_type(st, 1) != SQLITE_NULL) {
    hud_function_decl *d = hud_arena_calloc(q->arena, 1, sizeof *d);
    if (!d) {
      sqlite3_finalize(st);
      return HUD_ENOMEM;
    }
    sq_uuid(st, 0, d->function_id);
    d->name = sq_text(q, st, 1);
    d->file = sq_text(q, st, 2);
    d->module_path = sq_text(q, st, 3);
    d->start_line = sqlite3_column_int(st, 4);
    d->end_line = sqlite3_column_int(st, 5);
    d->is_async = sqlite3_column_int(st, 6) != 0;
    const unsigned char *h = sqlite3_column_text(st, 7);
    if (h && strlen((const char *)h) == HUD_SHA1_HEXLEN) memcpy(d->source_code_hash, h, HUD_SHA1_HEXLEN + 1);
    *decl = d;
  }
  sqlite3_finalize(st);
  return rc;
}

/* ---- call graph (the walk: query_graph.c) ---- */

/* Statements kept on the handle (srv_store_read.stmts): the walk runs them once per node. */
enum { SQ_ST_CALLEES, SQ_ST_NODE };

/* The handle's statement K for SQL, prepared on first use, reset and unbound. */
static int sq_prep_kept(srv_store_read *q, int k, const char *sql, sqlite3_stmt **st) {
  if (!q->stmts[k]) {
    int rc = sq_prep(q, sql, &q->stmts[k]);
    if (rc < 0) return rc;
  }
  *st = q->stmts[k];
  sqlite3_reset(*st);
  sqlite3_clear_bindings(*st);
  return 0;
}

static int sq_callees(srv_store_read *q, int64_t caller, srv_call_edge **out, size_t *n_out) {
  *out = NULL;
  *n_out = 0;
  sqlite3_stmt *st;
  int rc = sq_prep_kept(q, SQ_ST_CALLEES,
                   "SELECT fn, call_line, hud_sum(count), hud_sum(sum_duration) FROM " SQ_CALL_ROWS("caller")
                   " GROUP BY fn, call_line ORDER BY hud_sum(sum_duration) DESC, fn, call_line",
                   &st);
  if (rc < 0) return rc;
  sq_bind_scope(q, st);
  sq_bind_split(q, st);
  sqlite3_bind_int64(st, 5, caller);
  srv_call_edge *v = NULL;
  size_t n = 0, cap = 0;
  int s;
  while ((s = sqlite3_step(st)) == SQLITE_ROW) {
    if ((rc = sq_grow(q, (void **)&v, &cap, n, sizeof *v)) < 0) break;
    v[n++] = (srv_call_edge){sqlite3_column_int64(st, 0), sqlite3_column_int(st, 1), sqlite3_column_int64(st, 2),
                             sqlite3_column_int64(st, 3)};
  }
  if (rc == 0 && s != SQLITE_DONE) rc = HUD_ESTORE;
  sqlite3_reset(st);
  *out = v;
  *n_out = n;
  return rc;
}

static int sq_graph_node(srv_store_read *q, int64_t fn, hud_graph_node *nd) {
  sqlite3_stmt *st;
  int rc = sq_prep_kept(q, SQ_ST_NODE,
                   "SELECT f.function_id, f.name, f.module_path, x.c, x.e, x.d, x.s FROM functions f, (SELECT"
                   " hud_sum(count) AS c, hud_sum(errors) AS e, hud_sum(sum_duration) AS d, hud_sum(self_duration) AS s FROM"
                   " (SELECT count, errors, sum_duration, self_duration FROM fn_slices WHERE fn = ?5 AND" SQ_EDGE_A_BY_FN
                   "  UNION ALL SELECT count, errors, sum_duration, self_duration FROM fn_slices WHERE fn = ?5 AND"
                   SQ_EDGE_B_BY_FN "  UNION ALL SELECT count, errors, sum_duration, self_duration FROM fn_hours"
                   "  WHERE fn = ?5 AND" SQ_HOURS_BY_FN " AND version_id = ?4)) x WHERE f.id = ?5",
                   &st);
  if (rc < 0) return rc;
  sq_bind_scope(q, st);
  sq_bind_split(q, st);
  sqlite3_bind_int64(st, 5, fn);
  if (sqlite3_step(st) == SQLITE_ROW) {
    sq_uuid(st, 0, nd->function_id);
    nd->name = sq_text(q, st, 1);
    nd->module_path = sq_text(q, st, 2);
    nd->calls = sqlite3_column_int64(st, 3);
    nd->errors = sqlite3_column_int64(st, 4);
    nd->sum_duration = sqlite3_column_int64(st, 5);
    nd->self_duration = sqlite3_column_int64(st, 6);
  } else {
    rc = HUD_ESTORE; /* every stored id has its functions row */
  }
  sqlite3_reset(st);
  return rc;
}

static int sq_exception_paths(srv_store_read *q, srv_exc_path **out, size_t *n_out) {
  *out = NULL;
  *n_out = 0;
  sqlite3_stmt *st;
  int rc = sq_prep(q,
                   "SELECT type, origin_fn, path, caught_fn, hud_sum(count) FROM exception_flows WHERE" SQ_SCOPE
                   " GROUP BY type, origin_fn, path, caught_fn",
                   &st);
  if (rc < 0) return rc;
  sq_bind_scope(q, st);
  srv_exc_path *v = NULL;
  size_t n = 0, cap = 0;
  int s;
  while (rc == 0 && (s = sqlite3_step(st)) == SQLITE_ROW) {
    if ((rc = sq_grow(q, (void **)&v, &cap, n, sizeof *v)) < 0) break;
    srv_exc_path *x = &v[n++];
    x->type = sq_text(q, st, 0);
    if (!x->type) x->type = "";
    x->origin = sqlite3_column_int64(st, 1);
    const char *path = (const char *)sqlite3_column_text(st, 2);
    rc = srv_exc_path_ids(q->arena, path ? path : "", &x->through, &x->n_through);
    x->caught = sqlite3_column_int64(st, 3);
    x->count = sqlite3_column_int64(st, 4);
  }
  if (rc == 0 && s != SQLITE_DONE) rc = HUD_ESTORE;
  sqlite3_finalize(st);
  *out = v;
  *n_out = n;
  return rc;
}

/* ---- flows ---- */

static hud_flow_kind sq_flow_kind(const char *k) {
  return k && strcmp(k, "consumer") == 0 ? HUD_FLOW_QUEUE_CONSUMER : HUD_FLOW_ENDPOINT;
}

static int sq_flows(srv_store_read *q, int limit, hud_flows_response *out, srv_sums **sums) {
  memset(out, 0, sizeof *out);
  *sums = NULL;
  size_t scap_all = 0, n_sums = 0;
  sqlite3_stmt *st = NULL, *ss = NULL, *fs = NULL;
  int rc = sq_prep(q,
                   "SELECT x.flow, f.flow_id, f.kind, f.method, f.route, f.task_name, f.queue, c, e, n, s, ss, k FROM"
                   " (SELECT flow, hud_sum(count) AS c, hud_sum(errors) AS e, hud_sum(sampled_count) AS n, hud_sum(sum_duration) AS s,"
                   " hud_sum(sum_squared_duration) AS ss, hud_sketch_agg(sketch) AS k FROM flow_slices WHERE" SQ_SCOPE
                   " GROUP BY flow) x"
                   " JOIN flows f ON f.id = x.flow ORDER BY c DESC, f.flow_id LIMIT ?5",
                   &st);
  if (rc == 0)
    rc = sq_prep(q, "SELECT status, hud_sum(count) FROM flow_status WHERE flow = ?5 AND" SQ_SCOPE
                    " GROUP BY status ORDER BY status", &ss);
  if (rc == 0)
    rc = sq_prep(q,
                 "SELECT f.function_id, f.name, f.module_path, hud_sum(x.count), hud_sum(x.errors), hud_sum(x.sum_duration),"
                 " hud_sum(x.self_duration) FROM flow_functions x JOIN functions f ON f.id = x.fn"
                 " WHERE x.flow = ?5 AND x.service_id = ?1 AND x.slice >= ?2 AND x.slice < ?3"
                 " AND (?4 = 0 OR x.version_id = ?4) GROUP BY x.fn ORDER BY hud_sum(x.sum_duration) DESC, f.function_id"
                 " LIMIT 100",
                 &fs);
  size_t cap = 0;
  if (rc == 0) {
    sq_bind_scope(q, st);
    sqlite3_bind_int64(st, 5, limit);
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
      if ((rc = sq_grow(q, (void **)&out->flows, &cap, out->n_flows, sizeof *out->flows)) < 0) break;
      hud_flow_summary *f = &out->flows[out->n_flows++];
      int64_t flow = sqlite3_column_int64(st, 0);
      sq_uuid(st, 1, f->flow_id);
      f->kind = sq_flow_kind((const char *)sqlite3_column_text(st, 2));
      f->method = sq_text(q, st, 3);
      f->route = sq_text(q, st, 4);
      f->task_name = sq_text(q, st, 5);
      f->queue = sq_text(q, st, 6);
      if ((rc = sq_grow(q, (void **)sums, &scap_all, n_sums, sizeof **sums)) < 0) break;
      if ((rc = sq_sums_at(q, st, 7, &(*sums)[n_sums++])) < 0) break;
      sqlite3_reset(ss);
      sq_bind_scope(q, ss);
      sqlite3_bind_int64(ss, 5, flow);
      size_t scap = 0;
      while (rc == 0 && sqlite3_step(ss) == SQLITE_ROW) {
        if ((rc = sq_grow(q, (void **)&f->status_codes, &scap, f->n_status_codes, sizeof *f->status_codes)) < 0) break;
        f->status_codes[f->n_status_codes].status = sqlite3_column_int(ss, 0);
        f->status_codes[f->n_status_codes].count = sqlite3_column_int64(ss, 1);
        f->n_status_codes++;
      }
      sqlite3_reset(fs);
      sq_bind_scope(q, fs);
      sqlite3_bind_int64(fs, 5, flow);
      size_t fcap = 0;
      while (rc == 0 && sqlite3_step(fs) == SQLITE_ROW) {
        if ((rc = sq_grow(q, (void **)&f->functions, &fcap, f->n_functions, sizeof *f->functions)) < 0) break;
        hud_flow_function_stats *x = &f->functions[f->n_functions++];
        sq_uuid(fs, 0, x->function_id);
        x->name = sq_text(q, fs, 1);
        x->module_path = sq_text(q, fs, 2);
        x->calls = sqlite3_column_int64(fs, 3);
        x->errors = sqlite3_column_int64(fs, 4);
        x->sum_duration = sqlite3_column_int64(fs, 5);
        x->self_duration = sqlite3_column_int64(fs, 6);
      }
      if (rc < 0) break;
    }
    if (rc == 0 && s != SQLITE_DONE) rc = HUD_ESTORE;
  }
  sqlite3_finalize(st);
  sqlite3_finalize(ss);
  sqlite3_finalize(fs);
  return rc;
}

/* ---- detection snapshots ---- */

typedef struct sq_names {
  sq_map map;
  char (*uuid)[HUD_UUID_STRLEN + 1];
  size_t n;
} sq_names;

/* uuid of every row of TABLE (functions or flows) of the service, by id. */
static int sq_load_names(srv_store_read *q, const char *sql, sq_names *nm) {
  memset(nm, 0, sizeof *nm);
  sqlite3_stmt *st;
  int rc = sq_prep(q, sql, &st);
  if (rc < 0) return rc;
  sqlite3_bind_int64(st, 1, q->service_id);
  size_t cap = 0;
  rc = sq_map_init(&nm->map, 1024);
  int s;
  while (rc == 0 && (s = sqlite3_step(st)) == SQLITE_ROW) {
    if ((rc = sq_grow(q, (void **)&nm->uuid, &cap, nm->n, sizeof *nm->uuid)) < 0) break;
    if ((nm->n + 1) * 2 > nm->map.cap && (rc = sq_map_grow(&nm->map)) < 0) break;
    sq_uuid(st, 1, nm->uuid[nm->n]);
    sq_map_put(&nm->map, sqlite3_column_int64(st, 0), nm->n);
    nm->n++;
  }
  sqlite3_finalize(st);
  return rc;
}

static const char *sq_name(const sq_names *nm, int64_t id) {
  if (!id) return NULL;
  long i = sq_map_get(&nm->map, id);
  return i < 0 ? NULL : nm->uuid[i];
}

static int sq_det_snapshot_parts(srv_store_read *q, int64_t version_id, int64_t from_s, int64_t to_s, const char *label,
                                 srv_det_snapshot *out, bool with_calls) {
  memset(out, 0, sizeof *out);
  out->label = label;
  out->from_ms = from_s * 1000;
  out->to_ms = to_s * 1000;
  sq_names fns, flows;
  int rc = sq_load_names(q, "SELECT id, function_id FROM functions WHERE service_id = ?1", &fns);
  int rc2 = sq_load_names(q, "SELECT id, flow_id FROM flows WHERE service_id = ?1", &flows);
  if (rc == 0) rc = rc2;
  sqlite3_stmt *cs = NULL, *fs = NULL, *xs = NULL;
#define SQ_DSCOPE " service_id = ?1 AND slice >= ?2 AND slice < ?3 AND (?4 = 0 OR version_id = ?4) "
  if (rc == 0)
    rc = sq_prep(q,
                 "SELECT flow, fn, caller, hud_sum(count), hud_sum(sampled_count), hud_sum(sum_duration), hud_sum(sum_squared_duration),"
                 " hud_sum(self_duration), hud_sum(errors) FROM calls WHERE" SQ_DSCOPE " GROUP BY flow, fn, caller",
                 &cs);
  if (rc == 0)
    rc = sq_prep(q,
                 "SELECT flow, hud_sum(count), hud_sum(sampled_count), hud_sum(sum_duration), hud_sum(sum_squared_duration), hud_sum(errors)"
                 " FROM flow_slices WHERE" SQ_DSCOPE " GROUP BY flow",
                 &fs);
  if (rc == 0)
    rc = sq_prep(q,
                 "SELECT flow, type, origin_fn, path, caught_fn, hud_sum(count) FROM exception_flows WHERE" SQ_DSCOPE
                 " GROUP BY flow, type, origin_fn, path, caught_fn",
                 &xs);
  sqlite3_stmt *all[3] = {cs, fs, xs};
  for (int k = 0; k < 3 && rc == 0; k++) {
    sqlite3_bind_int64(all[k], 1, q->service_id);
    sqlite3_bind_int64(all[k], 2, from_s);
    sqlite3_bind_int64(all[k], 3, to_s);
    sqlite3_bind_int64(all[k], 4, version_id);
  }
  size_t cap = 0;
  int s = SQLITE_DONE;
  srv_det_call *calls = NULL;
  while (rc == 0 && with_calls && (s = sqlite3_step(cs)) == SQLITE_ROW) {
    const char *fn = sq_name(&fns, sqlite3_column_int64(cs, 1));
    if (!fn) continue;
    if ((rc = sq_grow(q, (void **)&calls, &cap, out->n_calls, sizeof *calls)) < 0) break;
    srv_det_call *c = &calls[out->n_calls++];
    c->flow_id = sq_name(&flows, sqlite3_column_int64(cs, 0));
    c->function_id = fn;
    c->caller_id = sq_name(&fns, sqlite3_column_int64(cs, 2));
    c->st.count = (uint64_t)sqlite3_column_int64(cs, 3);
    c->st.sampled_count = (uint64_t)sqlite3_column_int64(cs, 4);
    c->st.sum_ns = sqlite3_column_double(cs, 5);
    c->st.sumsq_ns = sqlite3_column_double(cs, 6);
    c->st.self_sum_ns = sqlite3_column_double(cs, 7);
    c->st.errors = (uint64_t)sqlite3_column_int64(cs, 8);
  }
  if (rc == 0 && s != SQLITE_DONE) rc = HUD_ESTORE;
  out->calls = calls;
  cap = 0;
  srv_det_flow *fl = NULL;
  while (rc == 0 && (s = sqlite3_step(fs)) == SQLITE_ROW) {
    const char *id = sq_name(&flows, sqlite3_column_int64(fs, 0));
    if (!id) continue;
    if ((rc = sq_grow(q, (void **)&fl, &cap, out->n_flows, sizeof *fl)) < 0) break;
    srv_det_flow *f = &fl[out->n_flows++];
    f->flow_id = id;
    f->st.count = (uint64_t)sqlite3_column_int64(fs, 1);
    f->st.sampled_count = (uint64_t)sqlite3_column_int64(fs, 2);
    f->st.sum_ns = sqlite3_column_double(fs, 3);
    f->st.sumsq_ns = sqlite3_column_double(fs, 4);
    f->st.errors = (uint64_t)sqlite3_column_int64(fs, 5);
  }
  if (rc == 0 && s != SQLITE_DONE) rc = HUD_ESTORE;
  out->flows = fl;
  cap = 0;
  srv_det_exc *xe = NULL;
  while (rc == 0 && (s = sqlite3_step(xs)) == SQLITE_ROW) {
    const char *origin = sq_name(&fns, sqlite3_column_int64(xs, 2));
    if (!origin) continue;
    if ((rc = sq_grow(q, (void **)&xe, &cap, out->n_excs, sizeof *xe)) < 0) break;
    srv_det_exc *e = &xe[out->n_excs++];
    e->flow_id = sq_name(&flows, sqlite3_column_int64(xs, 0));
    e->type = sq_text(q, xs, 1);
    if (!e->type) e->type = "";
    e->origin_id = origin;
    e->caught_in = sq_name(&fns, sqlite3_column_int64(xs, 4));
    e->count = (uint64_t)sqlite3_column_int64(xs, 5);
    const char *path = (const char *)sqlite3_column_text(xs, 3);
    int64_t *ids;
    size_t np;
    if ((rc = srv_exc_path_ids(q->arena, path ? path : "", &ids, &np)) < 0) break;
    const char **th = hud_arena_calloc(q->arena, np ? np : 1, sizeof *th);
    if (!th) {
      rc = HUD_ENOMEM;
      break;
    }
    size_t k = 0;
    for (size_t j = 0; j < np; j++) {
      const char *u = sq_name(&fns, ids[j]);
      if (u) th[k++] = u;
    }
    e->through = th;
    e->n_through = k;
  }
  if (rc == 0 && s != SQLITE_DONE) rc = HUD_ESTORE;
  out->excs = xe;
#undef SQ_DSCOPE
  sqlite3_finalize(cs);
  sqlite3_finalize(fs);
  sqlite3_finalize(xs);
  sq_map_free(&fns.map);
  sq_map_free(&flows.map);
  return rc;
}

/* ---- exception flows ---- */

/* functions.id -> hud_function_ref, each function read once per request. */
typedef struct sq_refs {
  sqlite3_stmt *st;
  sq_map map;
  hud_function_ref *refs;
  size_t n, cap;
} sq_refs;

static int sq_ref(srv_store_read *q, sq_refs *r, int64_t fn, hud_function_ref *out) {
  long j = sq_map_get(&r->map, fn);
  if (j >= 0) {
    *out = r->refs[j];
    return 0;
  }
  if (2 * (r->n + 1) >= r->map.cap && sq_map_grow(&r->map) < 0) return HUD_ENOMEM;
  int rc = sq_grow(q, (void **)&r->refs, &r->cap, r->n, sizeof *r->refs);
  if (rc < 0) return rc;
  hud_function_ref *f = &r->refs[r->n];
  memset(f, 0, sizeof *f);
  sqlite3_reset(r->st);
  sqlite3_bind_int64(r->st, 1, fn);
  int s = sqlite3_step(r->st);
  if (s != SQLITE_ROW) return HUD_ESTORE; /* every stored id has its functions row */
  sq_uuid(r->st, 0, f->function_id);
  f->name = sq_text(q, r->st, 1);
  f->module_path = sq_text(q, r->st, 2);
  sq_map_put(&r->map, fn, r->n++);
  *out = *f;
  return 0;
}

/* The functions of a stored path ("id id ..."), in order, into the arena. */
static int sq_path_refs(srv_store_read *q, sq_refs *r, const char *path, hud_exception_flow_summary *x) {
  int64_t *ids;
  size_t n;
  int rc = srv_exc_path_ids(q->arena, path, &ids, &n);
  if (rc < 0) return rc;
  x->propagated_through = hud_arena_calloc(q->arena, n ? n : 1, sizeof *x->propagated_through);
  if (!x->propagated_through) return HUD_ENOMEM;
  for (size_t j = 0; j < n; j++)
    if ((rc = sq_ref(q, r, ids[j], &x->propagated_through[x->n_propagated++])) < 0) return rc;
  return 0;
}

static int sq_exception_flows(srv_store_read *q, int64_t fn, int64_t flow, int limit, hud_exception_flows_response *out) {
  memset(out, 0, sizeof *out);
  sq_refs refs = {0};
  sqlite3_stmt *st = NULL;
  /* ?6 on the path: the ids are space-separated, so a padded match finds whole ids only. */
  int rc = sq_prep(q,
                   "SELECT type, origin_fn, path, caught_fn, hud_sum(count) AS c FROM exception_flows WHERE" SQ_SCOPE
                   " AND (?5 = 0 OR flow = ?5) AND (?6 = 0 OR origin_fn = ?6 OR caught_fn = ?6"
                   " OR instr(' ' || path || ' ', ' ' || ?6 || ' ') > 0)"
                   " GROUP BY type, origin_fn, path, caught_fn",
                   &st);
  if (rc == 0) rc = sq_prep(q, "SELECT function_id, name, module_path FROM functions WHERE id = ?1", &refs.st);
  if (rc == 0) rc = sq_map_init(&refs.map, 64);
  size_t cap = 0;
  if (rc == 0) {
    sq_bind_scope(q, st);
    sqlite3_bind_int64(st, 5, flow);
    sqlite3_bind_int64(st, 6, fn);
    int s;
    while (rc == 0 && (s = sqlite3_step(st)) == SQLITE_ROW) {
      if ((rc = sq_grow(q, (void **)&out->flows, &cap, out->n_flows, sizeof *out->flows)) < 0) break;
      hud_exception_flow_summary *x = &out->flows[out->n_flows++];
      memset(x, 0, sizeof *x);
      x->exception_type = sq_text(q, st, 0);
      if (!x->exception_type || !*x->exception_type) x->exception_type = "unknown";
      x->count = sqlite3_column_int64(st, 4);
      rc = sq_ref(q, &refs, sqlite3_column_int64(st, 1), &x->origin);
      const char *path = (const char *)sqlite3_column_text(st, 2);
      if (rc == 0) rc = sq_path_refs(q, &refs, path ? path : "", x);
      int64_t caught = sqlite3_column_int64(st, 3);
      x->escaped = caught == 0;
      if (rc == 0 && caught) {
        x->caught_in = hud_arena_calloc(q->arena, 1, sizeof *x->caught_in);
        rc = x->caught_in ? sq_ref(q, &refs, caught, x->caught_in) : HUD_ENOMEM;
      }
    }
    if (rc == 0 && s != SQLITE_DONE) rc = HUD_ESTORE;
  }
  sqlite3_finalize(st);
  sqlite3_finalize(refs.st);
  sq_map_free(&refs.map);
  /* Every path is read: the order (and so the LIMIT) is by uuids, which SQL here has not got. */
  if (rc == 0) q_exception_flows_order(out, limit);
  return rc;
}

static int sq_name_of_function(srv_store_read *q, const char *uuid, const char **name, const char **module_path) {
  sqlite3_stmt *st;
  int rc = sq_prep(q, "SELECT name, module_path FROM functions WHERE service_id = ?1 AND function_id = ?2", &st);
  if (rc < 0) return rc;
  sqlite3_bind_int64(st, 1, q->service_id);
  sqlite3_bind_text(st, 2, uuid, -1, SQLITE_STATIC);
  *name = *module_path = NULL;
  if (sqlite3_step(st) == SQLITE_ROW) {
    *name = sq_text(q, st, 0);
    *module_path = sq_text(q, st, 1);
  }
  sqlite3_finalize(st);
  return 0;
}

static int sq_name_of_flow(srv_store_read *q, const char *uuid, const char **name) {
  sqlite3_stmt *st;
  int rc = sq_prep(q, "SELECT kind, method, route, task_name FROM flows WHERE service_id = ?1 AND flow_id = ?2", &st);
  if (rc < 0) return rc;
  sqlite3_bind_int64(st, 1, q->service_id);
  sqlite3_bind_text(st, 2, uuid, -1, SQLITE_STATIC);
  *name = NULL;
  if (sqlite3_step(st) == SQLITE_ROW) {
    const char *kind = (const char *)sqlite3_column_text(st, 0);
    const char *m = (const char *)sqlite3_column_text(st, 1), *r = (const char *)sqlite3_column_text(st, 2);
    const char *t = (const char *)sqlite3_column_text(st, 3);
    char buf[1024];
    if (kind && strcmp(kind, "consumer") == 0)
      snprintf(buf, sizeof buf, "%s", t ? t : uuid);
    else
      snprintf(buf, sizeof buf, "%s %s", m ? m : "?", r ? r : "?");
    *name = hud_arena_strdup(q->arena, buf);
  }
  sqlite3_finalize(st);
  return 0;
}

static int sq_det_snapshot(srv_store_read *q, int64_t version_id, int64_t from_s, int64_t to_s, const char *label,
                    srv_det_snapshot *out) {
  return sq_det_snapshot_parts(q, version_id, from_s, to_s, label, out, true);
}

/* Aggregates of one (flow, fn, caller) key for every side. */
typedef struct sq_ckey {
  int64_t flow, fn, caller;
  srv_det_stats st[SRV_READ_MAX_SIDES];
} sq_ckey;

static uint64_t sq_mix3(int64_t a, int64_t b, int64_t c) {
  return sq_mix(a * 1000003 + b) ^ sq_mix(c * 0x9E3779B1 + 7);
}

/* Call keys of the issues query, grouped in memory (open addressing on (flow, fn, caller)). */
typedef struct sq_ckeys {
  sq_ckey *keys;
  size_t n_keys, cap_keys, nslots;
  uint32_t *slots;
} sq_ckeys;

/* Sides whose window holds time T. */
static unsigned srv_read_sides_at(const srv_read_side *sides, size_t n, int64_t t) {
  unsigned m = 0;
  for (size_t k = 0; k < n; k++)
    if (t >= sides[k].from_s && t < sides[k].to_s) m |= 1u << k;
  return m;
}

/* Adds every row of ST (columns: version_id, slice or hour, flow, fn, caller, count, sampled_count,
 * sum_duration, sum_squared_duration, self_duration, errors) to the sides it falls in: by its slice,
 * or when FIXED to the sides of ADD and taken off those of SUB (an hour row less a part of it),
 * versions filtered per row either way. */
static int sq_ckeys_add(sq_ckeys *c, sqlite3_stmt *st, const srv_read_side *sides, size_t n, bool fixed, unsigned add,
                        unsigned sub) {
  int rc = 0, s;
  while ((s = sqlite3_step(st)) == SQLITE_ROW) {
    int64_t ver = sqlite3_column_int64(st, 0), slice = sqlite3_column_int64(st, 1);
    unsigned match = 0, minus = 0;
    for (size_t k = 0; k < n; k++) {
      if (sides[k].version_id && sides[k].version_id != ver) continue;
      if (fixed ? (add >> k) & 1 : slice >= sides[k].from_s && slice < sides[k].to_s) match |= 1u << k;
      if (fixed && (sub >> k) & 1) minus |= 1u << k;
    }
    if (!match && !minus) continue;
    int64_t flow = sqlite3_column_int64(st, 2), fn = sqlite3_column_int64(st, 3), caller = sqlite3_column_int64(st, 4);
    if ((c->n_keys + 1) * 2 > c->nslots) {
      size_t ns = c->nslots ? c->nslots * 2 : 4096;
      uint32_t *nsl = calloc(ns, sizeof *nsl);
      if (!nsl) return HUD_ENOMEM;
      for (size_t i = 0; i < c->n_keys; i++) {
        size_t j = sq_mix3(c->keys[i].flow, c->keys[i].fn, c->keys[i].caller) & (ns - 1);
        while (nsl[j]) j = (j + 1) & (ns - 1);
        nsl[j] = (uint32_t)(i + 1);
      }
      free(c->slots);
      c->slots = nsl;
      c->nslots = ns;
    }
    size_t j = sq_mix3(flow, fn, caller) & (c->nslots - 1);
    while (c->slots[j] && !(c->keys[c->slots[j] - 1].flow == flow && c->keys[c->slots[j] - 1].fn == fn &&
                            c->keys[c->slots[j] - 1].caller == caller))
      j = (j + 1) & (c->nslots - 1);
    if (!c->slots[j]) {
      if (c->n_keys == c->cap_keys) {
        size_t nc = c->cap_keys ? c->cap_keys * 2 : 1024;
        sq_ckey *nk = realloc(c->keys, nc * sizeof *nk);
        if (!nk) return HUD_ENOMEM;
        c->keys = nk;
        c->cap_keys = nc;
      }
      memset(&c->keys[c->n_keys], 0, sizeof c->keys[c->n_keys]);
      c->keys[c->n_keys].flow = flow;
      c->keys[c->n_keys].fn = fn;
      c->keys[c->n_keys].caller = caller;
      c->slots[j] = (uint32_t)(++c->n_keys);
    }
    sq_ckey *kk = &c->keys[c->slots[j] - 1];
    srv_det_stats row = {(uint64_t)sqlite3_column_int64(st, 5), (uint64_t)sqlite3_column_int64(st, 6),
                         sqlite3_column_double(st, 7), sqlite3_column_double(st, 8), sqlite3_column_double(st, 9),
                         (uint64_t)sqlite3_column_int64(st, 10)};
    for (size_t k = 0; k < n; k++) {
      srv_det_stats *d = &kk->st[k];
      if (match & (1u << k)) {
        d->count = srv_sat_addu(d->count, row.count);
        d->sampled_count = srv_sat_addu(d->sampled_count, row.sampled_count);
        d->sum_ns += row.sum_ns;
        d->sumsq_ns = srv_sat_addf(d->sumsq_ns, row.sumsq_ns);
        d->self_sum_ns += row.self_sum_ns;
        d->errors = srv_sat_addu(d->errors, row.errors);
      }
      /* Counters are exact (unsigned wrap-around cancels); integer-valued sums below 2^53 too. */
      if (minus & (1u << k)) {
        d->count -= row.count;
        d->sampled_count -= row.sampled_count;
        d->sum_ns -= row.sum_ns;
        d->sumsq_ns -= row.sumsq_ns;
        d->self_sum_ns -= row.self_sum_ns;
        d->errors -= row.errors;
      }
    }
  }
  if (s != SQLITE_DONE) rc = HUD_ESTORE;
  return rc;
}

/* Rows of [A, B) from ST (calls or call_hours), as sq_ckeys_add takes them. */
static int sq_ckeys_range(srv_store_read *q, sq_ckeys *c, sqlite3_stmt *st, int64_t a, int64_t b, const srv_read_side *sides,
                          size_t n, bool fixed, unsigned add, unsigned sub) {
  if (a >= b) return 0;
  sqlite3_reset(st);
  sqlite3_bind_int64(st, 1, q->service_id);
  sqlite3_bind_int64(st, 2, a);
  sqlite3_bind_int64(st, 3, b);
  return sq_ckeys_add(c, st, sides, n, fixed, add, sub);
}

static int sq_det_snapshots(srv_store_read *q, const srv_read_side *sides, size_t n, srv_det_snapshot *outs) {
  if (n == 0 || n > SRV_READ_MAX_SIDES) return HUD_EINVAL;
  int rc = 0;
  int64_t lo = sides[0].from_s, hi = sides[0].to_s;
  for (size_t k = 0; k < n && rc == 0; k++) {
    rc = sq_det_snapshot_parts(q, sides[k].version_id, sides[k].from_s, sides[k].to_s, sides[k].label, &outs[k], false);
    if (sides[k].from_s < lo) lo = sides[k].from_s;
    if (sides[k].to_s > hi) hi = sides[k].to_s;
  }
  if (rc < 0) return rc;
  sq_names fns, flows;
  rc = sq_load_names(q, "SELECT id, function_id FROM functions WHERE service_id = ?1", &fns);
  int rc2 = sq_load_names(q, "SELECT id, flow_id FROM flows WHERE service_id = ?1", &flows);
  if (rc == 0) rc = rc2;
  /* One pass over the call rows of the union of the windows, grouped in memory (no SQL sort): the
   * clean whole hours (sq_hour_clean) from call_hours, the rest from calls. */
  sqlite3_stmt *st = NULL, *hst = NULL;
  if (rc == 0)
    rc = sq_prep(q,
                 "SELECT version_id, slice, flow, fn, caller, count, sampled_count, sum_duration, sum_squared_duration,"
                 " self_duration, errors FROM calls WHERE service_id = ?1 AND slice >= ?2 AND slice < ?3",
                 &st);
  if (rc == 0)
    rc = sq_prep(q,
                 "SELECT version_id, hour, flow, fn, caller, count, sampled_count, sum_duration, sum_squared_duration,"
                 " self_duration, errors FROM call_hours WHERE service_id = ?1 AND hour >= ?2 AND hour < ?3",
                 &hst);
  sqlite3_stmt *dst = NULL;
  if (rc == 0) rc = sq_prep(q, "SELECT 1 FROM hours_dirty WHERE service_id = ?1 AND hour = ?2", &dst);
  /* Hour by hour over [lo, hi): an hour no side boundary cuts is read from call_hours (runs of them
   * in one statement); an hour cut at a single point x (the window's start, the halves' middle) is
   * its call_hours row for the larger part, corrected by the minute rows of the smaller part (added
   * to its sides, taken off the larger part's); anything else, and every hour that is dirty or
   * without hourly reads (HUD_SERVER_HOURLY=off), from calls. */
  sq_ckeys ck = {0};
  int64_t run = -1; /* start of the pending run of uncut clean hours */
  for (int64_t h = lo - (((lo % 3600) + 3600) % 3600); rc == 0 && h < hi; h += 3600) {
    int64_t x = 0;
    int nx = 0;
    for (size_t k = 0; k < n && nx < 2; k++) {
      int64_t v[2] = {sides[k].from_s, sides[k].to_s};
      for (int j = 0; j < 2; j++)
        if (v[j] > h && v[j] < h + 3600) {
          if (nx == 0) x = v[j], nx = 1;
          else if (v[j] != x) nx = 2;
        }
    }
    bool clean = false;
    if (q->in_tx && nx < 2) {
      if (h >= q->hour_from && h + 3600 <= q->hour_to) {
        clean = true;
      } else {
        sqlite3_reset(dst);
        sqlite3_bind_int64(dst, 1, q->service_id);
        sqlite3_bind_int64(dst, 2, h);
        int d = sqlite3_step(dst);
        if (d != SQLITE_ROW && d != SQLITE_DONE) rc = HUD_ESTORE;
        clean = d == SQLITE_DONE;
      }
    }
    if (rc == 0 && clean && nx == 0) {
      if (run < 0) run = h;
      continue;
    }
    if (rc == 0 && run >= 0) rc = sq_ckeys_range(q, &ck, hst, run, h, sides, n, false, 0, 0);
    run = -1;
    if (rc < 0) break;
    if (clean) {
      unsigned m1 = srv_read_sides_at(sides, n, h), m2 = srv_read_sides_at(sides, n, x);
      if (x - h <= h + 3600 - x) {
        rc = sq_ckeys_range(q, &ck, hst, h, h + 1, sides, n, true, m2, 0);
        if (rc == 0) rc = sq_ckeys_range(q, &ck, st, h, x, sides, n, true, m1, m2);
      } else {
        rc = sq_ckeys_range(q, &ck, hst, h, h + 1, sides, n, true, m1, 0);
        if (rc == 0) rc = sq_ckeys_range(q, &ck, st, x, h + 3600, sides, n, true, m2, m1);
      }
    } else {
      rc = sq_ckeys_range(q, &ck, st, h > lo ? h : lo, h + 3600 < hi ? h + 3600 : hi, sides, n, false, 0, 0);
    }
  }
  if (rc == 0 && run >= 0) rc = sq_ckeys_range(q, &ck, hst, run, hi - (((hi % 3600) + 3600) % 3600), sides, n, false, 0, 0);
  sqlite3_finalize(dst);
  sq_ckey *keys = ck.keys;
  size_t n_keys = ck.n_keys;
  for (size_t k = 0; k < n && rc == 0; k++) {
    srv_det_call *calls = hud_arena_calloc(q->arena, n_keys ? n_keys : 1, sizeof *calls);
    if (!calls) {
      rc = HUD_ENOMEM;
      break;
    }
    size_t m = 0;
    for (size_t i = 0; i < n_keys; i++) {
      const char *fn = sq_name(&fns, keys[i].fn);
      if (!fn || !keys[i].st[k].count) continue;
      calls[m].flow_id = sq_name(&flows, keys[i].flow);
      calls[m].function_id = fn;
      calls[m].caller_id = sq_name(&fns, keys[i].caller);
      calls[m].st = keys[i].st[k];
      m++;
    }
    outs[k].calls = calls;
    outs[k].n_calls = m;
  }
  sqlite3_finalize(st);
  sqlite3_finalize(hst);
  free(keys);
  free(ck.slots);
  sq_map_free(&fns.map);
  sq_map_free(&flows.map);
  return rc;
}

/* ---- detection runner reads (issues_runner.c) ---- */

static int sq_service_of(srv_store_read *q, int64_t service_id, const char **env, const char **name) {
  sqlite3_stmt *st;
  int rc = sq_prep(q, "SELECT env, name FROM services WHERE id = ?1", &st);
  if (rc < 0) return rc;
  sqlite3_bind_int64(st, 1, service_id);
  int s = sqlite3_step(st);
  if (s == SQLITE_ROW) {
    *env = sq_text(q, st, 0);
    *name = sq_text(q, st, 1);
    rc = *env && *name ? 0 : HUD_ENOMEM;
  } else {
    rc = s == SQLITE_DONE ? HUD_ENOTFOUND : HUD_ESTORE;
  }
  sqlite3_finalize(st);
  return rc;
}

static int sq_version_span(srv_store_read *q, int64_t version_id, int64_t *from_s, int64_t *to_s) {
  sqlite3_stmt *st;
  int rc = sq_prep(q,
                   "SELECT COALESCE(s.data_from, v.first_seen), COALESCE(s.data_to, v.last_seen + 60) FROM versions v"
                   " LEFT JOIN version_spans s ON s.version_id = v.id WHERE v.id = ?1",
                   &st);
  if (rc < 0) return rc;
  sqlite3_bind_int64(st, 1, version_id);
  int s = sqlite3_step(st);
  if (s == SQLITE_ROW) {
    *from_s = sqlite3_column_int64(st, 0);
    *to_s = sqlite3_column_int64(st, 1);
  }
  rc = s == SQLITE_ROW ? 0 : s == SQLITE_DONE ? HUD_ENOTFOUND : HUD_ESTORE;
  sqlite3_finalize(st);
  return rc;
}

static int sq_det_fns(srv_store_read *q, int64_t version_id, srv_det_fn **fns, size_t *n) {
  *fns = NULL;
  *n = 0;
  sqlite3_stmt *st;
  int rc = sq_prep(q,
                   "SELECT f.function_id, v.source_code_hash FROM fn_versions v JOIN functions f ON f.id = v.fn"
                   " WHERE v.service_id = ?1 AND v.version_id = ?2",
                   &st);
  if (rc < 0) return rc;
  sqlite3_bind_int64(st, 1, q->service_id);
  sqlite3_bind_int64(st, 2, version_id);
  size_t cap = 0;
  int s;
  while ((s = sqlite3_step(st)) == SQLITE_ROW) {
    if ((rc = sq_grow(q, (void **)fns, &cap, *n, sizeof **fns)) < 0) break;
    srv_det_fn *f = &(*fns)[(*n)++];
    f->function_id = sq_text(q, st, 0);
    f->source_code_hash = sq_text(q, st, 1);
    if (!f->function_id) {
      rc = HUD_ENOMEM;
      break;
    }
  }
  if (rc == 0 && s != SQLITE_DONE) rc = HUD_ESTORE;
  sqlite3_finalize(st);
  return rc;
}

/* ---- stored issues (their SQL: store_sqlite_issues.c) ---- */

static int sq_issues_list(srv_store_read *q, int64_t sid, srv_issue_filter f, int limit, int findings,
                          srv_issue_row **rows, size_t *n) {
  return srv_issues_list(q->db, sid, f, limit, findings, q->arena, rows, n);
}

static int sq_issue_get(srv_store_read *q, int64_t sid, const char *issue_id, srv_issue_row *out) {
  return srv_issues_get(q->db, sid, issue_id, q->arena, out);
}

static int sq_issue_events(srv_store_read *q, const char *issue_id, srv_issue_event_row **ev, size_t *n) {
  return srv_issues_events(q->db, issue_id, q->arena, ev, n);
}

/* ---- the table ---- */

const srv_store_reads srv_store_sqlite_reads = {
    .services = sq_services,
    .service_id = sq_service_id,
    .service_of = sq_service_of,
    .version = sq_version,
    .previous_version = sq_previous_version,
    .latest_version = sq_latest_version,
    .version_span = sq_version_span,
    .fn_id = sq_fn_id,
    .flow_id = sq_flow_id,
    .fns_of_modules = sq_fns_of_modules,
    .fn_declared_in = sq_fn_declared_in,
    .name_of_function = sq_name_of_function,
    .name_of_flow = sq_name_of_flow,
    .fn_summaries = sq_fn_summaries,
    .fn_page = sq_fn_page,
    .fn_meta = sq_fn_meta,
    .fn_decl = sq_decl,
    .fn_sketch = sq_fn_sketch,
    .fn_version_sums = sq_fn_version_sums,
    .fn_series = sq_series,
    .fn_peers = sq_peers,
    .fn_errors_by_type = sq_errors_by_type,
    .fn_versions = sq_fn_versions,
    .callees = sq_callees,
    .graph_node = sq_graph_node,
    .exception_paths = sq_exception_paths,
    .flows = sq_flows,
    .exception_flows = sq_exception_flows,
    .issues_list = sq_issues_list,
    .issue_get = sq_issue_get,
    .issue_events = sq_issue_events,
    .det_snapshot = sq_det_snapshot,
    .det_snapshots = sq_det_snapshots,
    .det_fns = sq_det_fns,
};
