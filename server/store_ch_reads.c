/* The ClickHouse engine's typed reads (store_reads.h): each sums the window's rows with one GROUP BY
 * (merges are eventual, so rows of one key may still be apart) and hands typed rows to the
 * engine-neutral finishers of query_figures.h. Sketch blobs are merged here, in our code
 * (sketch_bins.h), as the SQLite engine does. Orders that SQL would break by ids are sorted here by
 * uuid (store_reads.h). */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hud/err.h"
#include "issues_store.h"
#include "query_figures.h"
#include "store_ch.h"
#include "store_reads.h"

/* ---- helpers ---- */

/* printf into a malloc'ed statement. */
static char *sqlf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *s = NULL;
  if (vasprintf(&s, fmt, ap) < 0) s = NULL;
  va_end(ap);
  return s;
}

/* Runs SQL (freed here) of COLS columns. */
static int sel(srv_store_read *q, char *sql, size_t cols, srv_ch_rows *r) {
  memset(r, 0, sizeof *r);
  if (!sql) return HUD_ENOMEM;
  int rc = srv_chs_select(q->st, sql, cols, r);
  free(sql);
  return rc;
}

/* The window's rows: service, slices and (when the scope has one) version. */
static const char *scope(srv_store_read *q, char buf[256]) {
  int n = snprintf(buf, 256, "service_id = %lld AND slice >= %lld AND slice < %lld", (long long)q->service_id,
                   (long long)q->from_s, (long long)q->to_s);
  if (q->version_id) snprintf(buf + n, 256 - (size_t)n, " AND version_id = %lld", (long long)q->version_id);
  return buf;
}

static const char *adup(srv_store_read *q, const char *s) { return s ? hud_arena_strdup(q->arena, s) : NULL; }

/* "" as NULL (declarations store "" for absent). */
static const char *adup_nz(srv_store_read *q, const char *s) { return s && *s ? hud_arena_strdup(q->arena, s) : NULL; }

static int grow(srv_store_read *q, void **v, size_t *cap, size_t n, size_t size) {
  if (n < *cap) return 0;
  size_t nc = *cap ? *cap * 2 : 16;
  void *nv = hud_arena_calloc(q->arena, nc, size);
  if (!nv) return HUD_ENOMEM;
  if (n) memcpy(nv, *v, n * size);
  *v = nv;
  *cap = nc;
  return 0;
}

/* ", id, id" list of N ids (malloc'ed; "0" when empty so that IN () stays valid). */
static char *id_list(const int64_t *ids, size_t n) {
  hud_buf b = {0};
  for (size_t i = 0; i < n; i++) {
    char t[24];
    snprintf(t, sizeof t, "%s%lld", i ? "," : "", (long long)ids[i]);
    hud_buf_puts(&b, t);
  }
  if (!n) hud_buf_puts(&b, "0");
  return hud_buf_take(&b, NULL);
}


/* The newest declaration of every function of the service (or of the ids in IDS). */
#define FN_COLS                                                                                              \
  "id, any(function_id), max(declared), argMaxIf(name, last_seen, declared = 1),"                           \
  " argMaxIf(module_path, last_seen, declared = 1), argMaxIf(file, last_seen, declared = 1),"               \
  " argMaxIf(start_line, last_seen, declared = 1), argMaxIf(end_line, last_seen, declared = 1),"            \
  " argMaxIf(is_async, last_seen, declared = 1), argMaxIf(source_code_hash, last_seen, declared = 1),"      \
  " min(first_seen), maxIf(last_seen, declared = 1)"
#define FN_NCOLS 12

typedef struct ch_fn {
  int64_t id;
  const char *uuid, *name, *module_path, *file, *hash;
  int declared, start_line, end_line, is_async;
  int64_t first_seen, last_seen;
} ch_fn;

static int fn_cmp(const void *a, const void *b) {
  int64_t x = ((const ch_fn *)a)->id, y = ((const ch_fn *)b)->id;
  return x < y ? -1 : x > y;
}

/* Every function of the window's service, sorted by id. */
static int fns_load(srv_store_read *q, ch_fn **out, size_t *n_out) {
  *out = NULL;
  *n_out = 0;
  srv_ch_rows r;
  int rc = sel(q, sqlf("SELECT " FN_COLS " FROM functions WHERE service_id = %lld GROUP BY id", (long long)q->service_id),
               FN_NCOLS, &r);
  if (rc < 0) return rc;
  ch_fn *v = r.rows ? hud_arena_calloc(q->arena, r.rows, sizeof *v) : NULL;
  if (r.rows && !v) rc = HUD_ENOMEM;
  for (size_t i = 0; rc == 0 && i < r.rows; i++) {
    ch_fn *f = &v[i];
    f->id = srv_ch_i64(&r, i, 0);
    f->uuid = adup(q, srv_ch_cell(&r, i, 1));
    f->declared = (int)srv_ch_i64(&r, i, 2);
    f->name = f->declared ? adup(q, srv_ch_cell(&r, i, 3)) : NULL;
    f->module_path = f->declared ? adup_nz(q, srv_ch_cell(&r, i, 4)) : NULL;
    f->file = f->declared ? adup_nz(q, srv_ch_cell(&r, i, 5)) : NULL;
    f->start_line = (int)srv_ch_i64(&r, i, 6);
    f->end_line = (int)srv_ch_i64(&r, i, 7);
    f->is_async = (int)srv_ch_i64(&r, i, 8);
    f->hash = adup(q, srv_ch_cell(&r, i, 9));
    f->first_seen = srv_ch_i64(&r, i, 10);
    f->last_seen = srv_ch_i64(&r, i, 11);
    if (!f->uuid) rc = HUD_ENOMEM;
  }
  size_t rows = r.rows;
  srv_ch_rows_free(&r);
  if (rc < 0) return rc;
  if (rows) qsort(v, rows, sizeof *v, fn_cmp);
  *out = v;
  *n_out = rows;
  return 0;
}

/* Every function of the window's service, read once per handle (the arena keeps them). */
static int fns_all(srv_store_read *q, ch_fn **out, size_t *n) {
  if (!q->fns_loaded) {
    ch_fn *v;
    size_t nv;
    int rc = fns_load(q, &v, &nv);
    if (rc < 0) return rc;
    q->fns = v;
    q->n_fns = nv;
    q->fns_service = q->service_id;
    q->fns_loaded = 1;
  }
  *out = q->fns;
  *n = q->n_fns;
  return 0;
}

static const ch_fn *fn_find(const ch_fn *v, size_t n, int64_t id) {
  ch_fn k = {.id = id};
  return n ? bsearch(&k, v, n, sizeof *v, fn_cmp) : NULL;
}

static void uuid_copy(hud_uuid dst, const char *src) { snprintf(dst, sizeof(hud_uuid), "%s", src ? src : ""); }

/* The versions of service SID with first/last seen from the ledger; ORDER: first seen, then the
 * first acknowledgement (the SQLite engine's insertion order). */
typedef struct ch_ver {
  int64_t id, first, last, order;
  const char *name;
} ch_ver;

static int ver_cmp_desc(const void *a, const void *b) {
  const ch_ver *x = a, *y = b;
  if (x->first != y->first) return x->first > y->first ? -1 : 1;
  return x->order > y->order ? -1 : x->order < y->order;
}

static int vers_load(srv_store_read *q, int64_t sid, ch_ver **out, size_t *n_out) {
  srv_ch_rows r;
  *out = NULL;
  *n_out = 0;
  if (q->vers_service == sid && sid) { /* read once per handle */
    *out = q->vers;
    *n_out = q->n_vers;
    return 0;
  }
  int rc = sel(q,
               sqlf("SELECT id, version, f, l, o FROM (SELECT id, any(version) AS version FROM versions"
                    " WHERE service_id = %lld GROUP BY id) ANY INNER JOIN (SELECT version_id AS id, min(received_at) AS f,"
                    " max(received_at) AS l, min(seq) AS o FROM batches WHERE service_id = %lld GROUP BY version_id)"
                    " USING id",
                    (long long)sid, (long long)sid),
               5, &r);
  if (rc < 0) return rc;
  ch_ver *v = r.rows ? hud_arena_calloc(q->arena, r.rows, sizeof *v) : NULL;
  if (r.rows && !v) rc = HUD_ENOMEM;
  for (size_t i = 0; rc == 0 && i < r.rows; i++) {
    v[i] = (ch_ver){srv_ch_i64(&r, i, 0), srv_ch_i64(&r, i, 2), srv_ch_i64(&r, i, 3), srv_ch_i64(&r, i, 4),
                    adup(q, srv_ch_cell(&r, i, 1))};
    if (!v[i].name) rc = HUD_ENOMEM;
  }
  size_t n = r.rows;
  srv_ch_rows_free(&r);
  if (rc < 0) return rc;
  if (n) qsort(v, n, sizeof *v, ver_cmp_desc); /* newest first */
  q->vers = v;
  q->n_vers = n;
  q->vers_service = sid;
  *out = v;
  *n_out = n;
  return 0;
}

/* ---- services, versions, ids ---- */

