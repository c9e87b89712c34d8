/* A growable byte buffer for the Node sensor's generated text. Allocation failure sets oom
 * and drops further writes; the owner checks oom once at the end. */
#ifndef HSN_SBUF_H
#define HSN_SBUF_H

#include <stdbool.h>
#include <stddef.h>

typedef struct sbuf {
  char *p;
  size_t n, cap;
  bool oom;
} sbuf;

void sbuf_put(sbuf *b, const char *s, size_t n);
void sbuf_puts(sbuf *b, const char *s);
void sbuf_putc(sbuf *b, char c);
/* S as a JSON string literal (quotes included); control characters escaped. */
void sbuf_json_str(sbuf *b, const char *s);
/* The NUL-terminated text, now owned by the caller; the buffer is reset. LEN may be NULL. */
char *sbuf_take(sbuf *b, size_t *len);
void sbuf_free(sbuf *b);

#endif
