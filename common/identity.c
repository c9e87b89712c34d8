#include "hud/identity.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "hud/err.h"

static const char hex_digits[] = "0123456789abcdef";

static void to_hex(const unsigned char *in, size_t n, char *out) {
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = hex_digits[in[i] >> 4];
    out[2 * i + 1] = hex_digits[in[i] & 15];
  }
  out[2 * n] = '\0';
}

static int hex_val(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static int parse_uuid(const char *s, unsigned char out[16]) {
  size_t k = 0;
  for (size_t i = 0; s[i] && k < 32; i++) {
    if (s[i] == '-') {
      if (i != 8 && i != 13 && i != 18 && i != 23) return HUD_EINVAL;
      continue;
    }
    int v = hex_val(s[i]);
    if (v < 0) return HUD_EINVAL;
    if (k % 2 == 0)
      out[k / 2] = (unsigned char)(v << 4);
    else
      out[k / 2] |= (unsigned char)v;
    k++;
  }
  return k == 32 && strlen(s) == 36 ? 0 : HUD_EINVAL;
}

static void format_uuid(const unsigned char u[16], char out[HUD_UUID_STRLEN + 1]) {
  char h[33];
  to_hex(u, 16, h);
  /* 8-4-4-4-12 */
  memcpy(out, h, 8);
  out[8] = '-';
  memcpy(out + 9, h + 8, 4);
  out[13] = '-';
  memcpy(out + 14, h + 12, 4);
  out[18] = '-';
  memcpy(out + 19, h + 16, 4);
  out[23] = '-';
  memcpy(out + 24, h + 20, 12);
  out[36] = '\0';
}

/* SHA-1 through EVP: the low-level SHA1_* calls are deprecated in OpenSSL 3. */
typedef struct {
  EVP_MD_CTX *md;
} sha1_ctx;

/* SHA-1 fetched from the provider once: EVP_sha1() makes OpenSSL 3 look it up on every init, which
 * cost more than hashing a function's lines (the sensor hashes thousands of functions at start-up). */
static const EVP_MD *sha1_md(void) {
  static _Atomic(EVP_MD *) md;
  EVP_MD *m = atomic_load(&md);
  if (m) return m;
  m = EVP_MD_fetch(NULL, "SHA1", NULL);
  if (!m) return EVP_sha1();
  EVP_MD *none = NULL;
  if (!atomic_compare_exchange_strong(&md, &none, m)) {
    EVP_MD_free(m);
    m = none;
  }
  return m;
}

static int sha1_begin(sha1_ctx *c) {
  c->md = EVP_MD_CTX_new();
  if (!c->md) return HUD_ENOMEM;
  if (EVP_DigestInit_ex(c->md, sha1_md(), NULL) != 1) {
    EVP_MD_CTX_free(c->md);
    return HUD_ENOMEM;
  }
  return 0;
}

static void sha1_add(sha1_ctx *c, const void *p, size_t n) {
  if (n) EVP_DigestUpdate(c->md, p, n);
}

static void sha1_end(sha1_ctx *c, unsigned char digest[20]) {
  unsigned int n = 20;
  EVP_DigestFinal_ex(c->md, digest, &n);
  EVP_MD_CTX_free(c->md);
}

int hud_uuid5(const char *ns, const char *name, size_t len, char out[HUD_UUID_STRLEN + 1]) {
  unsigned char nsb[16];
  if (!ns || !out || (!name && len)) return HUD_EINVAL;
  if (parse_uuid(ns, nsb) != 0) return HUD_EINVAL;
  unsigned char digest[20];
  sha1_ctx ctx;
  int rc = sha1_begin(&ctx);
  if (rc) return rc;
  sha1_add(&ctx, nsb, sizeof nsb);
  sha1_add(&ctx, name, len);
  sha1_end(&ctx, digest);
  digest[6] = (unsigned char)((digest[6] & 0x0f) | 0x50);
  digest[8] = (unsigned char)((digest[8] & 0x3f) | 0x80);
  format_uuid(digest, out);
  return 0;
}

int hud_function_id(const char *module_path, const char *qualname, char out[HUD_UUID_STRLEN + 1]) {
  if (!module_path || !qualname || !out) return HUD_EINVAL;
  size_t a = strlen(module_path), b = strlen(qualname);
  char stackbuf[512];
  char *buf = a + b + 1 <= sizeof stackbuf ? stackbuf : malloc(a + b + 1);
  if (!buf) return HUD_ENOMEM;
  memcpy(buf, module_path, a);
  buf[a] = ':';
  memcpy(buf + a + 1, qualname, b);
  int rc = hud_uuid5(HUD_FUNCTION_ID_NAMESPACE, buf, a + b + 1, out);
  if (buf != stackbuf) free(buf);
  return rc;
}

static int is_trailing_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* Offset of the start of line LINE (1-based), or len + 1 when the source has fewer lines. Whole
 * 64-byte blocks are skipped by counting their '\n's (a loop the compiler vectorises): a module
 * declares its functions one by one, each from the top of the file. */
static size_t line_offset(const char *src, size_t len, int target) {
  int line = 1;
  size_t pos = 0;
  while (line < target && pos + 64 <= len) {
    unsigned char n = 0; /* at most 64: byte lanes */
    for (size_t i = 0; i < 64; i++) n += src[pos + i] == '\n';
    if (line + n >= target) break;
    line += n;
    pos += 64;
  }
  while (line < target) {
    const char *nl = pos < len ? memchr(src + pos, '\n', len - pos) : NULL;
    if (!nl) return len + 1;
    pos = (size_t)(nl - src) + 1;
    line++;
  }
  return pos;
}

int hud_source_hash(const char *src, size_t len, int start_line, int end_line,
                    char out[HUD_SHA1_HEXLEN + 1]) {
  if ((!src && len) || !out) return HUD_EINVAL;
  if (start_line < 1 || end_line < start_line) return HUD_ERANGE;
  /* Lines are the pieces between '\n's; a final '\n' does not open another line. */
  size_t pos = line_offset(src, len, start_line);
  if (pos >= len) return HUD_ERANGE;
  sha1_ctx ctx;
  int rc = sha1_begin(&ctx);
  if (rc) return rc;
  /* Lines without trailing blanks are hashed as they stand, '\n' included: one update per run of
   * such lines instead of two per line. */
  size_t run = pos;
  for (int line = start_line; line <= end_line; line++) {
    if (pos >= len) {
      unsigned char d[20];
      sha1_end(&ctx, d);
      return HUD_ERANGE;
    }
    const char *nl = memchr(src + pos, '\n', len - pos);
    size_t end = nl ? (size_t)(nl - src) : len;
    size_t stop = end;
    while (stop > pos && is_trailing_space(src[stop - 1])) stop--;
    if (stop != end || !nl) {
      sha1_add(&ctx, src + run, stop - run);
      sha1_add(&ctx, "\n", 1);
      run = end + 1;
    }
    pos = end + 1;
  }
  if (pos > run) sha1_add(&ctx, src + run, pos - run);
  unsigned char digest[20];
  sha1_end(&ctx, digest);
  to_hex(digest, sizeof digest, out);
  return 0;
}

void hud_sha1_hex(const void *data, size_t len, char out[HUD_SHA1_HEXLEN + 1]) {
  unsigned char digest[20];
  sha1_ctx ctx;
  if (sha1_begin(&ctx) != 0) {
    memset(out, '0', HUD_SHA1_HEXLEN);
    out[HUD_SHA1_HEXLEN] = '\0';
    return;
  }
  sha1_add(&ctx, data, len);
  sha1_end(&ctx, digest);
  to_hex(digest, sizeof digest, out);
}