static int ch_services(srv_store_read *q, const char *service_filter, int (*env_allowed)(void *arg, const char *env),
                       void *arg, size_t max_envs, hud_services_response *out) {
  memset(out, 0, sizeof *out);
  srv_ch_rows r;
  int rc = sel(q,
               sqlf("SELECT id, env, name, f, l FROM (SELECT id, any(env) AS env, any(name) AS name FROM services"
                    " GROUP BY id) ANY INNER JOIN (SELECT service_id AS id, min(received_at) AS f, max(received_at) AS l"
                    " FROM batches GROUP BY service_id) USING id ORDER BY name, env"),
               5, &r);
  if (rc < 0) return rc;
  size_t cap = 0;
  for (size_t i = 0; rc == 0 && i < r.rows; i++) {
    const char *env = srv_ch_cell(&r, i, 1), *name = srv_ch_cell(&r, i, 2);
    if (!env || !name || !env_allowed(arg, env)) continue;
    if (service_filter && strcmp(service_filter, name) != 0) continue;
    hud_service_info *svc = out->n_services ? &out->services[out->n_services - 1] : NULL;
    if (!svc || strcmp(svc->name, name) != 0) {
      if ((rc = grow(q, (void **)&out->services, &cap, out->n_services, sizeof *out->services)) < 0) break;
      svc = &out->services[out->n_services++];
      svc->name = adup(q, name);
      svc->environments = hud_arena_calloc(q->arena, max_envs ? max_envs : 1, sizeof *svc->environments);
      if (!svc->name || !svc->environments) {
        rc = HUD_ENOMEM;
        break;
      }
    }
    if (svc->n_environments >= max_envs) continue;
    hud_environment_info *e = &svc->environments[svc->n_environments++];
    e->name = adup(q, env);
    e->first_seen = srv_ch_i64(&r, i, 3) * 1000000000LL;
    e->last_seen = srv_ch_i64(&r, i, 4) * 1000000000LL;
    if (svc->n_environments == 1 || e->first_seen < svc->first_seen) svc->first_seen = e->first_seen;
    if (e->last_seen > svc->last_seen) svc->last_seen = e->last_seen;
    ch_ver *v;
    size_t nv;
    if ((rc = vers_load(q, srv_ch_i64(&r, i, 0), &v, &nv)) < 0) break;
    e->versions = nv ? hud_arena_calloc(q->arena, nv, sizeof *e->versions) : NULL;
    if (nv && !e->versions) rc = HUD_ENOMEM;
    for (size_t k = 0; rc == 0 && k < nv; k++)
      e->versions[k] = (hud_version_info){.version = v[k].name, .first_seen = v[k].first * 1000000000LL,
                                          .last_seen = v[k].last * 1000000000LL};
    e->n_versions = rc == 0 ? nv : 0;
  }
  srv_ch_rows_free(&r);
  return rc;
}

/* 1 when SQL counts more than 0 rows, 0 when none. */
static int exists(srv_store_read *q, char *sql) {
  srv_ch_rows r;
  int rc = sel(q, sql, 1, &r);
  if (rc < 0) return rc;
  rc = r.rows && srv_ch_i64(&r, 0, 0) > 0;
  srv_ch_rows_free(&r);
  return rc;
}

static int ch_service_id(srv_store_read *q, const char *env, const char *name, int64_t *id) {
  int64_t sid = srv_ch_service_id(env, name);
  int rc = exists(q, sqlf("SELECT count() FROM services WHERE id = %lld", (long long)sid));
  if (rc == 1) *id = sid;
  return rc < 0 ? rc : rc ? 0 : HUD_ENOTFOUND;
}

static int ch_service_of(srv_store_read *q, int64_t service_id, const char **env, const char **name) {
  srv_ch_rows r;
  int rc = sel(q, sqlf("SELECT any(env), any(name) FROM services WHERE id = %lld GROUP BY id", (long long)service_id), 2,
               &r);
  if (rc < 0) return rc;
  if (!r.rows) rc = HUD_ENOTFOUND;
  else if (!(*env = adup(q, srv_ch_cell(&r, 0, 0))) || !(*name = adup(q, srv_ch_cell(&r, 0, 1)))) rc = HUD_ENOMEM;
  srv_ch_rows_free(&r);
  return rc;
}

static int ch_version(srv_store_read *q, int64_t service_id, const char *version, int64_t *id, int64_t *first_seen,
                      int64_t *last_seen) {
  ch_ver *v;
  size_t n;
  int rc = vers_load(q, service_id, &v, &n);
  for (size_t i = 0; rc == 0 && i < n; i++)
    if (strcmp(v[i].name, version) == 0) {
      *id = v[i].id;
      *first_seen = v[i].first;
      *last_seen = v[i].last;
      return 0;
    }
  return rc < 0 ? rc : HUD_ENOTFOUND;
}

static int ch_previous_version(srv_store_read *q, int64_t service_id, int64_t version_id, int64_t *prev_id,
                               const char **name, int64_t *first_seen, int64_t *last_seen) {
  ch_ver *v;
  size_t n;
  int rc = vers_load(q, service_id, &v, &n);
  for (size_t i = 0; rc == 0 && i + 1 < n; i++)
    if (v[i].id == version_id) { /* newest first: the next one was deployed before it */
      *prev_id = v[i + 1].id;
      *name = v[i + 1].name;
      *first_seen = v[i + 1].first;
      *last_seen = v[i + 1].last;
      return 0;
    }
  return rc < 0 ? rc : HUD_ENOTFOUND;
}

static int ch_latest_version(srv_store_read *q, int64_t service_id, int64_t *id, const char **name, int64_t *first_seen,
                             int64_t *last_seen) {
  ch_ver *v;
  size_t n;
  int rc = vers_load(q, service_id, &v, &n);
  if (rc < 0) return rc;
  if (!n) return HUD_ENOTFOUND;
  *id = v[0].id;
  *name = v[0].name;
  *first_seen = v[0].first;
  *last_seen = v[0].last;
  return 0;
}

static int ch_version_span(srv_store_read *q, int64_t version_id, int64_t *from_s, int64_t *to_s) {
  srv_ch_rows r;
  int rc = sel(q,
               sqlf("SELECT min(received_at), max(received_at), (SELECT count() FROM version_spans WHERE version_id = %lld),"
                    " (SELECT min(data_from) FROM version_spans WHERE version_id = %lld),"
                    " (SELECT max(data_to) FROM version_spans WHERE version_id = %lld), count()"
                    " FROM batches WHERE version_id = %lld",
                    (long long)version_id, (long long)version_id, (long long)version_id, (long long)version_id),
               6, &r);
  if (rc < 0) return rc;
  if (!r.rows || srv_ch_i64(&r, 0, 5) == 0) {
    rc = HUD_ENOTFOUND;
  } else if (srv_ch_i64(&r, 0, 2) > 0) {
    *from_s = srv_ch_i64(&r, 0, 3);
    *to_s = srv_ch_i64(&r, 0, 4);
  } else { /* no call or flow rows: the SQLite engine's fallback */
    *from_s = srv_ch_i64(&r, 0, 0);
    *to_s = srv_ch_i64(&r, 0, 1) + 60;
  }
  srv_ch_rows_free(&r);
  return rc;
}

/* From the service's functions, which the requests that look one up read anyway (one statement less). */
static int ch_fn_id(srv_store_read *q, const char *uuid, int64_t *fn) {
  int64_t id = srv_ch_fn_id(q->service_id, uuid);
  ch_fn *all;
  size_t n;
  int rc = id ? fns_all(q, &all, &n) : 0;
  if (rc < 0) return rc;
  if (!id || !fn_find(all, n, id)) return HUD_ENOTFOUND;
  *fn = id;
  return 0;
}

static int ch_flow_id(srv_store_read *q, const char *uuid, int64_t *flow) {
  int64_t id = srv_ch_flow_id(q->service_id, uuid);
  int rc = id ? exists(q, sqlf("SELECT count() FROM flows WHERE service_id = %lld AND id = %lld",
                               (long long)q->service_id, (long long)id))
              : 0;
  if (rc == 1) *flow = id;
  return rc < 0 ? rc : rc ? 0 : HUD_ENOTFOUND;
}

static int line_cmp(const void *a, const void *b) {
  const ch_fn *x = *(const ch_fn *const *)a, *y = *(const ch_fn *const *)b;
  if (x->start_line != y->start_line) return x->start_line < y->start_line ? -1 : 1;
  return x->id < y->id ? -1 : x->id > y->id;
}

static int ch_fns_of_modules(srv_store_read *q, const char *const *paths, size_t n, int64_t **fns, size_t *n_fns) {
  *fns = NULL;
  *n_fns = 0;
  ch_fn *all;
  size_t na;
  int rc = fns_all(q, &all, &na);
  if (rc < 0) return rc;
  const ch_fn **pick = na ? calloc(na, sizeof *pick) : NULL;
  int64_t *v = hud_arena_calloc(q->arena, na ? na : 1, sizeof *v);
  if ((na && !pick) || !v) {
    free(pick);
    return HUD_ENOMEM;
  }
  size_t cnt = 0;
  for (size_t i = 0; i < n; i++) { /* per path, in line order, as the SQLite engine */
    size_t first = 0, k = 0;
    for (size_t j = 0; j < na; j++)
      if (all[j].module_path && strcmp(all[j].module_path, paths[i]) == 0) pick[k++] = &all[j];
    if (k) qsort(pick, k, sizeof *pick, line_cmp);
    for (first = 0; first < k; first++) v[cnt++] = pick[first]->id;
  }
  free(pick);
  *fns = v;
  *n_fns = cnt;
  return 0;
}

static int ch_fn_declared_in(srv_store_read *q, int64_t fn) {
  ch_fn *all;
  size_t n;
  int rc = fns_all(q, &all, &n);
  if (rc < 0) return rc;
  const ch_fn *f = fn_find(all, n, fn);
  return f && f->declared && f->first_seen < q->to_s && f->last_seen >= q->from_s;
}

static int ch_name_of_function(srv_store_read *q, const char *uuid, const char **name, const char **module_path) {
  *name = *module_path = NULL;
  ch_fn *all;
  size_t n;
  int rc = fns_all(q, &all, &n);
  const ch_fn *f = rc == 0 ? fn_find(all, n, srv_ch_fn_id(q->service_id, uuid)) : NULL;
  if (f) {
    *name = f->name;
    *module_path = f->module_path;
  }
  return rc;
}

static int ch_name_of_flow(srv_store_read *q, const char *uuid, const char **name) {
  *name = NULL;
  srv_ch_rows r;
  int rc = sel(q,
               sqlf("SELECT countIf(kind != 'unknown'), argMinIf(kind, first_seen, kind != 'unknown'),"
                    " argMinIf(method, first_seen, kind != 'unknown'), argMinIf(route, first_seen, kind != 'unknown'),"
                    " argMinIf(task_name, first_seen, kind != 'unknown') FROM flows WHERE service_id = %lld AND id = %lld"
                    " HAVING count() > 0",
                    (long long)q->service_id, (long long)srv_ch_flow_id(q->service_id, uuid)),
               5, &r);
  if (rc < 0) return rc;
  if (r.rows) {
    int known = srv_ch_i64(&r, 0, 0) > 0;
    const char *kind = known ? srv_ch_cell(&r, 0, 1) : "unknown";
    const char *m = known ? srv_ch_cell(&r, 0, 2) : NULL, *rt = known ? srv_ch_cell(&r, 0, 3) : NULL;
    const char *t = known ? srv_ch_cell(&r, 0, 4) : NULL;
    char buf[1024];
    if (kind && strcmp(kind, "consumer") == 0) snprintf(buf, sizeof buf, "%s", t ? t : uuid);
    else snprintf(buf, sizeof buf, "%s %s", m ? m : "?", rt ? rt : "?");
    if (!(*name = hud_arena_strdup(q->arena, buf))) rc = HUD_ENOMEM;
  }
  srv_ch_rows_free(&r);
  return rc;
}

