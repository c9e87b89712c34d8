/* The envelope of a batch without decoding it (ingest.h): a yajl pass over the top-level members
 * that builds nothing and stops as soon as it has what was asked. Gzip is inflated in small pieces
 * as the pass goes, so a peek that stops early inflates only the start of the body. */
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>
#include <zlib.h>

#include "hud/codec.h"
#include "ingest.h"

#define PEEK_CHUNK 65536

enum { K_OTHER, K_ID, K_VERSION, K_ENV };

typedef struct peek {
  srv_batch_head *out;
  int want_env;
  int depth, key, bad, done;
  int seen_id, seen_version, seen_env;
} peek;

/* Cancels the pass when the envelope is known (DONE) or cannot be read here (BAD). */
static int next(peek *p) {
  if (p->seen_id && p->seen_version && (!p->want_env || p->seen_env)) p->done = 1;
  return !p->done && !p->bad;
}

static int top_value(peek *p) { return p->depth == 1 && p->key != K_OTHER; }

/* A top-level value of a watched member that is not what it must be: the decoder will say why. */
static int wrong(peek *p) {
  p->bad = 1;
  return 0;
}

static int cb_scalar(void *ctx) {
  peek *p = ctx;
  if (p->depth == 0) return wrong(p); /* not an object */
  return top_value(p) ? wrong(p) : next(p);
}
static int cb_bool(void *ctx, int v) {
  (void)v;
  return cb_scalar(ctx);
}

static int cb_number(void *ctx, const char *s, size_t n) {
  peek *p = ctx;
  if (!top_value(p)) return cb_scalar(ctx);
  if (p->key != K_VERSION || n > 10) return wrong(p);
  char buf[12];
  memcpy(buf, s, n);
  buf[n] = '\0';
  char *end;
  long v = strtol(buf, &end, 10);
  if (*end) return wrong(p);
  p->out->schema_version = (int)v;
  return next(p);
}

static int cb_string(void *ctx, const unsigned char *s, size_t n) {
  peek *p = ctx;
  if (!top_value(p)) return cb_scalar(ctx);
  if (p->key == K_ID && n == HUD_UUID_STRLEN) {
    memcpy(p->out->batch_id, s, n);
    p->out->batch_id[n] = '\0';
    return next(p);
  }
  if (p->key == K_ENV && n > 0 && n < sizeof p->out->environment) {
    memcpy(p->out->environment, s, n);
    p->out->environment[n] = '\0';
    p->out->has_environment = 1;
    return next(p);
  }
  return wrong(p);
}

static int cb_open(void *ctx) {
  peek *p = ctx;
  if (top_value(p)) return wrong(p);
  p->depth++;
  return 1;
}

static int cb_close(void *ctx) {
  peek *p = ctx;
  if (--p->depth > 0) return 1;
  /* The end of the batch object: members not met are absent. */
  if (p->want_env) p->seen_env = 1;
  if (!next(p)) return 0;
  return wrong(p); /* no batch_id or schema_version: the decoder reports it */
}

static int cb_key(void *ctx, const unsigned char *k, size_t n) {
  peek *p = ctx;
  if (p->depth != 1) return 1;
  int *seen = NULL;
  p->key = K_OTHER;
  if (n == 8 && memcmp(k, "batch_id", 8) == 0) p->key = K_ID, seen = &p->seen_id;
  else if (n == 14 && memcmp(k, "schema_version", 14) == 0) p->key = K_VERSION, seen = &p->seen_version;
  else if (n == 11 && memcmp(k, "environment", 11) == 0) p->key = K_ENV, seen = &p->seen_env;
  if (!seen) return 1;
  if (*seen) return wrong(p); /* a duplicate member is a syntax error for the decoder */
  *seen = 1;
  return 1;
}

static const yajl_callbacks k_peek_cbs = {cb_scalar, cb_bool, NULL, NULL,     cb_number, cb_string,
                                          cb_open,   cb_key,  cb_close, cb_open, cb_close};

/* Feeds one piece; 1 = go on, 0 = finished (done or not readable). */
static int feed(yajl_handle h, peek *p, const unsigned char *s, size_t n) {
  yajl_status st = yajl_parse(h, s, n);
  return st == yajl_status_ok && !p->done && !p->bad;
}

static void inflate_all(yajl_handle h, peek *p, const unsigned char *body, size_t len) {
  z_stream zs;
  memset(&zs, 0, sizeof zs);
  unsigned char *buf = malloc(PEEK_CHUNK);
  if (!buf || len > UINT32_MAX || inflateInit2(&zs, 15 + 16) != Z_OK) {
    free(buf);
    return;
  }
  zs.next_in = (Bytef *)body;
  zs.avail_in = (uInt)len;
  size_t total = 0;
  for (;;) {
    zs.next_out = buf;
    zs.avail_out = PEEK_CHUNK;
    int zr = inflate(&zs, Z_NO_FLUSH);
    size_t got = PEEK_CHUNK - zs.avail_out;
    total += got;
    if (total > HUD_MAX_DECODED_BYTES) break;
    if (got && !feed(h, p, buf, got)) break;
    /* Concatenated members and damaged streams are left to the decoder. */
    if (zr != Z_OK || (got == 0 && zs.avail_in == 0)) break;
  }
  inflateEnd(&zs);
  free(buf);
}

int srv_ingest_peek(const void *body, size_t len, int gzip, int want_env, srv_batch_head *out) {
  memset(out, 0, sizeof *out);
  peek p = {.out = out, .want_env = want_env};
  yajl_handle h = yajl_alloc(&k_peek_cbs, NULL, &p);
  if (!h) return 0;
  if (gzip || hud_is_gzip(body, len)) inflate_all(h, &p, body, len);
  else feed(h, &p, body, len);
  yajl_free(h);
  if (!p.done) memset(out, 0, sizeof *out);
  return p.done;
}
