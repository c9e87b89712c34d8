/* The ClickHouse engine's pre-merged sketches (store_ch.h): maintenance merges the sketch blobs of
 * each closed 10-minute block and hour into one row per (flow, function, version), so that a long
 * window's percentiles read a few blobs per function instead of one per minute row.
 *
 * A span's mark records how many source rows its sketches merged. Rows only ever add (late data) or
 * go (retention), so a read uses a span's merged sketches only while the source table still holds
 * exactly that many rows in it; otherwise it reads the span's minute rows, as before. Merging is
 * adding bin counts (sketch_bins.h), so both give the same sketch. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hud/err.h"
#include "sketch_bins.h"
#include "store_ch.h"

#define BLOCK 600
#define HOUR 3600
#define BLOCKS (HOUR / BLOCK)

/* The source table of each kind of merged sketch (SRV_CH_SPAN_FNS, SRV_CH_SPAN_FLOWS). */
static const char *const k_src_table[] = {"fn_slices", "calls_by_flow"};

/* ---- maintenance ---- */

/* One (flow, fn, version) group of an hour being merged. */
typedef struct span_group {
  int64_t flow, fn, vid;
  srv_bins_acc block[BLOCKS], hour;
} span_group;

static void group_reset(span_group *g) {
  for (int b = 0; b < BLOCKS; b++) srv_acc_free(&g->block[b]);
  srv_acc_free(&g->hour);
  memset(g, 0, sizeof *g);
}

static int put_span(hud_buf *b, int64_t sid, int src, const span_group *g, int64_t span, int64_t width,
                    srv_bins_acc *acc, int64_t ver) {
  if (!acc->set) return 0;
  unsigned char *blob;
  size_t len;
  int rc = srv_acc_encode(acc, &blob, &len);
  if (rc < 0) return rc;
  int64_t cols[] = {sid, src, g->flow, g->fn, g->vid, span, width};
  for (size_t i = 0; i < sizeof cols / sizeof *cols; i++) srv_ch_tsv_i64(b, cols[i], '\t');
  srv_ch_tsv_str(b, blob, len, '\t');
  srv_ch_tsv_i64(b, ver, '\n');
  free(blob);
  return 0;
}

/* Writes G's merged sketches: its closed blocks, and its hour when closed (before NOW). */
static int group_flush(hud_buf *b, int64_t sid, int src, span_group *g, int64_t hour, int64_t now, int64_t ver) {
  int rc = 0;
  for (int k = 0; rc == 0 && k < BLOCKS; k++)
    if (hour + (k + 1) * BLOCK <= now) rc = put_span(b, sid, src, g, hour + k * BLOCK, BLOCK, &g->block[k], ver);
  if (rc == 0 && hour + HOUR <= now) rc = put_span(b, sid, src, g, hour, HOUR, &g->hour, ver);
  return rc;
}

static int insert(srv_store *st, const char *table, hud_buf *b) {
  if (b->oom) return HUD_ENOMEM;
  if (!b->n) return 0;
  char sql[96];
  snprintf(sql, sizeof sql, "INSERT INTO %s FORMAT TabSeparated", table);
  return srv_chs_exec(st, sql, b->p, b->n);
}

/* Merges hour HOUR of service SID from source SRC: its sketches, then its marks (written last: a
 * span without its mark is never read). */
static int roll_hour(srv_store *st, int src, int64_t sid, int64_t hour, int64_t now, int64_t ver) {
  char *sql = NULL;
  if (asprintf(&sql,
               "SELECT %s AS fl, fn, version_id, intDiv(slice - %lld, %d), sketch FROM %s WHERE service_id = %lld AND"
               " slice >= %lld AND slice < %lld ORDER BY fl, fn, version_id",
               src ? "flow" : "0", (long long)hour, BLOCK, k_src_table[src], (long long)sid, (long long)hour,
               (long long)(hour + HOUR)) < 0)
    return HUD_ENOMEM;
  srv_ch_rows r;
  int rc = srv_chs_select(st, sql, 5, &r);
  free(sql);
  if (rc < 0) return rc;
  int64_t counts[BLOCKS] = {0};
  span_group g = {0};
  hud_buf spans = {0}, marks = {0};
  for (size_t i = 0; rc == 0 && i <= r.rows; i++) {
    int64_t flow = i < r.rows ? srv_ch_i64(&r, i, 0) : 0, fn = i < r.rows ? srv_ch_i64(&r, i, 1) : 0;
    int64_t vid = i < r.rows ? srv_ch_i64(&r, i, 2) : 0;
    if (i > 0 && (i == r.rows || flow != g.flow || fn != g.fn || vid != g.vid)) {
      rc = group_flush(&spans, sid, src, &g, hour, now, ver);
      group_reset(&g);
    }
    if (i == r.rows || rc < 0) break;
    g.flow = flow, g.fn = fn, g.vid = vid;
    int64_t k = srv_ch_i64(&r, i, 3);
    if (k < 0 || k >= BLOCKS) continue;
    counts[k]++;
    size_t len = r.lens[i * r.cols + 4];
    if (!len) continue;
    const char *blob = r.cells[i * r.cols + 4];
    if (srv_acc_add_blob(&g.block[k], blob, len) < 0 || srv_acc_add_blob(&g.hour, blob, len) < 0) rc = HUD_ESTORE;
  }
  group_reset(&g);
  srv_ch_rows_free(&r);
  int64_t total = 0;
  for (int k = 0; k < BLOCKS; k++) total += counts[k];
  for (int k = 0; rc == 0 && k <= BLOCKS; k++) {
    int64_t span = k < BLOCKS ? hour + k * BLOCK : hour, width = k < BLOCKS ? BLOCK : HOUR;
    int64_t n = k < BLOCKS ? counts[k] : total;
    if (!n || span + width > now) continue;
    int64_t cols[] = {sid, src, span, width, n};
    for (size_t c = 0; c < sizeof cols / sizeof *cols; c++) srv_ch_tsv_i64(&marks, cols[c], '\t');
    srv_ch_tsv_i64(&marks, ver, '\n');
  }
  if (rc == 0) rc = insert(st, "sketch_spans", &spans);
  if (rc == 0) rc = insert(st, "sketch_span_marks", &marks);
  hud_buf_free(&spans);
  hud_buf_free(&marks);
  return rc;
}