/* ---- function figures ---- */

typedef struct fig_set {
  int64_t *fns; /* sorted */
  q_fig *acc;
  size_t n, cap;
} fig_set;

static int i64_cmp(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

static q_fig *fig_find(fig_set *s, int64_t fn) {
  int64_t *p = s->n ? bsearch(&fn, s->fns, s->n, sizeof *s->fns, i64_cmp) : NULL;
  return p ? &s->acc[p - s->fns] : NULL;
}

static void fig_set_free(fig_set *s) {
  for (size_t i = 0; i < s->n; i++) q_fig_free(&s->acc[i]);
  free(s->fns);
  free(s->acc);
}

static int pt_cmp(const void *a, const void *b, void *rows) { /* rows of 7 by fn, then slice */
  const int64_t *x = (const int64_t *)rows + 7 * (size_t) * (const uint32_t *)a;
  const int64_t *y = (const int64_t *)rows + 7 * (size_t) * (const uint32_t *)b;
  if (x[0] != y[0]) return x[0] < y[0] ? -1 : 1;
  return x[1] < y[1] ? -1 : x[1] > y[1];
}

/* Rows per (fn, slice) over the window, in order: into S (one accumulator per function met). TABLE
 * fn_slices, or calls_by_flow for FLOW (not 0). FN_IN (may be NULL): only those. With POINTS the
 * stored rows come as they are and are ordered here: ClickHouse 18.16 groups and sorts a window's
 * (fn, slice) pairs several times slower than it sends them (and q_fig_add joins a slice's rows). */
static int fig_rows(srv_store_read *q, const char *fn_in, int64_t flow, bool points, fig_set *s) {
  char sc[256], fl[64] = "";
  if (flow) snprintf(fl, sizeof fl, " AND flow = %lld", (long long)flow);
  const char *in_a = fn_in ? " AND fn IN (" : "", *in_b = fn_in ? fn_in : "", *in_c = fn_in ? ")" : "";
  const char *table = flow ? "calls_by_flow" : "fn_slices";
  char *sql = points ? sqlf("SELECT fn, slice, count, errors, sampled_count, sum_duration, self_duration FROM %s"
                            " WHERE %s%s%s%s%s",
                            table, scope(q, sc), fl, in_a, in_b, in_c)
                     : sqlf("SELECT fn, min(slice), sum(count), sum(errors), sum(sampled_count), sum(sum_duration),"
                            " sum(self_duration) FROM %s WHERE %s%s%s%s%s GROUP BY fn ORDER BY fn",
                            table, scope(q, sc), fl, in_a, in_b, in_c);
  if (!sql) return HUD_ENOMEM;
  int64_t *v;
  size_t n;
  int rc = srv_chs_select_i64(q->st, sql, 7, &v, &n);
  free(sql);
  if (rc < 0) return rc;
  uint32_t *ord = malloc((n ? n : 1) * sizeof *ord); /* the rows' order: sorting indexes moves less */
  if (!ord || n > UINT32_MAX) rc = HUD_ENOMEM;
  for (size_t i = 0; rc == 0 && i < n; i++) ord[i] = (uint32_t)i;
  if (rc == 0 && points && n) qsort_r(ord, n, sizeof *ord, pt_cmp, v);
  size_t distinct = 0;
  for (size_t i = 0; rc == 0 && i < n; i++) distinct += i == 0 || v[7 * (size_t)ord[i]] != v[7 * (size_t)ord[i - 1]];
  s->fns = calloc(distinct + 1, sizeof *s->fns);
  s->acc = calloc(distinct + 1, sizeof *s->acc);
  if (!s->fns || !s->acc) rc = HUD_ENOMEM;
  q_fig *a = NULL;
  for (size_t i = 0; rc == 0 && i < n; i++) {
    const int64_t *r = &v[7 * (size_t)ord[i]];
    if (!a || a->fn != r[0]) {
      s->fns[s->n] = r[0];
      a = &s->acc[s->n++];
      a->fn = r[0];
    }
    srv_fn_row row = {.fn = r[0], .slice = r[1], .count = r[2], .errors = r[3], .sampled = r[4],
                      .sum = (double)r[5], .self = (double)r[6]}; /* sumsq: no summary figure uses it */
    rc = q_fig_add(a, &row, points);
  }
  free(ord);
  free(v);
  return rc;
}

/* The window's split for SRC (store_ch_rollup.c), asked once per handle and window: *SPANS and
 * *REST (NULL: none) live in the arena. */
static int spans_plan(srv_store_read *q, int src, const char **spans, const char **rest) {
  struct srv_ch_plan_cache *c = &q->plans[src];
  if (!c->set || c->service_id != q->service_id || c->from_s != q->from_s || c->to_s != q->to_s) {
    srv_ch_span_plan fresh;
    int rc = srv_ch_spans_plan(q->st, src, q->service_id, q->from_s, q->to_s, &fresh);
    if (rc < 0) return rc;
    c->spans = adup(q, fresh.spans);
    c->rest = adup(q, fresh.rest);
    rc = (fresh.spans && !c->spans) || (fresh.rest && !c->rest) ? HUD_ENOMEM : 0;
    srv_ch_span_plan_free(&fresh);
    if (rc < 0) return rc;
    *c = (struct srv_ch_plan_cache){q->service_id, q->from_s, q->to_s, c->spans, c->rest, 1};
  }
  *spans = c->spans;
  *rest = c->rest;
  return 0;
}

/* Up to this many functions a read takes their minute rows' sketches: cheaper than asking which
 * merged spans are fresh (that counts the window's rows of every function). */
#define FEW_FNS 4

/* Merges the window's sketches of the functions of S (same table and filters as fig_rows): the
 * window's fresh pre-merged spans (store_ch_rollup.c) and the minute rows of the rest. */
static int fig_sketches(srv_store_read *q, const char *fn_in, int64_t flow, fig_set *s) {
  char sc[256], fl[64] = "", ver[64] = "";
  if (flow) snprintf(fl, sizeof fl, " AND flow = %lld", (long long)flow);
  if (q->version_id) snprintf(ver, sizeof ver, " AND version_id = %lld", (long long)q->version_id);
  const char *spans = NULL, *rest = NULL;
  int src = flow ? SRV_CH_SPAN_FLOWS : SRV_CH_SPAN_FNS;
  int rc = fn_in && s->n <= FEW_FNS ? 0 : spans_plan(q, src, &spans, &rest);
  if (rc < 0) return rc;
  const char *table = flow ? "calls_by_flow" : "fn_slices", *in_a = fn_in ? " AND fn IN (" : "",
             *in_b = fn_in ? fn_in : "", *in_c = fn_in ? ")" : "";
  char *sql;
  if (!spans)
    sql = sqlf("SELECT fn, sketch FROM %s WHERE %s%s%s%s%s AND sketch != ''", table, scope(q, sc), fl, in_a, in_b,
               in_c);
  else if (!rest)
    sql = sqlf("SELECT fn, sketch FROM sketch_spans WHERE service_id = %lld AND src = %d AND flow = %lld"
               "%s%s%s%s AND (%s)",
               (long long)q->service_id, src, (long long)flow, ver, in_a, in_b, in_c, spans);
  else
    sql = sqlf("SELECT fn, sketch FROM sketch_spans WHERE service_id = %lld AND src = %d AND flow = %lld"
               "%s%s%s%s AND (%s) UNION ALL SELECT fn, sketch FROM %s WHERE service_id = %lld%s%s%s%s%s AND (%s)"
               " AND sketch != ''",
               (long long)q->service_id, src, (long long)flow, ver, in_a, in_b, in_c, spans, table,
               (long long)q->service_id, ver, fl, in_a, in_b, in_c, rest);
  srv_ch_rows r;
  if ((rc = sel(q, sql, 2, &r)) < 0) return rc;
  for (size_t i = 0; rc == 0 && i < r.rows; i++) {
    q_fig *a = fig_find(s, srv_ch_i64(&r, i, 0));
    if (a && srv_acc_add_blob(&a->sketch, r.cells[i * 2 + 1], r.lens[i * 2 + 1]) < 0) rc = HUD_ESTORE;
  }
  srv_ch_rows_free(&r);
  return rc;
}

/* Sampled calls and durations of versions V (cur, prev) over the window, every version read. */
static int fig_versions(srv_store_read *q, const char *fn_in, srv_version_pair v, fig_set *s) {
  srv_ch_rows r;
  int rc = sel(q,
               sqlf("SELECT fn, version_id, sum(sampled_count), sum(sum_duration) FROM fn_slices WHERE service_id = %lld"
                    " AND slice >= %lld AND slice < %lld AND version_id IN (%lld, %lld)%s%s%s GROUP BY fn, version_id",
                    (long long)q->service_id, (long long)q->from_s, (long long)q->to_s, (long long)v.cur,
                    (long long)v.prev, fn_in ? " AND fn IN (" : "", fn_in ? fn_in : "", fn_in ? ")" : ""),
               4, &r);
  if (rc < 0) return rc;
  for (size_t i = 0; i < r.rows; i++) {
    q_fig *a = fig_find(s, srv_ch_i64(&r, i, 0));
    if (a) q_fig_add_version(a, srv_ch_i64(&r, i, 1) == v.cur, srv_ch_i64(&r, i, 2), srv_ch_i64(&r, i, 3));
  }
  srv_ch_rows_free(&r);
  return 0;
}

static int ch_fn_summaries(srv_store_read *q, const srv_fn_filter *f, hud_function_summary **items, int64_t **fns_out,
                           size_t *n, srv_version_sums **vs_out) {
  *items = NULL;
  *fns_out = NULL;
  *n = 0;
  *vs_out = NULL;
  char *fn_in = f->fns ? id_list(f->fns, f->n_fns) : NULL;
  if (f->fns && !fn_in) return HUD_ENOMEM;
  bool p95 = f->p95 && !f->fns;
  bool slow = f->versions.prev && !f->flow && !f->fns && !q->version_id;
  fig_set s = {0};
  int rc = fig_rows(q, fn_in, f->flow, !f->no_trends, &s);
  if (rc == 0 && p95) rc = fig_sketches(q, fn_in, f->flow, &s);
  if (rc == 0 && slow) rc = fig_versions(q, fn_in, f->versions, &s);
  free(fn_in);
  if (rc == 0 && s.n) {
    *items = hud_arena_calloc(q->arena, s.n, sizeof **items);
    *fns_out = hud_arena_calloc(q->arena, s.n, sizeof **fns_out);
    if (!*items || !*fns_out) rc = HUD_ENOMEM;
    if (rc == 0 && slow && !(*vs_out = hud_arena_calloc(q->arena, s.n, sizeof **vs_out))) rc = HUD_ENOMEM;
  }
  for (size_t i = 0; rc == 0 && i < s.n; i++) {
    (*fns_out)[i] = s.acc[i].fn;
    q_fig_summary(&s.acc[i], q->from_s, &(*items)[i]);
    static const double q95 = 0.95;
    double v;
    bool have;
    if (p95 && (rc = srv_acc_quantiles(&s.acc[i].sketch, &q95, 1, &v, &have)) == 0 && have) (*items)[i].p95 = v;
    if (slow) q_fig_version_sums(&s.acc[i], &(*vs_out)[i]);
  }
  if (rc == 0) *n = s.n;
  fig_set_free(&s);
  return rc;
}

static int ch_fn_page(srv_store_read *q, const int64_t *fns, size_t n, srv_version_pair versions,
                      hud_function_summary *items, srv_version_sums *vs) {
  char *fn_in = id_list(fns, n);
  if (!fn_in) return HUD_ENOMEM;
  fig_set s = {0};
  int rc = fig_rows(q, fn_in, 0, true, &s);
  if (rc == 0) rc = fig_sketches(q, fn_in, 0, &s);
  if (rc == 0 && versions.prev) rc = fig_versions(q, fn_in, versions, &s);
  free(fn_in);
  for (size_t i = 0; rc == 0 && i < n; i++) {
    q_fig empty = {.fn = fns[i]}, *a = fig_find(&s, fns[i]);
    if (!a) a = &empty;
    q_fig_summary(a, q->from_s, &items[i]);
    rc = q_fig_percentiles(&a->sketch, &items[i]);
    q_fig_version_sums(a, &vs[i]);
  }
  fig_set_free(&s);
  return rc;
}

static int ch_fn_version_sums(srv_store_read *q, const int64_t *fns, size_t n, srv_version_pair versions,
                              srv_version_sums *out) {
  memset(out, 0, n * sizeof *out);
  if (!versions.prev || !n) return 0;
  char *fn_in = id_list(fns, n);
  if (!fn_in) return HUD_ENOMEM;
  fig_set s = {.fns = malloc(n * sizeof(int64_t)), .acc = calloc(n, sizeof(q_fig)), .n = n};
  int rc = s.fns && s.acc ? 0 : HUD_ENOMEM;
  if (rc == 0) {
    memcpy(s.fns, fns, n * sizeof *fns);
    qsort(s.fns, n, sizeof *s.fns, i64_cmp);
    for (size_t i = 0; i < n; i++) s.acc[i].fn = s.fns[i];
    rc = fig_versions(q, fn_in, versions, &s);
  }
  for (size_t i = 0; rc == 0 && i < n; i++) q_fig_version_sums(fig_find(&s, fns[i]), &out[i]);
  free(fn_in);
  if (!s.fns || !s.acc) s.n = 0;
  fig_set_free(&s);
  return rc;
}

static int ch_fn_meta(srv_store_read *q, int64_t fn, hud_function_summary *it) {
  ch_fn *all;
  size_t n;
  int rc = fns_all(q, &all, &n);
  if (rc < 0) return rc;
  const ch_fn *f = fn_find(all, n, fn);
  if (!f) return HUD_ENOTFOUND;
  uuid_copy(it->function_id, f->uuid);
  it->name = f->name;
  it->module_path = f->module_path;
  it->file = f->file;
  it->start_line = f->start_line;
  it->end_line = f->end_line;
  it->is_async = f->is_async != 0;
  it->source_code_hash[0] = '\0';
  if (f->declared && f->hash && strlen(f->hash) == HUD_SHA1_HEXLEN) memcpy(it->source_code_hash, f->hash, HUD_SHA1_HEXLEN + 1);
  return 0;
}

static int ch_fn_decl(srv_store_read *q, int64_t fn, hud_function_decl **decl) {
  *decl = NULL;
  ch_fn *all;
  size_t n;
  int rc = fns_all(q, &all, &n);
  if (rc < 0) return rc;
  const ch_fn *f = fn_find(all, n, fn);
  if (!f) return HUD_ENOTFOUND;
  if (!f->declared) return 0;
  hud_function_decl *d = hud_arena_calloc(q->arena, 1, sizeof *d);
  if (!d) return HUD_ENOMEM;
  uuid_copy(d->function_id, f->uuid);
  d->name = f->name;
  d->file = f->file;
  d->module_path = f->module_path;
  d->start_line = f->start_line;
  d->end_line = f->end_line;
  d->is_async = f->is_async != 0;
  if (f->hash && strlen(f->hash) == HUD_SHA1_HEXLEN) memcpy(d->source_code_hash, f->hash, HUD_SHA1_HEXLEN + 1);
  *decl = d;
  return 0;
}

/* ACC's merged sketch as a blob in the arena (LEN 0: none). */
static int acc_blob(srv_store_read *q, srv_bins_acc *acc, srv_sketch_ref *out) {
  out->blob = NULL;
  out->len = 0;
  if (!acc->set) return 0;
  unsigned char *b;
  size_t len;
  int rc = srv_acc_encode(acc, &b, &len);
  if (rc < 0) return rc;
  unsigned char *c = hud_arena_alloc(q->arena, len ? len : 1);
  if (c) memcpy(c, b, len);
  free(b);
  if (!c) return HUD_ENOMEM;
  out->blob = c;
  out->len = len;
  return 0;
}

static int ch_fn_sketch(srv_store_read *q, int64_t fn, int64_t flow, srv_sketch_ref *out) {
  char in[24];
  snprintf(in, sizeof in, "%lld", (long long)fn);
  fig_set s = {.fns = calloc(1, sizeof(int64_t)), .acc = calloc(1, sizeof(q_fig)), .n = 1};
  int rc = s.fns && s.acc ? 0 : HUD_ENOMEM;
  if (rc == 0) {
    s.fns[0] = s.acc[0].fn = fn;
    rc = fig_sketches(q, in, flow, &s);
  }
  if (rc == 0) rc = acc_blob(q, &s.acc[0].sketch, out);
  if (!s.fns || !s.acc) s.n = 0;
  fig_set_free(&s);
  return rc;
}

static int ch_fn_sketches(srv_store_read *q, const int64_t *fns, size_t n, int64_t flow, srv_sketch_ref *out) {
  char *in = id_list(fns, n);
  fig_set s = {.fns = malloc((n ? n : 1) * sizeof(int64_t)), .acc = calloc(n ? n : 1, sizeof(q_fig)), .n = n};
  int rc = in && s.fns && s.acc ? 0 : HUD_ENOMEM;
  if (rc == 0) {
    memcpy(s.fns, fns, n * sizeof *fns);
    qsort(s.fns, n, sizeof *s.fns, i64_cmp);
    for (size_t i = 0; i < n; i++) s.acc[i].fn = s.fns[i];
    rc = fig_sketches(q, in, flow, &s);
  }
  for (size_t i = 0; rc == 0 && i < n; i++) rc = acc_blob(q, &fig_find(&s, fns[i])->sketch, &out[i]);
  free(in);
  if (!s.fns || !s.acc) s.n = 0;
  fig_set_free(&s);
  return rc;
}

/* Groups of fn_slices rows of FN keyed by KEY_EXPR (an Int64 expression): sums and merged sketches. */
typedef struct key_sums {
  int64_t key;
  srv_sums s;
  srv_bins_acc acc;
} key_sums;

static int key_sums_read(srv_store_read *q, int64_t fn, const char *key_expr, key_sums **out, size_t *n_out) {
  char sc[256];
  srv_ch_rows r, k;
  *out = NULL;
  *n_out = 0;
  int rc = sel(q,
               sqlf("SELECT %s AS k, sum(count), sum(errors), sum(sampled_count), sum(sum_duration),"
                    " sum(sum_squared_duration) FROM fn_slices WHERE %s AND fn = %lld GROUP BY k ORDER BY k",
                    key_expr, scope(q, sc), (long long)fn),
               6, &r);
  if (rc < 0) return rc;
  rc = sel(q, sqlf("SELECT %s AS k, sketch FROM fn_slices WHERE %s AND fn = %lld AND sketch != ''", key_expr, sc, (long long)fn),
           2, &k);
  key_sums *v = rc == 0 && r.rows ? calloc(r.rows, sizeof *v) : NULL;
  if (rc == 0 && r.rows && !v) rc = HUD_ENOMEM;
  for (size_t i = 0; rc == 0 && i < r.rows; i++)
    v[i] = (key_sums){.key = srv_ch_i64(&r, i, 0),
                      .s = {.count = srv_ch_i64(&r, i, 1), .errors = srv_ch_i64(&r, i, 2),
                            .sampled = srv_ch_i64(&r, i, 3), .sum = srv_ch_f64(&r, i, 4), .sumsq = srv_ch_f64(&r, i, 5)}};
  for (size_t i = 0; rc == 0 && i < k.rows; i++) {
    int64_t key = srv_ch_i64(&k, i, 0);
    key_sums *e = r.rows ? bsearch(&key, v, r.rows, sizeof *v, i64_cmp) : NULL; /* key first: sorted by key */
    if (e && srv_acc_add_blob(&e->acc, k.cells[i * 2 + 1], k.lens[i * 2 + 1]) < 0) rc = HUD_ESTORE;
  }
  for (size_t i = 0; rc == 0 && i < r.rows; i++) rc = acc_blob(q, &v[i].acc, &v[i].s.sketch);
  size_t n = r.rows;
  srv_ch_rows_free(&r);
  if (k.text) srv_ch_rows_free(&k);
  for (size_t i = 0; v && i < n; i++) srv_acc_free(&v[i].acc);
  if (rc < 0) {
    free(v);
    return rc;
  }
  *out = v;
  *n_out = n;
  return 0;
}

static int ch_fn_series(srv_store_read *q, int64_t fn, int64_t bucket_s, srv_series_row **rows, size_t *n_rows) {
  *rows = NULL;
  *n_rows = 0;
  char expr[96];
  snprintf(expr, sizeof expr, "intDiv(slice - %lld, %lld)", (long long)q->from_s, (long long)(bucket_s > 0 ? bucket_s : 60));
  key_sums *v;
  size_t n;
  int rc = key_sums_read(q, fn, expr, &v, &n);
  if (rc < 0) return rc;
  if (n && !(*rows = hud_arena_calloc(q->arena, n, sizeof **rows))) rc = HUD_ENOMEM;
  for (size_t i = 0; rc == 0 && i < n; i++) (*rows)[i] = (srv_series_row){q->from_s + v[i].key * bucket_s, v[i].s};
  if (rc == 0) *n_rows = n;
  free(v);
  return rc;
}

static int ch_fn_versions(srv_store_read *q, int64_t fn, srv_version_row **rows, size_t *n_rows) {
  *rows = NULL;
  *n_rows = 0;
  key_sums *v;
  size_t n;
  int rc = key_sums_read(q, fn, "version_id", &v, &n);
  if (rc < 0) return rc;
  ch_ver *vers;
  size_t nv;
  if ((rc = vers_load(q, q->service_id, &vers, &nv)) == 0 && n &&
      !(*rows = hud_arena_calloc(q->arena, n, sizeof **rows)))
    rc = HUD_ENOMEM;
  for (size_t k = 0; rc == 0 && k < nv; k++) /* newest version first */
    for (size_t i = 0; i < n; i++)
      if (v[i].key == vers[k].id)
        (*rows)[(*n_rows)++] = (srv_version_row){vers[k].name, vers[k].first, vers[k].last, v[i].s};
  free(v);
  return rc;
}

static int ch_fn_errors_by_type(srv_store_read *q, int64_t fn, hud_count_map *m) {
  char sc[256];
  srv_ch_rows r;
  int rc = sel(q,
               sqlf("SELECT type, sum(count) AS c FROM fn_errors WHERE %s AND fn = %lld GROUP BY type ORDER BY c DESC, type",
                    scope(q, sc), (long long)fn),
               2, &r);
  if (rc < 0) return rc;
  size_t cap = 0;
  for (size_t i = 0; rc == 0 && i < r.rows; i++) {
    if ((rc = grow(q, (void **)&m->items, &cap, m->n, sizeof *m->items)) < 0) break;
    m->items[m->n].key = adup(q, srv_ch_cell(&r, i, 0));
    m->items[m->n].count = srv_ch_i64(&r, i, 1);
    m->n++;
  }
  srv_ch_rows_free(&r);
  return rc;
}

/* ---- call graph ---- */

/* store_reads.h's order of peers: calls descending; callers by module, line, uuid; callees by
 * call-site line, uuid (the order a reader scans the source in). */
static int peer_calls_cmp(const hud_call_peer *x, const hud_call_peer *y) {
  return x->calls != y->calls ? (x->calls > y->calls ? -1 : 1) : 0;
}

static int peer_line_cmp(const hud_call_peer *x, const hud_call_peer *y) {
  return x->line < y->line ? -1 : x->line > y->line;
}

static int caller_cmp(const void *a, const void *b) {
  const hud_call_peer *x = &((const srv_peer_row *)a)->peer, *y = &((const srv_peer_row *)b)->peer;
  int c = peer_calls_cmp(x, y);
  if (!c) c = strcmp(x->module_path ? x->module_path : "", y->module_path ? y->module_path : "");
  if (!c) c = peer_line_cmp(x, y);
  return c ? c : strcmp(x->function_id, y->function_id);
}

static int callee_cmp(const void *a, const void *b) {
  const hud_call_peer *x = &((const srv_peer_row *)a)->peer, *y = &((const srv_peer_row *)b)->peer;
  int c = peer_calls_cmp(x, y);
  if (!c) c = peer_line_cmp(x, y);
  return c ? c : strcmp(x->function_id, y->function_id);
}

static int ch_fn_peers(srv_store_read *q, int64_t fn, bool callers, srv_peer_row **out, size_t *n_out) {
  *out = NULL;
  *n_out = 0;
  char sc[256];
  srv_ch_rows r;
  int rc = sel(q,
               /* Callers from calls_by_flow (the same rows): its key finds one callee's rows, calls' does not. */
               callers ? sqlf("SELECT caller, caller_module, call_line, sum(count) AS c, sum(errors), sum(sampled_count),"
                              " sum(sum_duration) FROM calls_by_flow WHERE %s AND fn = %lld"
                              " GROUP BY caller, caller_module, call_line"
                              " ORDER BY c DESC, caller, caller_module, call_line",
                              scope(q, sc), (long long)fn)
                       : sqlf("SELECT fn, '', call_line, sum(count) AS c, sum(errors), sum(sampled_count),"
                              " sum(sum_duration) FROM calls WHERE %s AND caller = %lld GROUP BY fn, call_line"
                              " ORDER BY c DESC, fn, call_line",
                              scope(q, sc), (long long)fn),
               7, &r);
  if (rc < 0) return rc;
  ch_fn *fv = NULL;
  size_t nf = 0;
  rc = fns_all(q, &fv, &nf);
  srv_peer_row *v = r.rows ? hud_arena_calloc(q->arena, r.rows, sizeof *v) : NULL;
  if (rc == 0 && r.rows && !v) rc = HUD_ENOMEM;
  size_t n = 0;
  for (size_t i = 0; rc == 0 && i < r.rows; i++) {
    const ch_fn *f = fn_find(fv, nf, srv_ch_i64(&r, i, 0));
    if (!callers && !f) continue; /* a callee always has its functions row (inner join) */
    hud_call_peer *p = &v[n].peer;
    v[n++].sampled = srv_ch_i64(&r, i, 5);
    uuid_copy(p->function_id, f ? f->uuid : "");
    p->name = f ? f->name : NULL;
    p->module_path = f && f->module_path ? f->module_path : callers ? adup_nz(q, srv_ch_cell(&r, i, 1)) : NULL;
    p->line = (int)srv_ch_i64(&r, i, 2);
    p->calls = srv_ch_i64(&r, i, 3);
    p->errors = srv_ch_i64(&r, i, 4);
    p->sum_duration = srv_ch_i64(&r, i, 6);
  }
  srv_ch_rows_free(&r);
  if (rc == 0 && n) qsort(v, n, sizeof *v, callers ? caller_cmp : callee_cmp);
  *out = v;
  *n_out = n;
  return rc;
}

static int ch_callees(srv_store_read *q, int64_t caller, srv_call_edge **out, size_t *n_out) {
  *out = NULL;
  *n_out = 0;
  char sc[256];
  srv_ch_rows r;
  int rc = sel(q,
               sqlf("SELECT fn, call_line, sum(count), sum(sum_duration) AS d FROM calls WHERE %s AND caller = %lld"
                    " GROUP BY fn, call_line ORDER BY d DESC, fn, call_line",
                    scope(q, sc), (long long)caller),
               4, &r);
  if (rc < 0) return rc;
  srv_call_edge *v = r.rows ? hud_arena_calloc(q->arena, r.rows, sizeof *v) : NULL;
  if (r.rows && !v) rc = HUD_ENOMEM;
  for (size_t i = 0; rc == 0 && i < r.rows; i++)
    v[i] = (srv_call_edge){srv_ch_i64(&r, i, 0), (int)srv_ch_i64(&r, i, 1), srv_ch_i64(&r, i, 2), srv_ch_i64(&r, i, 3)};
  if (rc == 0) {
    *out = v;
    *n_out = r.rows;
  }
  srv_ch_rows_free(&r);
  return rc;
}

static int ch_graph_node(srv_store_read *q, int64_t fn, hud_graph_node *nd) {
  ch_fn *all;
  size_t n;
  int rc = fns_all(q, &all, &n);
  if (rc < 0) return rc;
  const ch_fn *f = fn_find(all, n, fn);
  if (!f) return HUD_ESTORE; /* every stored id has its functions rows */
  char sc[256];
  srv_ch_rows r;
  rc = sel(q,
           sqlf("SELECT sum(count), sum(errors), sum(sum_duration), sum(self_duration) FROM fn_slices WHERE %s AND fn = %lld",
                scope(q, sc), (long long)fn),
           4, &r);
  if (rc < 0) return rc;
  uuid_copy(nd->function_id, f->uuid);
  nd->name = f->name;
  nd->module_path = f->module_path;
  nd->calls = r.rows ? srv_ch_i64(&r, 0, 0) : 0;
  nd->errors = r.rows ? srv_ch_i64(&r, 0, 1) : 0;
  nd->sum_duration = r.rows ? srv_ch_i64(&r, 0, 2) : 0;
  nd->self_duration = r.rows ? srv_ch_i64(&r, 0, 3) : 0;
  srv_ch_rows_free(&r);
  return 0;
}

/* First row of R (sorted by column 0) whose column 0 is KEY, or R->rows when none. */
static size_t rows_first(const srv_ch_rows *r, int64_t key) {
  size_t lo = 0, hi = r->rows;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (srv_ch_i64(r, mid, 0) < key) lo = mid + 1;
    else hi = mid;
  }
  return lo < r->rows && srv_ch_i64(r, lo, 0) == key ? lo : r->rows;
}

