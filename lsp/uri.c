/* file: URIs (uri.h). */
#include "uri.h"

#include <stdlib.h>
#include <string.h>

static int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

char *lsp_uri_to_path(const char *uri) {
  if (strncmp(uri, "file://", 7) != 0) return NULL;
  const char *p = uri + 7;
  if (strncmp(p, "localhost/", 10) == 0) p += 9;
  if (*p != '/') return NULL;
  char *out = malloc(strlen(p) + 1), *o = out;
  if (!out) return NULL;
  for (; *p && *p != '?' && *p != '#'; p++) {
    if (*p == '%') {
      int h = hex(p[1]), l = h < 0 ? -1 : hex(p[2]);
      if (h < 0 || l < 0 || (h == 0 && l == 0)) {
        free(out);
        return NULL;
      }
      *o++ = (char)(h * 16 + l);
      p += 2;
    } else {
      *o++ = *p;
    }
  }
  *o = '\0';
  return out;
}

const char *lsp_path_below(const char *path, const char *root) {
  size_t n = strlen(root);
  while (n > 0 && root[n - 1] == '/') n--;
  if (strncmp(path, root, n) != 0 || path[n] != '/') return NULL;
  const char *rel = path + n;
  while (*rel == '/') rel++;
  return *rel ? rel : NULL;
}

char *lsp_path_to_uri(const char *path) {
  size_t n = strlen(path);
  char *out = malloc(7 + 3 * n + 1), *o = out;
  if (!out) return NULL;
  memcpy(o, "file://", 7);
  o += 7;
  static const char digits[] = "0123456789ABCDEF";
  for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
    if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || strchr("-._~/", *p)) {
      *o++ = (char)*p;
    } else {
      *o++ = '%';
      *o++ = digits[*p >> 4];
      *o++ = digits[*p & 15];
    }
  }
  *o = '\0';
  return out;
}
