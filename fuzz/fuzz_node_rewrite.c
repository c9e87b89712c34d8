/* libFuzzer target for the Node sensor's source rewrite (sensor/node/src/rewrite.c), which runs
 * inside the application's process on every module it loads: any bytes, as JavaScript,
 * TypeScript or TSX.
 *
 * Input layout: byte 0 picks the language (low 2 bits) and whether some functions keep their
 * body (bit 2: the slots variant TypeScript's compiled output uses); the rest is source.
 * On success the result must be what the runtime relies on:
 *   - the generated code minus the insertions it lists is the source, byte for byte (stack
 *     traces and source maps are computed from those insertions);
 *   - no inserted text holds a newline (no line moves);
 *   - a source that parses cleanly gives code that parses cleanly (the module still loads). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hud/err.h"
#include "hud/index.h"
#include "rewrite.h"

static hud_indexer *ix;
static const hud_lang langs[] = {HUD_LANG_JAVASCRIPT, HUD_LANG_TYPESCRIPT, HUD_LANG_TSX, HUD_LANG_JAVASCRIPT};

/* Bytes of LINE (LEN bytes) that hold its first COL UTF-16 units, counted as rewrite.c counts
 * them: per lead byte, two for a 4-byte sequence, one otherwise (invalid bytes count one). */
static size_t bytes_for_units(const char *line, size_t len, uint32_t col) {
  size_t b = 0;
  for (uint32_t u = 0; b < len && u < col; b++) {
    unsigned char c = (unsigned char)line[b];
    if ((c & 0xc0) == 0x80) continue;
    u += c >= 0xf0 ? 2 : 1;
  }
  while (b < len && ((unsigned char)line[b] & 0xc0) == 0x80) b++;
  return b;
}

/* Length of the line at P (N bytes left) and of the terminator after it (0 at the end): V8's line
 * terminators, as rewrite.c counts lines: \n, \r\n, a lone \r, U+2028 and U+2029. */
static size_t line_len(const char *p, size_t n, size_t *term) {
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)p[i];
    if (c == '\n') return *term = 1, i;
    if (c == '\r') return *term = (i + 1 < n && p[i + 1] == '\n') ? 2 : 1, i;
    if (c == 0xe2 && i + 2 < n && (unsigned char)p[i + 1] == 0x80 &&
        ((unsigned char)p[i + 2] == 0xa8 || (unsigned char)p[i + 2] == 0xa9))
      return *term = 3, i;
  }
  *term = 0;
  return n;
}

/* The generated code with every insertion taken out; NULL when an insertion is not where the
 * result says. */
static char *strip(const hsn_result *r, size_t *out_len) {
  char *o = malloc(r->code_len + 1);
  if (!o) abort();
  size_t n = 0, at = 0, k = 0;
  uint32_t line = 0;
  while (at <= r->code_len) {
    size_t term, len = line_len(r->code + at, r->code_len - at, &term);
    size_t done = 0; /* bytes of this line copied or skipped */
    for (; k < r->nins && r->ins[k].line == line; k++) {
      size_t b = bytes_for_units(r->code + at, len, r->ins[k].gen_col);
      size_t t;
      if (b < done || b + r->ins[k].len > len || line_len(r->code + at + b, r->ins[k].len, &t) != r->ins[k].len) {
        free(o);
        return NULL;
      }
      memcpy(o + n, r->code + at + done, b - done);
      n += b - done;
      done = b + r->ins[k].len;
    }
    if (k < r->nins && r->ins[k].line < line) break;
    memcpy(o + n, r->code + at + done, len - done);
    n += len - done;
    if (!term) break;
    memcpy(o + n, r->code + at + len, term);
    n += term;
    at += len + term;
    line++;
  }
  if (k != r->nins) {
    free(o);
    return NULL;
  }
  *out_len = n;
  return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  if (!ix && hud_indexer_new(&ix) != 0) abort();
  hud_lang lang = langs[data[0] & 3];
  const char *src = (const char *)data + 1;
  size_t len = size - 1;
  hsn_result *r = NULL;
  int rc;
  if (data[0] & 4) {
    const int32_t slots[] = {0, -1, 1, 2, -1, 3};
    rc = hsn_rewrite_slots(ix, lang, "fuzz/input.js", "input.js", src, len, "__hud_b=0;", slots, 6, &r);
  } else {
    rc = hsn_rewrite(ix, lang, "fuzz/input.js", "input.js", src, len, "__hud_b=0;", &r);
  }
  if (rc != 0) {
    if (rc != HUD_ETIMEOUT && rc != HUD_ETOOBIG && rc != HUD_EINVAL) abort();
    return 0;
  }
  size_t n = 0;
  char *back = strip(r, &n);
  if (!back || n != len || memcmp(back, src, len)) {
    fprintf(stderr, "the code without its insertions is not the source\n");
    abort();
  }
  free(back);
  if (!r->parse_errors) {
    hud_index_opts opts = {.timeout_ms = 2000};
    hud_index_result *g = NULL;
    rc = hud_indexer_run(ix, lang, "fuzz/output.js", r->code, r->code_len, &opts, &g);
    if (rc != 0 && rc != HUD_ETIMEOUT) abort();
    if (g && g->parse_errors) {
      fprintf(stderr, "clean source, generated code does not parse:\n%s\n", r->code);
      abort();
    }
    hud_index_result_free(g);
  }
  hsn_result_free(r);
  return 0;
}
