/* Index positions for source-map matching (see positions.h). */
#include "positions.h"

#include <stdbool.h>
#include <stdlib.h>

#include "hud/err.h"

/* UTF-16 units of the UTF-8 bytes [P, P + N) (continuation bytes count nothing, 4-byte
 * sequences two, invalid bytes one). */
static uint32_t utf16_len(const char *p, size_t n) {
  uint32_t u = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)p[i];
    if (c >= 0x80 && c < 0xc0) continue;
    u += c >= 0xf0 ? 2 : 1;
  }
  return u;
}

/* Start offsets of SRC's '\n'-separated lines; *N of them. NULL when out of memory. */
static size_t *line_starts(const char *src, size_t len, size_t *n) {
  size_t cnt = 1;
  for (size_t p = 0; p < len; p++) cnt += src[p] == '\n';
  size_t *ls = malloc(cnt * sizeof *ls);
  if (!ls) return NULL;
  *n = 0;
  ls[(*n)++] = 0;
  for (size_t p = 0; p < len; p++)
    if (src[p] == '\n') ls[(*n)++] = p + 1;
  return ls;
}

/* The 0-based row of byte OFF. */
static uint32_t row_of(const size_t *ls, size_t n, size_t off) {
  size_t lo = 0, hi = n;
  while (hi - lo > 1) {
    size_t mid = (lo + hi) / 2;
    if (ls[mid] <= off) lo = mid;
    else hi = mid;
  }
  return (uint32_t)lo;
}

static void point(const char *src, size_t len, const size_t *ls, size_t n, size_t off, uint32_t *out) {
  if (off > len) off = len;
  uint32_t row = row_of(ls, n, off);
  out[0] = row;
  out[1] = utf16_len(src + ls[row], off - ls[row]);
}

int hsn_points(const hud_index_result *idx, const char *src, size_t len, uint32_t *out) {
  size_t n = 0, *ls = line_starts(src, len, &n);
  if (!ls) return HUD_ENOMEM;
  for (size_t i = 0; i < idx->nfuncs; i++) {
    const hud_index_func *f = &idx->funcs[i];
    uint32_t *o = out + HSN_POINTS_PER_FN * i;
    point(src, len, ls, n, f->start_byte, o);
    size_t row = f->name_start.row < n ? f->name_start.row : n - 1;
    point(src, len, ls, n, ls[row] + f->name_start.column, o + 2);
  }
  free(ls);
  return 0;
}