/* Hours of SRC with a closed block or a closed hour whose row count differs from its mark (or that
 * lacks one), oldest first. */
static int stale_hours(srv_store *st, int src, int64_t now, srv_ch_rows *out) {
  const char *t = k_src_table[src];
  char *sql = NULL;
  if (asprintf(&sql,
               "SELECT service_id, intDiv(b, %d) * %d AS h FROM (SELECT service_id, intDiv(slice, %d) * %d AS b,"
               " toInt64(%d) AS w, count() AS c FROM %s WHERE slice < %lld GROUP BY service_id, b UNION ALL SELECT"
               " service_id, intDiv(slice, %d) * %d AS b, toInt64(%d) AS w, count() AS c FROM %s WHERE slice < %lld"
               " GROUP BY service_id, b)"
               " ANY LEFT JOIN (SELECT service_id, span AS b, width AS w, argMax(rows, ver) AS m FROM sketch_span_marks"
               " WHERE src = %d GROUP BY service_id, b, w) USING service_id, b, w WHERE c != m AND b + w <= %lld"
               " GROUP BY service_id, h ORDER BY h, service_id",
               HOUR, HOUR, BLOCK, BLOCK, BLOCK, t, (long long)now, HOUR, HOUR, HOUR, t, (long long)now, src,
               (long long)now) < 0)
    return HUD_ENOMEM;
  int rc = srv_chs_select(st, sql, 2, out);
  free(sql);
  return rc;
}

int srv_ch_rollup(srv_store *st, int64_t now) {
  int rc = 0;
  struct timespec ts; /* a rollup's rows are told apart by VER: unique per run */
  clock_gettime(CLOCK_REALTIME, &ts);
  int64_t ver = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
  for (int src = 0; rc == 0 && src < 2; src++) {
    srv_ch_rows h;
    if ((rc = stale_hours(st, src, now, &h)) < 0) break;
    for (size_t i = 0; rc == 0 && i < h.rows; i++)
      rc = roll_hour(st, src, srv_ch_i64(&h, i, 0), srv_ch_i64(&h, i, 1), now, ver);
    srv_ch_rows_free(&h);
  }
  if (rc == 0 && st->opt.retention_s > 0) { /* the source rows are gone: so are their merges (own shard) */
    static const char *const tabs[] = {"sketch_spans", "sketch_span_marks"};
    for (int t = 0; rc == 0 && t < 2; t++) {
      char sql[160], local[64];
      snprintf(sql, sizeof sql, "ALTER TABLE %s DELETE WHERE span < %lld",
               srv_ch_shard_table(st, tabs[t], local, sizeof local), (long long)(now - st->opt.retention_s - HOUR));
      rc = srv_chs_exec(st, sql, NULL, 0);
    }
  }
  return rc;
}

/* ---- reads ---- */

static void put_range(hud_buf *b, int64_t from, int64_t to) {
  char t[96];
  snprintf(t, sizeof t, "%s(slice >= %lld AND slice < %lld)", b->n ? " OR " : "", (long long)from, (long long)to);
  hud_buf_puts(b, t);
}

static void put_span_ref(hud_buf *b, int64_t span, int64_t width, int64_t ver) {
  char t[128];
  snprintf(t, sizeof t, "%s(span = %lld AND width = %lld AND ver = %lld)", b->n ? " OR " : "", (long long)span,
           (long long)width, (long long)ver);
  hud_buf_puts(b, t);
}

