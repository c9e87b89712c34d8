/* Incremental re-index latency (bench/index.sh): a one-character edit in the middle of a
 * function body of a ~200 KB source file, re-parsed with ts_tree_edit and re-indexed.
 * usage: index_edit FILE [ROUNDS] — prints the file size, functions, and per-edit times. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hud/err.h"
#include "hud/index.h"

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int cmp_d(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: index_edit FILE [ROUNDS]\n");
    return 2;
  }
  int rounds = argc > 2 ? atoi(argv[2]) : 200;
  if (rounds < 1) rounds = 1;
  FILE *f = fopen(argv[1], "rb");
  if (!f) {
    perror(argv[1]);
    return 1;
  }
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  rewind(f);
  char *src = malloc((size_t)n + 1);
  if (!src || fread(src, 1, (size_t)n, f) != (size_t)n) return 1;
  fclose(f);
  hud_lang lang = hud_lang_from_path(argv[1]);
  hud_index_doc *doc = NULL;
  /* The first document compiles the queries (once per process): not part of the timing. */
  if (hud_index_doc_new(lang, "bench/file", src, (size_t)n, NULL, &doc) == 0) hud_index_doc_free(doc);
  doc = NULL;
  double t0 = now_ms();
  int rc = hud_index_doc_new(lang, "bench/file", src, (size_t)n, NULL, &doc);
  double full = now_ms() - t0;
  if (rc) {
    fprintf(stderr, "index_edit: %s\n", hud_strerror(rc));
    return 1;
  }
  const hud_index_result *r = hud_index_doc_result(doc);
  size_t nf = r->nfuncs;
  /* Typing inside a name in the function in the middle of the file (the text stays valid):
   * after the last identifier character of its last line. A second run types "(" at the
   * start of that line, which breaks the syntax (the whole file is then indexed again). */
  const hud_index_func *mid = &r->funcs[nf / 2];
  size_t line = mid->end_byte - 1;
  while (line > mid->start_byte && src[line - 1] != '\n') line--;
  size_t pos = line;
  while (src[pos] == ' ' || src[pos] == '\t') pos++;
  size_t start_of_code = pos;
  while (pos < (size_t)n && ((src[pos] >= 'a' && src[pos] <= 'z') || (src[pos] >= 'A' && src[pos] <= 'Z') ||
                            src[pos] == '_' || (src[pos] >= '0' && src[pos] <= '9')))
    pos++;
  double *t = malloc(sizeof *t * (size_t)rounds * 2);
  for (int pass = 0; pass < 2; pass++) {
  if (pass == 1) pos = start_of_code;
  const char *ch = pass ? "(" : "x"; /* an unclosed bracket breaks the rest of the file */
  for (int i = 0; i < rounds; i++) {
    double a = now_ms();
    rc = hud_index_doc_edit(doc, pos, 0, ch, 1); /* type a character */
    double b = now_ms();
    if (!rc) rc = hud_index_doc_edit(doc, pos, 1, NULL, 0); /* and delete it */
    double c = now_ms();
    if (rc) {
      fprintf(stderr, "index_edit: %s\n", hud_strerror(rc));
      return 1;
    }
    t[2 * i] = b - a;
    t[2 * i + 1] = c - b;
  }
  int m = rounds * 2;
  qsort(t, (size_t)m, sizeof *t, cmp_d);
  printf("incremental edit (%s): file %ld bytes, %zu functions, full index %.2f ms; "
         "one-character edit re-index (%d edits, type + delete): median %.3f ms, p95 %.3f ms, "
         "max %.3f ms\n",
         pass ? "syntax-breaking, at a line start" : "inside a name", n, nf, full, m, t[m / 2],
         t[(int)(m * 0.95)], t[m - 1]);
  }
  free(t);
  hud_index_doc_free(doc);
  free(src);
  return 0;
}
