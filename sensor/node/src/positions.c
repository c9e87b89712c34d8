/* Index positions for source-map matching (see positions.h). */
#include "positions.h"

#include <stdlib.h>

#include "hud/err.h"

typedef struct want {
  size_t off;    /* byte offset in the source */
  uint32_t *dst; /* where its (line, UTF-16 column) goes */
} want;

static int cmp_want(const void *a, const void *b) {
  size_t x = ((const want *)a)->off, y = ((const want *)b)->off;
  return x < y ? -1 : x > y;
}

/* Byte offset of 0-based ROW, byte column COL (the index's name_start), clamped to LEN. */
static size_t row_col_offset(const size_t *ls, size_t nls, uint32_t row, uint32_t col, size_t len) {
  size_t off = (row < nls ? ls[row] : len) + col;
  return off < len ? off : len;
}

/* Start offsets of SRC's '\n'-separated lines in *LS (*N of them). */
static int line_starts(const char *src, size_t len, size_t **ls, size_t *n) {
  size_t cnt = 1;
  for (size_t p = 0; p < len; p++) cnt += src[p] == '\n';
  if (!(*ls = malloc(cnt * sizeof **ls))) return HUD_ENOMEM;
  *n = 0;
  (*ls)[(*n)++] = 0;
  for (size_t p = 0; p < len; p++)
    if (src[p] == '\n') (*ls)[(*n)++] = p + 1;
  return 0;
}

/* One sweep over the source in offset order: rows and UTF-16 columns (continuation bytes count
 * nothing, 4-byte sequences two, invalid bytes one), linear even when every function sits on
 * one long line. */
int hsn_points(const hud_index_result *idx, const char *src, size_t len, uint32_t *out) {
  size_t nw = 2 * idx->nfuncs, nls = 0, *ls = NULL;
  want *w = malloc((nw ? nw : 1) * sizeof *w);
  if (!w || line_starts(src, len, &ls, &nls)) {
    free(w);
    return HUD_ENOMEM;
  }
  for (size_t i = 0; i < idx->nfuncs; i++) {
    const hud_index_func *f = &idx->funcs[i];
    uint32_t *o = out + HSN_POINTS_PER_FN * i;
    w[2 * i] = (want){f->start_byte < len ? f->start_byte : len, o};
    w[2 * i + 1] = (want){row_col_offset(ls, nls, f->name_start.row, f->name_start.column, len), o + 2};
  }
  free(ls);
  qsort(w, nw, sizeof *w, cmp_want);
  size_t p = 0;
  uint32_t row = 0, col = 0;
  for (size_t i = 0; i < nw; i++) {
    for (; p < w[i].off; p++) {
      unsigned char c = (unsigned char)src[p];
      if (c == '\n') row++, col = 0;
      else if (c < 0x80 || c >= 0xc0) col += c >= 0xf0 ? 2 : 1;
    }
    w[i].dst[0] = row;
    w[i].dst[1] = col;
  }
  free(w);
  return 0;
}