/* A call-graph level's callees in one statement: per caller in ch_callees' order. */
static int ch_callees_of(srv_store_read *q, const int64_t *callers, size_t n, srv_call_edge **out, size_t *ns) {
  *out = NULL;
  memset(ns, 0, n * sizeof *ns);
  char sc[256], *in = id_list(callers, n);
  if (!in) return HUD_ENOMEM;
  srv_ch_rows r;
  int rc = sel(q,
               sqlf("SELECT caller, fn, call_line, sum(count), sum(sum_duration) AS d FROM calls WHERE %s"
                    " AND caller IN (%s)"
                    " GROUP BY caller, fn, call_line ORDER BY caller, d DESC, fn, call_line",
                    scope(q, sc), in),
               5, &r);
  free(in);
  if (rc < 0) return rc;
  srv_call_edge *v = hud_arena_calloc(q->arena, r.rows ? r.rows : 1, sizeof *v);
  if (!v) rc = HUD_ENOMEM;
  size_t k = 0;
  for (size_t i = 0; rc == 0 && i < n; i++)
    for (size_t j = rows_first(&r, callers[i]); j < r.rows && srv_ch_i64(&r, j, 0) == callers[i] && k < r.rows; j++) {
      v[k++] = (srv_call_edge){srv_ch_i64(&r, j, 1), (int)srv_ch_i64(&r, j, 2), srv_ch_i64(&r, j, 3),
                               srv_ch_i64(&r, j, 4)};
      ns[i]++;
    }
  if (rc == 0) *out = v;
  srv_ch_rows_free(&r);
  return rc;
}

