/* UTF-16 / UTF-8 character positions within a line (position.h). */
#include "position.h"

/* Length of the UTF-8 sequence at P (1 for a malformed or truncated one) and its UTF-16 units. */
static size_t seq(const unsigned char *p, size_t left, int *units) {
  *units = 1;
  unsigned char c = p[0];
  size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
  if (n <= 1 || n > left) return 1;
  for (size_t i = 1; i < n; i++)
    if ((p[i] & 0xC0) != 0x80) return 1;
  if (n == 4) *units = 2;
  return n;
}

size_t lsp_units_to_bytes(const char *line, size_t len, int64_t units, lsp_encoding enc) {
  if (units <= 0) return 0;
  if (enc == LSP_ENC_UTF8) return (uint64_t)units < len ? (size_t)units : len;
  const unsigned char *p = (const unsigned char *)line;
  size_t b = 0;
  int64_t u = 0;
  while (b < len && u < units) {
    int w;
    b += seq(p + b, len - b, &w);
    u += w;
  }
  return b;
}

int64_t lsp_bytes_to_units(const char *line, size_t len, size_t bytes, lsp_encoding enc) {
  if (bytes > len) bytes = len;
  if (enc == LSP_ENC_UTF8) return (int64_t)bytes;
  const unsigned char *p = (const unsigned char *)line;
  size_t b = 0;
  int64_t u = 0;
  while (b < bytes) {
    int w;
    b += seq(p + b, len - b, &w);
    u += w;
  }
  return u;
}
