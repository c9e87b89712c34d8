/* The ClickHouse engine's ids, statements and TabSeparated text (store_ch.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hud/err.h"
#include "store_ch.h"

/* ---- ids ---- */

static uint64_t h_bytes(uint64_t h, const char *s, size_t n) {
  for (size_t i = 0; i < n; i++) {
    h ^= (unsigned char)s[i];
    h *= 0x100000001b3ULL; /* FNV-1a */
  }
  return h;
}

static uint64_t h_fin(uint64_t h) { /* murmur3's finaliser: FNV's low bits mix poorly */
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

static int64_t h_id(uint64_t h) {
  int64_t id = (int64_t)(h_fin(h) >> 1);
  return id ? id : 1;
}

static uint64_t h_i64(uint64_t h, int64_t v) {
  char b[8];
  for (int i = 0; i < 8; i++) b[i] = (char)((uint64_t)v >> (8 * i));
  return h_bytes(h, b, 8);
}

#define H0 0xcbf29ce484222325ULL

int64_t srv_ch_service_id(const char *env, const char *name) {
  uint64_t h = h_bytes(H0, "service", 8);
  h = h_bytes(h, env, strlen(env) + 1);
  return h_id(h_bytes(h, name, strlen(name) + 1));
}

int64_t srv_ch_version_id(int64_t sid, const char *version) {
  return h_id(h_bytes(h_i64(h_bytes(H0, "version", 8), sid), version, strlen(version) + 1));
}

int64_t srv_ch_fn_id(int64_t sid, const char *uuid) {
  if (!uuid || !uuid[0]) return 0;
  return h_id(h_bytes(h_i64(h_bytes(H0, "function", 9), sid), uuid, strlen(uuid) + 1));
}

int64_t srv_ch_flow_id(int64_t sid, const char *uuid) {
  if (!uuid || !uuid[0]) return 0;
  return h_id(h_bytes(h_i64(h_bytes(H0, "flow", 5), sid), uuid, strlen(uuid) + 1));
}

/* ---- statements ---- */

int srv_chs_exec(srv_store *st, const char *sql, const char *body, size_t len) {
  char err[700] = "";
  int rc = srv_ch_query(st->ch, 0, sql, body, len, NULL, NULL, err, sizeof err);
  if (rc < 0) fprintf(stderr, "hud-server: store: %s (%.120s)\n", err[0] ? err : hud_strerror(rc), sql);
  return rc;
}

/* Unescapes a TabSeparated field in place; returns its length. */
static size_t tsv_unescape(char *s, size_t n) {
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (c == '\\' && i + 1 < n) {
      char e = s[++i];
      c = e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e == '0' ? '\0' : e == 'b' ? '\b' : e == 'f' ? '\f' : e;
    }
    s[o++] = c;
  }
  s[o] = '\0';
  return o;
}

int srv_chs_select(srv_store *st, const char *sql, size_t cols, srv_ch_rows *out) {
  memset(out, 0, sizeof *out);
  hud_buf q = {0};
  hud_buf_puts(&q, sql);
  hud_buf_puts(&q, " FORMAT TabSeparated");
  char *full = hud_buf_take(&q, NULL);
  if (!full) return HUD_ENOMEM;
  char err[700] = "";
  size_t len = 0;
  int rc = srv_ch_query(st->ch, 0, full, NULL, 0, &out->text, &len, err, sizeof err);
  if (rc < 0) fprintf(stderr, "hud-server: store: %s (%.160s)\n", err[0] ? err : hud_strerror(rc), full);
  free(full);
  if (rc < 0) return rc;
  size_t lines = 0;
  for (size_t i = 0; i < len; i++) lines += out->text[i] == '\n';
  out->cols = cols;
  out->cells = calloc(lines * cols + 1, sizeof *out->cells);
  out->lens = calloc(lines * cols + 1, sizeof *out->lens);
  if (!out->cells || !out->lens) {
    srv_ch_rows_free(out);
    return HUD_ENOMEM;
  }
  char *p = out->text, *end = out->text + len;
  while (p < end) {
    char *nl = memchr(p, '\n', (size_t)(end - p));
    if (!nl) break;
    size_t r = out->rows, c = 0;
    for (char *f = p; c < cols; c++) {
      char *tab = c + 1 < cols ? memchr(f, '\t', (size_t)(nl - f)) : nl;
      if (!tab) {
        srv_ch_rows_free(out);
        return HUD_ESTORE; /* fewer columns than asked: not our statement's answer */
      }
      size_t n = (size_t)(tab - f);
      *tab = '\0';
      if (n == 2 && f[0] == '\\' && f[1] == 'N') {
        out->cells[r * cols + c] = NULL;
      } else {
        out->cells[r * cols + c] = f;
        out->lens[r * cols + c] = tsv_unescape(f, n);
      }
      f = tab + 1;
    }
    out->rows++;
    p = nl + 1;
  }
  return 0;
}