/* Every node of a call graph in one statement (ch_graph_node's answers). */
static int ch_graph_nodes(srv_store_read *q, const int64_t *fns, size_t n, hud_graph_node *out) {
  ch_fn *all;
  size_t na;
  int rc = fns_all(q, &all, &na);
  if (rc < 0) return rc;
  char sc[256], *in = id_list(fns, n);
  if (!in) return HUD_ENOMEM;
  srv_ch_rows r;
  rc = sel(q,
           sqlf("SELECT fn, sum(count), sum(errors), sum(sum_duration), sum(self_duration) FROM fn_slices WHERE %s"
                " AND fn IN (%s) GROUP BY fn ORDER BY fn",
                scope(q, sc), in),
           5, &r);
  free(in);
  if (rc < 0) return rc;
  for (size_t i = 0; rc == 0 && i < n; i++) {
    const ch_fn *f = fn_find(all, na, fns[i]);
    if (!f) {
      rc = HUD_ESTORE; /* every stored id has its functions rows */
      break;
    }
    hud_graph_node *nd = &out[i];
    size_t j = rows_first(&r, fns[i]);
    uuid_copy(nd->function_id, f->uuid);
    nd->name = f->name;
    nd->module_path = f->module_path;
    nd->calls = j < r.rows ? srv_ch_i64(&r, j, 1) : 0;
    nd->errors = j < r.rows ? srv_ch_i64(&r, j, 2) : 0;
    nd->sum_duration = j < r.rows ? srv_ch_i64(&r, j, 3) : 0;
    nd->self_duration = j < r.rows ? srv_ch_i64(&r, j, 4) : 0;
  }
  srv_ch_rows_free(&r);
  return rc;
}