int srv_ch_spans_plan(srv_store *st, int src, int64_t sid, int64_t from_s, int64_t to_s, srv_ch_span_plan *p) {
  memset(p, 0, sizeof *p);
  int64_t first = (from_s + BLOCK - 1) / BLOCK * BLOCK;
  if (from_s < 0 || first + BLOCK > to_s) return 0; /* no whole block in the window */
  char *sql = NULL;
  if (asprintf(&sql,
               "SELECT toInt64(0), span, width, argMax(rows, ver), max(ver) FROM sketch_span_marks WHERE"
               " service_id = %lld AND src = %d AND span >= %lld AND span < %lld GROUP BY span, width UNION ALL"
               " SELECT toInt64(1), intDiv(slice, %d) * %d AS b, toInt64(%d), toInt64(count()), toInt64(0) FROM %s"
               " WHERE service_id = %lld AND slice >= %lld AND slice < %lld GROUP BY b",
               (long long)sid, src, (long long)first, (long long)to_s, BLOCK, BLOCK, BLOCK, k_src_table[src],
               (long long)sid, (long long)first, (long long)to_s) < 0)
    return HUD_ENOMEM;
  srv_ch_rows r;
  int rc = srv_chs_select(st, sql, 5, &r);
  free(sql);
  if (rc < 0) return rc;
  size_t nb = (size_t)((to_s - first) / BLOCK);
  int64_t nh = (int64_t)nb / BLOCKS + 2, h0 = first / HOUR * HOUR;
  int64_t *cnt = calloc(nb, sizeof *cnt), *mark = calloc(nb, sizeof *mark), *mver = calloc(nb, sizeof *mver);
  int64_t *hmark = calloc((size_t)nh, sizeof *hmark), *hver = calloc((size_t)nh, sizeof *hver);
  unsigned char *use = calloc(nb, 1);
  if (!cnt || !mark || !mver || !hmark || !hver || !use) rc = HUD_ENOMEM;
  for (size_t i = 0; rc == 0 && i < r.rows; i++) {
    int64_t span = srv_ch_i64(&r, i, 1), width = srv_ch_i64(&r, i, 2), n = srv_ch_i64(&r, i, 3);
    if (width == HOUR) {
      if (span >= h0 && (span - h0) / HOUR < nh) {
        hmark[(span - h0) / HOUR] = n;
        hver[(span - h0) / HOUR] = srv_ch_i64(&r, i, 4);
      }
    } else if (width == BLOCK && span >= first && (size_t)((span - first) / BLOCK) < nb) {
      size_t k = (size_t)((span - first) / BLOCK);
      if (srv_ch_i64(&r, i, 0)) {
        cnt[k] = n;
      } else {
        mark[k] = n;
        mver[k] = srv_ch_i64(&r, i, 4);
      }
    }
  }
  srv_ch_rows_free(&r);
  hud_buf spans = {0}, rest = {0};
  /* Whole fresh hours first, then whole fresh blocks outside them. */
  for (int64_t h = h0; rc == 0 && h + HOUR <= to_s; h += HOUR) {
    if (h < first) continue;
    size_t b0 = (size_t)((h - first) / BLOCK);
    int64_t total = 0;
    for (int k = 0; k < BLOCKS; k++) total += cnt[b0 + k];
    if (!total || hmark[(h - h0) / HOUR] != total) continue;
    put_span_ref(&spans, h, HOUR, hver[(h - h0) / HOUR]);
    for (int k = 0; k < BLOCKS; k++) use[b0 + k] = 1;
  }
  for (size_t b = 0; rc == 0 && b < nb; b++)
    if (!use[b] && cnt[b] && mark[b] == cnt[b]) {
      put_span_ref(&spans, first + (int64_t)b * BLOCK, BLOCK, mver[b]);
      use[b] = 1;
    }
  /* The rest of the window: its minute rows. */
  int64_t at = from_s;
  for (size_t b = 0; rc == 0 && spans.n && b <= nb; b++) {
    if (b < nb && !use[b]) continue;
    int64_t s = b < nb ? first + (int64_t)b * BLOCK : to_s;
    if (s > at) put_range(&rest, at, s);
    at = s + BLOCK;
  }
  free(cnt);
  free(mark);
  free(mver);
  free(hmark);
  free(hver);
  free(use);
  if (rc == 0 && (spans.oom || rest.oom)) rc = HUD_ENOMEM;
  if (rc == 0 && spans.n) { /* the range first: sketch_spans' key finds it */
    hud_buf_putc(&spans, '\0');
    if (spans.oom || asprintf(&p->spans, "span >= %lld AND span < %lld AND (%s)", (long long)first, (long long)to_s,
                              spans.p) < 0) {
      p->spans = NULL;
      rc = HUD_ENOMEM;
    }
    p->rest = rc == 0 && rest.n ? hud_buf_take(&rest, NULL) : NULL;
    if (rc == 0 && rest.n && !p->rest) rc = HUD_ENOMEM;
  }
  hud_buf_free(&spans);
  hud_buf_free(&rest);
  if (rc < 0) srv_ch_span_plan_free(p);
  return rc;
}

void srv_ch_span_plan_free(srv_ch_span_plan *p) {
  free(p->spans);
  free(p->rest);
  memset(p, 0, sizeof *p);
}