int srv_chs_select_i64(srv_store *st, const char *sql, size_t cols, int64_t **out, size_t *rows) {
  *out = NULL;
  *rows = 0;
  hud_buf q = {0};
  hud_buf_puts(&q, sql);
  hud_buf_puts(&q, " FORMAT RowBinary");
  char *full = hud_buf_take(&q, NULL), *bin = NULL, err[700] = "";
  if (!full) return HUD_ENOMEM;
  size_t len = 0;
  int rc = srv_ch_query(st->ch, 0, full, NULL, 0, &bin, &len, err, sizeof err);
  if (rc < 0) fprintf(stderr, "hud-server: store: %s (%.160s)\n", err[0] ? err : hud_strerror(rc), full);
  free(full);
  if (rc < 0) return rc;
  /* RowBinary: each Int64 as 8 bytes, little endian (the byte order of every host hud-server builds
   * for); a length that is not whole rows of COLS of them is not our statement's answer. */
  size_t row = cols * sizeof(int64_t);
  if (!cols || len % row) {
    free(bin);
    return HUD_ESTORE;
  }
  int64_t *v = malloc(len ? len : 1);
  if (!v) {
    free(bin);
    return HUD_ENOMEM;
  }
  if (len) memcpy(v, bin, len);
  free(bin);
  *out = v;
  *rows = len / row;
  return 0;
}

void srv_ch_rows_free(srv_ch_rows *r) {
  free(r->text);
  free(r->cells);
  free(r->lens);
  memset(r, 0, sizeof *r);
}

const char *srv_ch_cell(const srv_ch_rows *r, size_t row, size_t col) { return r->cells[row * r->cols + col]; }

int64_t srv_ch_i64(const srv_ch_rows *r, size_t row, size_t col) {
  const char *s = srv_ch_cell(r, row, col);
  return s ? strtoll(s, NULL, 10) : 0;
}

double srv_ch_f64(const srv_ch_rows *r, size_t row, size_t col) {
  const char *s = srv_ch_cell(r, row, col);
  return s ? strtod(s, NULL) : 0;
}

/* ---- text ---- */

void srv_ch_sql_str(hud_buf *b, const char *s) {
  hud_buf_putc(b, '\'');
  for (; s && *s; s++) {
    if (*s == '\'' || *s == '\\') hud_buf_putc(b, '\\');
    hud_buf_putc(b, *s);
  }
  hud_buf_putc(b, '\'');
}

void srv_ch_tsv_str(hud_buf *b, const void *s, size_t n, char end) {
  const unsigned char *p = s;
  if (!p) {
    hud_buf_put(b, "\\N", 2);
  } else {
    for (size_t i = 0; i < n; i++) {
      unsigned char c = p[i];
      const char *e = c == '\\' ? "\\\\" : c == '\t' ? "\\t" : c == '\n' ? "\\n" : c == '\r' ? "\\r" : c == 0 ? "\\0" : NULL;
      if (e) hud_buf_put(b, e, 2);
      else hud_buf_putc(b, (char)c);
    }
  }
  hud_buf_putc(b, end);
}

void srv_ch_tsv_i64(hud_buf *b, int64_t v, char end) {
  char t[32];
  int n = snprintf(t, sizeof t, "%" PRId64 "%c", v, end);
  hud_buf_put(b, t, (size_t)n);
}

void srv_ch_tsv_f64(hud_buf *b, double v, char end) {
  char t[40];
  int n = snprintf(t, sizeof t, "%.17g%c", v, end);
  hud_buf_put(b, t, (size_t)n);
}
