/* A growable byte buffer for generated text. The buffer owns its bytes, always NUL-terminated once
 * something was put, until hud_buf_take() hands them to the caller. An allocation failure sets oom
 * and drops every later write, so a writer checks oom once, at the end. Zero-initialise to start. */
#ifndef HUD_BUF_H
#define HUD_BUF_H

#include <stdbool.h>
#include <stddef.h>

typedef struct hud_buf {
  char *p;
  size_t n, cap;
  bool oom;
} hud_buf;

void hud_buf_put(hud_buf *b, const char *s, size_t n);
void hud_buf_puts(hud_buf *b, const char *s);
void hud_buf_putc(hud_buf *b, char c);
/* The NUL-terminated text, now owned by the caller (free()); the buffer is reset. LEN may be NULL.
 * NULL when the buffer ran out of memory (its bytes are freed). */
char *hud_buf_take(hud_buf *b, size_t *len);
void hud_buf_free(hud_buf *b);

#endif