static int ch_exception_paths(srv_store_read *q, srv_exc_path **out, size_t *n_out) {
  *out = NULL;
  *n_out = 0;
  char sc[256];
  srv_ch_rows r;
  int rc = sel(q,
               sqlf("SELECT type, origin_fn, path, caught_fn, sum(count) FROM exception_flows WHERE %s"
                    " GROUP BY type, origin_fn, path, caught_fn ORDER BY type, origin_fn, path, caught_fn",
                    scope(q, sc)),
               5, &r);
  if (rc < 0) return rc;
  srv_exc_path *v = r.rows ? hud_arena_calloc(q->arena, r.rows, sizeof *v) : NULL;
  if (r.rows && !v) rc = HUD_ENOMEM;
  for (size_t i = 0; rc == 0 && i < r.rows; i++) {
    srv_exc_path *x = &v[i];
    x->type = srv_ch_cell(&r, i, 0) ? adup(q, srv_ch_cell(&r, i, 0)) : "";
    x->origin = srv_ch_i64(&r, i, 1);
    rc = srv_exc_path_ids(q->arena, srv_ch_cell(&r, i, 2) ? srv_ch_cell(&r, i, 2) : "", &x->through, &x->n_through);
    x->caught = srv_ch_i64(&r, i, 3);
    x->count = srv_ch_i64(&r, i, 4);
  }
  if (rc == 0) {
    *out = v;
    *n_out = r.rows;
  }
  srv_ch_rows_free(&r);
  return rc;
}

/* One flow of the window: its details, sums and merged sketch. */
typedef struct ch_flow {
  int64_t id;
  hud_flow_summary f;
  srv_sums s;
  srv_bins_acc acc;
} ch_flow;

static int flow_cmp(const void *a, const void *b) { /* by calls descending, then uuid */
  const ch_flow *x = a, *y = b;
  if (x->s.count != y->s.count) return x->s.count > y->s.count ? -1 : 1;
  return strcmp(x->f.flow_id, y->f.flow_id);
}

static int flow_fn_cmp(const void *a, const void *b) { /* by total time descending, then uuid */
  const hud_flow_function_stats *x = a, *y = b;
  if (x->sum_duration != y->sum_duration) return x->sum_duration > y->sum_duration ? -1 : 1;
  return strcmp(x->function_id, y->function_id);
}

/* The flows of the window with their details (flows without a details row are left out). */
static int flows_of_window(srv_store_read *q, ch_flow **out, size_t *n_out) {
  char sc[256];
  srv_ch_rows r, d;
  *out = NULL;
  *n_out = 0;
  int rc = sel(q,
               sqlf("SELECT flow, sum(count), sum(errors), sum(sampled_count), sum(sum_duration),"
                    " sum(sum_squared_duration) FROM flow_slices WHERE %s GROUP BY flow",
                    scope(q, sc)),
               6, &r);
  if (rc < 0) return rc;
  rc = sel(q,
           sqlf("SELECT id, any(flow_id), countIf(kind != 'unknown'), argMinIf(kind, first_seen, kind != 'unknown'),"
                " argMinIf(method, first_seen, kind != 'unknown'), argMinIf(route, first_seen, kind != 'unknown'),"
                " argMinIf(task_name, first_seen, kind != 'unknown'), argMinIf(queue, first_seen, kind != 'unknown')"
                " FROM flows WHERE service_id = %lld GROUP BY id",
                (long long)q->service_id),
           8, &d);
  ch_flow *v = rc == 0 && r.rows ? calloc(r.rows, sizeof *v) : NULL;
  if (rc == 0 && r.rows && !v) rc = HUD_ENOMEM;
  size_t n = 0;
  for (size_t i = 0; rc == 0 && i < r.rows; i++) {
    int64_t id = srv_ch_i64(&r, i, 0);
    size_t k = 0;
    while (k < d.rows && srv_ch_i64(&d, k, 0) != id) k++;
    if (k == d.rows) continue;
    ch_flow *e = &v[n++];
    e->id = id;
    uuid_copy(e->f.flow_id, srv_ch_cell(&d, k, 1));
    int known = srv_ch_i64(&d, k, 2) > 0;
    const char *kind = known ? srv_ch_cell(&d, k, 3) : "unknown";
    e->f.kind = kind && strcmp(kind, "consumer") == 0 ? HUD_FLOW_QUEUE_CONSUMER : HUD_FLOW_ENDPOINT;
    e->f.method = known ? adup(q, srv_ch_cell(&d, k, 4)) : NULL;
    e->f.route = known ? adup(q, srv_ch_cell(&d, k, 5)) : NULL;
    e->f.task_name = known ? adup(q, srv_ch_cell(&d, k, 6)) : NULL;
    e->f.queue = known ? adup(q, srv_ch_cell(&d, k, 7)) : NULL;
    e->s = (srv_sums){.count = srv_ch_i64(&r, i, 1), .errors = srv_ch_i64(&r, i, 2), .sampled = srv_ch_i64(&r, i, 3),
                      .sum = srv_ch_f64(&r, i, 4), .sumsq = srv_ch_f64(&r, i, 5)};
  }
  srv_ch_rows_free(&r);
  if (d.text) srv_ch_rows_free(&d);
  if (rc < 0) {
    free(v);
    return rc;
  }
  if (n) qsort(v, n, sizeof *v, flow_cmp);
  *out = v;
  *n_out = n;
  return 0;
}

static ch_flow *flow_find(ch_flow *v, size_t n, int64_t id) {
  for (size_t i = 0; i < n; i++)
    if (v[i].id == id) return &v[i];
  return NULL;
}

/* Status codes, sketches and functions of the first N flows of V. */
static int flows_detail(srv_store_read *q, ch_flow *v, size_t n) {
  char sc[256];
  srv_ch_rows k, st, fx;
  int rc = sel(q, sqlf("SELECT flow, sketch FROM flow_slices WHERE %s AND sketch != ''", scope(q, sc)), 2, &k);
  if (rc < 0) return rc;
  for (size_t i = 0; rc == 0 && i < k.rows; i++) {
    ch_flow *e = flow_find(v, n, srv_ch_i64(&k, i, 0));
    if (e && srv_acc_add_blob(&e->acc, k.cells[i * 2 + 1], k.lens[i * 2 + 1]) < 0) rc = HUD_ESTORE;
  }
  srv_ch_rows_free(&k);
  for (size_t i = 0; rc == 0 && i < n; i++) rc = acc_blob(q, &v[i].acc, &v[i].s.sketch);
  if (rc < 0) return rc;
  rc = sel(q,
           sqlf("SELECT flow, status, sum(count) FROM flow_status WHERE %s GROUP BY flow, status ORDER BY flow, status", sc),
           3, &st);
  if (rc < 0) return rc;
  for (size_t i = 0; rc == 0 && i < st.rows; i++) {
    ch_flow *e = flow_find(v, n, srv_ch_i64(&st, i, 0));
    if (!e) continue;
    size_t cap = e->f.n_status_codes;
    if ((rc = grow(q, (void **)&e->f.status_codes, &cap, e->f.n_status_codes, sizeof *e->f.status_codes)) < 0) break;
    /* The capacity is not kept: each code copies the array (a flow has a handful of codes). */
    e->f.status_codes[e->f.n_status_codes++] = (hud_status_count){(int32_t)srv_ch_i64(&st, i, 1), srv_ch_i64(&st, i, 2)};
  }
  srv_ch_rows_free(&st);
  if (rc < 0) return rc;
  rc = sel(q,
           sqlf("SELECT flow, fn, sum(count), sum(errors), sum(sum_duration), sum(self_duration) FROM flow_functions"
                " WHERE %s GROUP BY flow, fn",
                sc),
           6, &fx);
  if (rc < 0) return rc;
  ch_fn *fns;
  size_t nf;
  rc = fns_all(q, &fns, &nf);
  for (size_t j = 0; rc == 0 && j < n; j++) {
    ch_flow *e = &v[j];
    size_t cnt = 0;
    for (size_t i = 0; i < fx.rows; i++) cnt += srv_ch_i64(&fx, i, 0) == e->id;
    if (!cnt) continue;
    hud_flow_function_stats *fs = hud_arena_calloc(q->arena, cnt, sizeof *fs);
    if (!fs) {
      rc = HUD_ENOMEM;
      break;
    }
    size_t m = 0;
    for (size_t i = 0; i < fx.rows; i++) {
      if (srv_ch_i64(&fx, i, 0) != e->id) continue;
      const ch_fn *f = fn_find(fns, nf, srv_ch_i64(&fx, i, 1));
      if (!f) continue; /* a join with functions, as the SQLite engine's */
      fs[m++] = (hud_flow_function_stats){.name = f->name, .module_path = f->module_path,
                                          .calls = srv_ch_i64(&fx, i, 2), .errors = srv_ch_i64(&fx, i, 3),
                                          .sum_duration = srv_ch_i64(&fx, i, 4), .self_duration = srv_ch_i64(&fx, i, 5)};
      uuid_copy(fs[m - 1].function_id, f->uuid);
    }
    qsort(fs, m, sizeof *fs, flow_fn_cmp);
    e->f.functions = fs;
    e->f.n_functions = m < 100 ? m : 100;
  }
  srv_ch_rows_free(&fx);
  return rc;
}

