/* Content-Length framing (framer.h). */
#include "framer.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hud/err.h"

struct lsp_framer {
  void (*on_message)(void *ud, const char *body, size_t len);
  void (*on_error)(void *ud, const char *what);
  void *ud;
  size_t max_frame;
  char *buf;
  size_t start, len, cap; /* unread bytes are buf[start, start + len) */
  size_t body_len;        /* the body expected after the header just read */
  bool have_header;
  size_t skip;            /* bytes of an oversized body still to discard */
  bool stopped;
};

int lsp_framer_new(size_t max_frame, void (*on_message)(void *, const char *, size_t),
                   void (*on_error)(void *, const char *), void *ud, lsp_framer **out) {
  lsp_framer *t = calloc(1, sizeof *t);
  if (!t) return HUD_ENOMEM;
  t->max_frame = max_frame ? max_frame : LSP_MAX_FRAME;
  t->on_message = on_message;
  t->on_error = on_error;
  t->ud = ud;
  *out = t;
  return 0;
}

void lsp_framer_free(lsp_framer *t) {
  if (!t) return;
  free(t->buf);
  free(t);
}

void lsp_framer_stop(lsp_framer *t) { t->stopped = true; }

bool lsp_framer_partial(const lsp_framer *t) { return t->len || t->have_header || t->skip; }

static void report(lsp_framer *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void report(lsp_framer *t, const char *fmt, ...) {
  char msg[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (t->on_error) t->on_error(t->ud, msg);
}

static const char *find_crlf2(const char *p, size_t n) {
  for (size_t i = 0; i + 3 < n; i++)
    if (p[i] == '\r' && p[i + 1] == '\n' && p[i + 2] == '\r' && p[i + 3] == '\n') return p + i;
  return NULL;
}

/* Reads the Content-Length of a header block; -1 with a report when there is none or it is bad. */
static int parse_header(lsp_framer *t, const char *h, size_t n, size_t *body_len) {
  bool found = false;
  const char *end = h + n;
  while (h < end) {
    const char *eol = memchr(h, '\n', (size_t)(end - h));
    size_t ll = (size_t)((eol ? eol : end) - h);
    if (ll && h[ll - 1] == '\r') ll--;
    const char *colon = memchr(h, ':', ll);
    if (!colon) {
      report(t, "malformed header line (no ':'); frame skipped");
      return -1;
    }
    if ((size_t)(colon - h) == 14 && strncasecmp(h, "Content-Length", 14) == 0) {
      const char *v = colon + 1, *ve = h + ll;
      while (v < ve && (*v == ' ' || *v == '\t')) v++;
      while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t')) ve--;
      unsigned long long x = 0;
      if (v == ve || ve - v > 15) goto bad_len;
      for (const char *q = v; q < ve; q++) {
        if (*q < '0' || *q > '9') goto bad_len;
        x = x * 10 + (unsigned)(*q - '0');
      }
      *body_len = (size_t)x;
      found = true;
    }
    h = eol ? eol + 1 : end;
  }
  if (!found) {
    report(t, "header block without Content-Length; frame skipped");
    return -1;
  }
  return 0;
bad_len:
  report(t, "Content-Length is not a decimal number of at most 15 digits; frame skipped");
  return -1;
}

static void consume(lsp_framer *t, size_t n) {
  t->start += n;
  t->len -= n;
  if (t->len == 0) t->start = 0;
}

/* Delivers every complete frame held in the buffer. */
static void drain(lsp_framer *t) {
  while (!t->stopped && t->len > 0) {
    if (t->skip) {
      size_t n = t->len < t->skip ? t->len : t->skip;
      consume(t, n);
      t->skip -= n;
      continue;
    }
    const char *p = t->buf + t->start;
    if (!t->have_header) {
      const char *e = find_crlf2(p, t->len);
      if (!e) {
        if (t->len > LSP_MAX_HEADER) {
          report(t, "header block longer than %d bytes; input discarded up to here", LSP_MAX_HEADER);
          consume(t, t->len);
        }
        return;
      }
      size_t hlen = (size_t)(e - p);
      size_t body = 0;
      int rc = hlen > LSP_MAX_HEADER ? (report(t, "header block longer than %d bytes; frame skipped", LSP_MAX_HEADER), -1)
                                     : parse_header(t, p, hlen, &body);
      consume(t, hlen + 4);
      if (rc < 0) continue;
      if (body > t->max_frame) {
        report(t, "frame of %zu bytes is over the limit of %zu bytes; skipped", body, t->max_frame);
        t->skip = body;
        continue;
      }
      t->have_header = true;
      t->body_len = body;
      continue;
    }
    if (t->len < t->body_len) return;
    t->have_header = false;
    size_t n = t->body_len;
    t->on_message(t->ud, p, n); /* may stop the framer, never frees it */
    consume(t, n);
  }
}

void lsp_framer_feed(lsp_framer *t, const char *data, size_t n) {
  if (t->stopped) return;
  while (n && t->skip && t->len == 0) {
    size_t k = n < t->skip ? n : t->skip;
    t->skip -= k;
    data += k;
    n -= k;
  }
  if (!n) return;
  if (t->start + t->len + n > t->cap) {
    if (t->start) {
      memmove(t->buf, t->buf + t->start, t->len);
      t->start = 0;
    }
    if (t->len + n > t->cap) {
      size_t cap = t->cap ? t->cap : 65536;
      while (cap < t->len + n) cap *= 2;
      char *nb = realloc(t->buf, cap);
      if (!nb) {
        report(t, "out of memory reading input; buffered input dropped");
        t->len = t->start = 0;
        t->have_header = false;
        return;
      }
      t->buf = nb;
      t->cap = cap;
    }
  }
  memcpy(t->buf + t->start + t->len, data, n);
  t->len += n;
  drain(t);
}

