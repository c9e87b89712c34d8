/* Batch decoding cost per invocation row: gunzip, then the streaming decoder with all of its
 * validation (what POST /v1/ingest does before storing), on realistic 1000-row batches.
 *
 * usage: codec_bench [--rows 1000] [--reps 50] */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "batchgen.h"
#include "hud/codec.h"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  size_t rows = 1000, reps = 50;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--rows")) rows = strtoul(argv[i + 1], NULL, 10);
    else if (!strcmp(argv[i], "--reps")) reps = strtoul(argv[i + 1], NULL, 10);
  }
  if (!rows || !reps) return 2;
  hud_arena *a = hud_arena_new();
  hud_batch b;
  batchgen_opts o = {.seed = 5, .n_invocations = rows, .n_functions = 300, .n_flows = 5};
  void *gz, *js;
  size_t gl, jl;
  if (!a || batchgen_make(&o, a, &b) < 0 || batchgen_encode(&b, 1, &gz, &gl) < 0 ||
      batchgen_encode(&b, 0, &js, &jl) < 0) {
    fprintf(stderr, "codec_bench: cannot make a batch\n");
    return 1;
  }
  double best_gz = 1e9, best_dec = 1e9;
  for (size_t r = 0; r < reps; r++) {
    double t0 = now_s();
    void *plain;
    size_t pl;
    if (hud_gzip_decode(gz, gl, HUD_MAX_DECODED_BYTES, &plain, &pl) < 0) return 1;
    double t1 = now_s();
    hud_arena *x = hud_arena_new();
    hud_batch out;
    hud_codec_error e;
    if (hud_batch_decode(plain, pl, NULL, x, &out, &e) < 0) {
      fprintf(stderr, "codec_bench: %s\n", e.message);
      return 1;
    }
    double t2 = now_s();
    hud_arena_free(x);
    free(plain);
    if (t1 - t0 < best_gz) best_gz = t1 - t0;
    if (t2 - t1 < best_dec) best_dec = t2 - t1;
  }
  printf("codec: %zu-row batch, %zu bytes JSON (%.0f per row), %zu bytes gzip\n", rows, jl, (double)jl / rows, gl);
  printf("codec: per invocation row (best of %zu): gunzip %.2f us, decode+validate %.2f us (%.0f MB/s of JSON)\n",
         reps, best_gz * 1e6 / rows, best_dec * 1e6 / rows, (double)jl / best_dec / 1e6);
  free(gz);
  free(js);
  hud_arena_free(a);
  return 0;
}
