#include "sbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sbuf_put(sbuf *b, const char *s, size_t n) {
  if (b->oom) return;
  if (b->n + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->n + n + 1) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
      b->oom = true;
      return;
    }
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->n, s, n);
  b->n += n;
  b->p[b->n] = '\0';
}

void sbuf_puts(sbuf *b, const char *s) { sbuf_put(b, s, strlen(s)); }

void sbuf_putc(sbuf *b, char c) { sbuf_put(b, &c, 1); }

void sbuf_json_str(sbuf *b, const char *s) {
  sbuf_putc(b, '"');
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') {
      sbuf_putc(b, '\\');
      sbuf_putc(b, (char)c);
    } else if (c < 0x20) {
      char esc[8];
      snprintf(esc, sizeof esc, "\\u%04x", c);
      sbuf_puts(b, esc);
    } else {
      sbuf_putc(b, (char)c);
    }
  }
  sbuf_putc(b, '"');
}

char *sbuf_take(sbuf *b, size_t *len) {
  if (!b->p) sbuf_put(b, "", 0);
  char *p = b->p;
  if (len) *len = b->n;
  *b = (sbuf){0};
  return p;
}

void sbuf_free(sbuf *b) {
  free(b->p);
  *b = (sbuf){0};
}