static int ch_flows(srv_store_read *q, int limit, hud_flows_response *out, srv_sums **sums) {
  memset(out, 0, sizeof *out);
  *sums = NULL;
  ch_flow *v;
  size_t n;
  int rc = flows_of_window(q, &v, &n);
  if (rc < 0) return rc;
  if (limit >= 0 && n > (size_t)limit) n = (size_t)limit;
  rc = flows_detail(q, v, n);
  if (rc == 0 && n) {
    out->flows = hud_arena_calloc(q->arena, n, sizeof *out->flows);
    *sums = hud_arena_calloc(q->arena, n, sizeof **sums);
    if (!out->flows || !*sums) rc = HUD_ENOMEM;
  }
  for (size_t i = 0; rc == 0 && i < n; i++) {
    out->flows[i] = v[i].f;
    (*sums)[i] = v[i].s;
  }
  if (rc == 0) out->n_flows = n;
  for (size_t i = 0; v && i < n; i++) srv_acc_free(&v[i].acc);
  free(v);
  return rc;
}

static void fn_ref(const ch_fn *v, size_t n, int64_t id, hud_function_ref *out) {
  const ch_fn *f = fn_find(v, n, id);
  memset(out, 0, sizeof *out);
  uuid_copy(out->function_id, f ? f->uuid : "");
  out->name = f ? f->name : NULL;
  out->module_path = f ? f->module_path : NULL;
}

static int ch_exception_flows(srv_store_read *q, int64_t fn, int64_t flow, int limit, hud_exception_flows_response *out) {
  memset(out, 0, sizeof *out);
  char sc[256], flt[256] = "";
  int k = 0;
  if (flow) k = snprintf(flt, sizeof flt, " AND flow = %lld", (long long)flow);
  if (fn)
    snprintf(flt + k, sizeof flt - (size_t)k,
             " AND (origin_fn = %lld OR caught_fn = %lld OR has(splitByChar(' ', path), '%lld'))", (long long)fn,
             (long long)fn, (long long)fn);
  srv_ch_rows r;
  int rc = sel(q,
               sqlf("SELECT type, origin_fn, path, caught_fn, sum(count) FROM exception_flows WHERE %s%s"
                    " GROUP BY type, origin_fn, path, caught_fn",
                    scope(q, sc), flt),
               5, &r);
  if (rc < 0) return rc;
  ch_fn *fns;
  size_t nf;
  rc = fns_all(q, &fns, &nf);
  hud_exception_flow_summary *v = rc == 0 && r.rows ? hud_arena_calloc(q->arena, r.rows, sizeof *v) : NULL;
  if (rc == 0 && r.rows && !v) rc = HUD_ENOMEM;
  for (size_t i = 0; rc == 0 && i < r.rows; i++) {
    hud_exception_flow_summary *x = &v[i];
    const char *type = srv_ch_cell(&r, i, 0);
    x->exception_type = type && *type ? adup(q, type) : "unknown";
    x->count = srv_ch_i64(&r, i, 4);
    fn_ref(fns, nf, srv_ch_i64(&r, i, 1), &x->origin);
    int64_t *ids;
    size_t n;
    if ((rc = srv_exc_path_ids(q->arena, srv_ch_cell(&r, i, 2) ? srv_ch_cell(&r, i, 2) : "", &ids, &n)) < 0) break;
    x->propagated_through = hud_arena_calloc(q->arena, n ? n : 1, sizeof *x->propagated_through);
    if (!x->propagated_through || !x->exception_type) {
      rc = HUD_ENOMEM;
      break;
    }
    for (size_t j = 0; j < n; j++) fn_ref(fns, nf, ids[j], &x->propagated_through[j]);
    x->n_propagated = n;
    int64_t caught = srv_ch_i64(&r, i, 3);
    x->escaped = caught == 0;
    if (caught) {
      if (!(x->caught_in = hud_arena_calloc(q->arena, 1, sizeof *x->caught_in))) {
        rc = HUD_ENOMEM;
        break;
      }
      fn_ref(fns, nf, caught, x->caught_in);
    }
  }
  if (rc == 0) {
    out->flows = v;
    out->n_flows = r.rows;
    q_exception_flows_order(out, limit);
  }
  srv_ch_rows_free(&r);
  return rc;
}

/* ---- stored issues ---- */

static const char *const k_filters[] = {"active", "open", "acknowledged", "muted", "resolved", "all"};

static int issue_row(const srv_ch_rows *r, size_t i, int findings, hud_arena *a, srv_issue_row *o) {
  memset(o, 0, sizeof *o);
#define S(c) (srv_ch_cell(r, i, c) ? hud_arena_strdup(a, srv_ch_cell(r, i, c)) : NULL)
  uuid_copy(o->issue_id, srv_ch_cell(r, i, 0));
  o->kind = S(1);
  o->function_id = S(2);
  o->flow_id = S(3);
  o->exception_type = S(4);
  o->comparison = S(5);
  o->status = S(6);
  o->first_seen = srv_ch_i64(r, i, 7);
  o->last_seen = srv_ch_i64(r, i, 8);
  o->status_changed_at = srv_ch_i64(r, i, 9);
  o->times_reopened = (int32_t)srv_ch_i64(r, i, 10);
  o->base_label = S(11);
  o->cand_label = S(12);
  o->payload = S(13);
  o->found_since = srv_ch_i64(r, i, 14);
  o->alerted_at = srv_ch_i64(r, i, 15);
  o->alert_pending = S(16);
  o->cand_version = S(17);
  o->alerted_version = S(18);
#undef S
  const char *fb = srv_ch_cell(r, i, 19);
  if (findings && fb) {
    size_t len = r->lens[i * r->cols + 19];
    void *b = hud_arena_alloc(a, len ? len : 1);
    if (!b) return HUD_ENOMEM;
    memcpy(b, fb, len);
    o->finding = b;
    o->finding_len = len;
  }
  return o->kind && o->status && o->payload && o->comparison ? 0 : HUD_ENOMEM;
}

int srv_ch_issue_get(srv_store *st, int64_t sid, const char *issue_id, hud_arena *a, srv_issue_row *out) {
  hud_buf b = {0};
  char head[512];
  snprintf(head, sizeof head, "SELECT " SRV_CH_ISSUE_COLS " FROM issues FINAL WHERE service_id = %lld AND issue_id = ",
           (long long)sid);
  hud_buf_puts(&b, head);
  srv_ch_sql_str(&b, issue_id);
  char *sql = hud_buf_take(&b, NULL);
  if (!sql) return HUD_ENOMEM;
  srv_ch_rows r;
  int rc = srv_chs_select(st, sql, 20, &r);
  free(sql);
  if (rc < 0) return rc;
  rc = r.rows ? issue_row(&r, 0, 1, a, out) : HUD_ENOTFOUND;
  srv_ch_rows_free(&r);
  return rc;
}

static int ch_issues_list(srv_store_read *q, int64_t sid, srv_issue_filter f, int limit, int findings,
                          srv_issue_row **rows, size_t *n) {
  *rows = NULL;
  *n = 0;
  char where[200] = "";
  if (f == SRV_ISSUES_ACTIVE) snprintf(where, sizeof where, " AND status IN ('open', 'acknowledged')");
  else if (f != SRV_ISSUES_ALL) snprintf(where, sizeof where, " AND status = '%s'", k_filters[f]);
  char lim[40] = "";
  if (limit > 0) snprintf(lim, sizeof lim, " LIMIT %d", limit);
  srv_ch_rows r;
  int rc = sel(q,
               sqlf("SELECT " SRV_CH_ISSUE_COLS " FROM issues FINAL WHERE service_id = %lld%s"
                    " ORDER BY last_seen DESC, kind, issue_id%s",
                    (long long)sid, where, lim),
               20, &r);
  if (rc < 0) return rc;
  srv_issue_row *v = r.rows ? hud_arena_calloc(q->arena, r.rows, sizeof *v) : NULL;
  if (r.rows && !v) rc = HUD_ENOMEM;
  for (size_t i = 0; rc == 0 && i < r.rows; i++) rc = issue_row(&r, i, findings, q->arena, &v[i]);
  if (rc == 0) {
    *rows = v;
    *n = r.rows;
  }
  srv_ch_rows_free(&r);
  return rc;
}

static int ch_issue_get(srv_store_read *q, int64_t sid, const char *issue_id, srv_issue_row *out) {
  return srv_ch_issue_get(q->st, sid, issue_id, q->arena, out);
}

static int ch_issue_events(srv_store_read *q, const char *issue_id, srv_issue_event_row **ev, size_t *n) {
  *ev = NULL;
  *n = 0;
  hud_buf b = {0};
  hud_buf_puts(&b, "SELECT at, event, note FROM issue_events WHERE issue_id = ");
  srv_ch_sql_str(&b, issue_id);
  hud_buf_puts(&b, " ORDER BY seq");
  srv_ch_rows r;
  int rc = sel(q, hud_buf_take(&b, NULL), 3, &r);
  if (rc < 0) return rc;
  srv_issue_event_row *v = r.rows ? hud_arena_calloc(q->arena, r.rows, sizeof *v) : NULL;
  if (r.rows && !v) rc = HUD_ENOMEM;
  for (size_t i = 0; rc == 0 && i < r.rows; i++) {
    v[i] = (srv_issue_event_row){srv_ch_i64(&r, i, 0), adup(q, srv_ch_cell(&r, i, 1)), adup(q, srv_ch_cell(&r, i, 2))};
    if (!v[i].event) rc = HUD_ENOMEM;
  }
  if (rc == 0) {
    *ev = v;
    *n = r.rows;
  }
  srv_ch_rows_free(&r);
  return rc;
}

