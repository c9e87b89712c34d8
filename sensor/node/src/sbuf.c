/* JSON string literals into the shared buffer (sbuf.h). */
#include "sbuf.h"

#include <stdio.h>

void sbuf_json_str(hud_buf *b, const char *s) {
  hud_buf_putc(b, '"');
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') {
      hud_buf_putc(b, '\\');
      hud_buf_putc(b, (char)c);
    } else if (c < 0x20) {
      char esc[8];
      snprintf(esc, sizeof esc, "\\u%04x", c);
      hud_buf_puts(b, esc);
    } else {
      hud_buf_putc(b, (char)c);
    }
  }
  hud_buf_putc(b, '"');
}
