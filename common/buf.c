/* The growable text buffer (hud/buf.h). */
#include "hud/buf.h"

#include <stdlib.h>
#include <string.h>

void hud_buf_put(hud_buf *b, const char *s, size_t n) {
  if (b->oom) return;
  if (b->n + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->n + n + 1) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
      b->oom = true;
      return;
    }
    b->p = p;
    b->cap = cap;
  }
  if (n) memcpy(b->p + b->n, s, n);
  b->n += n;
  b->p[b->n] = '\0';
}

void hud_buf_puts(hud_buf *b, const char *s) { hud_buf_put(b, s, strlen(s)); }

void hud_buf_putc(hud_buf *b, char c) { hud_buf_put(b, &c, 1); }

char *hud_buf_take(hud_buf *b, size_t *len) {
  if (!b->p) hud_buf_put(b, "", 0);
  char *p = b->oom ? NULL : b->p;
  if (b->oom) free(b->p);
  if (len) *len = p ? b->n : 0;
  *b = (hud_buf){0};
  return p;
}

void hud_buf_free(hud_buf *b) {
  free(b->p);
  *b = (hud_buf){0};
}