/* ---- detection inputs ---- */

/* uuid of every flow of the service, sorted by id (ch_fn with uuid only). */
static int flows_load(srv_store_read *q, ch_fn **out, size_t *n_out) {
  srv_ch_rows r;
  *out = NULL;
  *n_out = 0;
  int rc = sel(q, sqlf("SELECT id, any(flow_id) FROM flows WHERE service_id = %lld GROUP BY id", (long long)q->service_id),
               2, &r);
  if (rc < 0) return rc;
  ch_fn *v = r.rows ? hud_arena_calloc(q->arena, r.rows, sizeof *v) : NULL;
  if (r.rows && !v) rc = HUD_ENOMEM;
  for (size_t i = 0; rc == 0 && i < r.rows; i++) {
    v[i].id = srv_ch_i64(&r, i, 0);
    if (!(v[i].uuid = adup(q, srv_ch_cell(&r, i, 1)))) rc = HUD_ENOMEM;
  }
  size_t n = r.rows;
  srv_ch_rows_free(&r);
  if (rc < 0) return rc;
  if (n) qsort(v, n, sizeof *v, fn_cmp);
  *out = v;
  *n_out = n;
  return 0;
}

static const char *uuid_of(const ch_fn *v, size_t n, int64_t id) {
  const ch_fn *f = id ? fn_find(v, n, id) : NULL;
  return f ? f->uuid : NULL;
}

static int ch_det_snapshot(srv_store_read *q, int64_t version_id, int64_t from_s, int64_t to_s, const char *label,
                           srv_det_snapshot *out) {
  memset(out, 0, sizeof *out);
  out->label = label;
  out->from_ms = from_s * 1000;
  out->to_ms = to_s * 1000;
  ch_fn *fns, *flows;
  size_t nf, nfl;
  int rc = fns_all(q, &fns, &nf);
  if (rc == 0) rc = flows_load(q, &flows, &nfl);
  if (rc < 0) return rc;
  char sc[256];
  int n = snprintf(sc, sizeof sc, "service_id = %lld AND slice >= %lld AND slice < %lld", (long long)q->service_id,
                   (long long)from_s, (long long)to_s);
  if (version_id) snprintf(sc + n, sizeof sc - (size_t)n, " AND version_id = %lld", (long long)version_id);
  srv_ch_rows c, f, x;
  rc = sel(q,
           sqlf("SELECT flow, fn, caller, sum(count), sum(sampled_count), sum(sum_duration), sum(sum_squared_duration),"
                " sum(self_duration), sum(errors) FROM calls WHERE %s GROUP BY flow, fn, caller ORDER BY flow, fn, caller",
                sc),
           9, &c);
  if (rc < 0) return rc;
  rc = sel(q,
           sqlf("SELECT flow, sum(count), sum(sampled_count), sum(sum_duration), sum(sum_squared_duration), sum(errors)"
                " FROM flow_slices WHERE %s GROUP BY flow ORDER BY flow",
                sc),
           6, &f);
  if (rc == 0)
    rc = sel(q,
             sqlf("SELECT flow, type, origin_fn, path, caught_fn, sum(count) FROM exception_flows WHERE %s"
                  " GROUP BY flow, type, origin_fn, path, caught_fn ORDER BY flow, type, origin_fn, path, caught_fn",
                  sc),
             6, &x);
  srv_det_call *calls = c.rows ? hud_arena_calloc(q->arena, c.rows, sizeof *calls) : NULL;
  for (size_t i = 0; rc == 0 && calls && i < c.rows; i++) {
    const char *fn = uuid_of(fns, nf, srv_ch_i64(&c, i, 1));
    if (!fn) continue;
    srv_det_call *k = &calls[out->n_calls++];
    k->flow_id = uuid_of(flows, nfl, srv_ch_i64(&c, i, 0));
    k->function_id = fn;
    k->caller_id = uuid_of(fns, nf, srv_ch_i64(&c, i, 2));
    k->st = (srv_det_stats){(uint64_t)srv_ch_i64(&c, i, 3), (uint64_t)srv_ch_i64(&c, i, 4), srv_ch_f64(&c, i, 5),
                            srv_ch_f64(&c, i, 6), srv_ch_f64(&c, i, 7), (uint64_t)srv_ch_i64(&c, i, 8)};
  }
  out->calls = calls;
  srv_det_flow *fl = rc == 0 && f.rows ? hud_arena_calloc(q->arena, f.rows, sizeof *fl) : NULL;
  for (size_t i = 0; fl && i < f.rows; i++) {
    const char *id = uuid_of(flows, nfl, srv_ch_i64(&f, i, 0));
    if (!id) continue;
    srv_det_flow *e = &fl[out->n_flows++];
    e->flow_id = id;
    e->st = (srv_det_stats){.count = (uint64_t)srv_ch_i64(&f, i, 1), .sampled_count = (uint64_t)srv_ch_i64(&f, i, 2),
                            .sum_ns = srv_ch_f64(&f, i, 3), .sumsq_ns = srv_ch_f64(&f, i, 4),
                            .errors = (uint64_t)srv_ch_i64(&f, i, 5)};
  }
  out->flows = fl;
  srv_det_exc *xe = rc == 0 && x.rows ? hud_arena_calloc(q->arena, x.rows, sizeof *xe) : NULL;
  for (size_t i = 0; rc == 0 && xe && i < x.rows; i++) {
    const char *origin = uuid_of(fns, nf, srv_ch_i64(&x, i, 2));
    if (!origin) continue;
    srv_det_exc *e = &xe[out->n_excs++];
    e->flow_id = uuid_of(flows, nfl, srv_ch_i64(&x, i, 0));
    e->type = srv_ch_cell(&x, i, 1) ? adup(q, srv_ch_cell(&x, i, 1)) : "";
    e->origin_id = origin;
    e->caught_in = uuid_of(fns, nf, srv_ch_i64(&x, i, 4));
    e->count = (uint64_t)srv_ch_i64(&x, i, 5);
    const char *path = srv_ch_cell(&x, i, 3);
    int64_t *ids;
    size_t np;
    if ((rc = srv_exc_path_ids(q->arena, path ? path : "", &ids, &np)) < 0) break;
    const char **th = hud_arena_calloc(q->arena, np ? np : 1, sizeof *th);
    if (!th || !e->type) {
      rc = HUD_ENOMEM;
      break;
    }
    size_t k = 0;
    for (size_t j = 0; j < np; j++) {
      const char *u = uuid_of(fns, nf, ids[j]);
      if (u) th[k++] = u;
    }
    e->through = th;
    e->n_through = k;
  }
  out->excs = xe;
  srv_ch_rows_free(&c);
  if (f.text) srv_ch_rows_free(&f);
  if (x.text) srv_ch_rows_free(&x);
  return rc;
}

static int ch_det_snapshots(srv_store_read *q, const srv_read_side *sides, size_t n, srv_det_snapshot *outs) {
  if (n == 0 || n > SRV_READ_MAX_SIDES) return HUD_EINVAL;
  int rc = 0;
  for (size_t k = 0; rc == 0 && k < n; k++)
    rc = ch_det_snapshot(q, sides[k].version_id, sides[k].from_s, sides[k].to_s, sides[k].label, &outs[k]);
  return rc;
}

static int ch_det_fns(srv_store_read *q, int64_t version_id, srv_det_fn **out, size_t *n) {
  *out = NULL;
  *n = 0;
  ch_fn *fns;
  size_t nf;
  int rc = fns_all(q, &fns, &nf);
  if (rc < 0) return rc;
  srv_ch_rows r;
  rc = sel(q,
           sqlf("SELECT fn, argMax(source_code_hash, last_seen) FROM fn_versions WHERE service_id = %lld AND"
                " version_id = %lld GROUP BY fn",
                (long long)q->service_id, (long long)version_id),
           2, &r);
  if (rc < 0) return rc;
  srv_det_fn *v = r.rows ? hud_arena_calloc(q->arena, r.rows, sizeof *v) : NULL;
  if (r.rows && !v) rc = HUD_ENOMEM;
  for (size_t i = 0; rc == 0 && i < r.rows; i++) {
    const char *u = uuid_of(fns, nf, srv_ch_i64(&r, i, 0));
    if (!u) continue;
    v[*n].function_id = u;
    v[*n].source_code_hash = adup(q, srv_ch_cell(&r, i, 1));
    (*n)++;
  }
  *out = v;
  srv_ch_rows_free(&r);
  return rc;
}

const srv_store_reads srv_store_ch_reads = {
    .services = ch_services,
    .service_id = ch_service_id,
    .service_of = ch_service_of,
    .version = ch_version,
    .previous_version = ch_previous_version,
    .latest_version = ch_latest_version,
    .version_span = ch_version_span,
    .fn_id = ch_fn_id,
    .flow_id = ch_flow_id,
    .fns_of_modules = ch_fns_of_modules,
    .fn_declared_in = ch_fn_declared_in,
    .name_of_function = ch_name_of_function,
    .name_of_flow = ch_name_of_flow,
    .fn_summaries = ch_fn_summaries,
    .fn_page = ch_fn_page,
    .fn_meta = ch_fn_meta,
    .fn_decl = ch_fn_decl,
    .fn_sketch = ch_fn_sketch,
    .fn_sketches = ch_fn_sketches,
    .fn_version_sums = ch_fn_version_sums,
    .fn_series = ch_fn_series,
    .fn_peers = ch_fn_peers,
    .fn_errors_by_type = ch_fn_errors_by_type,
    .fn_versions = ch_fn_versions,
    .callees = ch_callees,
    .graph_node = ch_graph_node,
    .callees_of = ch_callees_of,
    .graph_nodes = ch_graph_nodes,
    .exception_paths = ch_exception_paths,
    .flows = ch_flows,
    .exception_flows = ch_exception_flows,
    .issues_list = ch_issues_list,
    .issue_get = ch_issue_get,
    .issue_events = ch_issue_events,
    .det_snapshot = ch_det_snapshot,
    .det_snapshots = ch_det_snapshots,
    .det_fns = ch_det_fns,
};
