/* Realistic synthetic batches for the server tests, the ingest benchmark and the fuzz corpus:
 * a service of N functions over a few modules, call edges, endpoints, sketches from lognormal
 * durations, a few exceptions. Deterministic for a seed. */
#ifndef SRV_BATCHGEN_H
#define SRV_BATCHGEN_H

#include <stddef.h>
#include <stdint.h>

#include "hud/model.h"

typedef struct batchgen_opts {
  uint64_t seed;
  const char *service;        /* default "shop" */
  const char *version;        /* default "1.0.0" */
  size_t n_functions;         /* default 50 */
  size_t n_invocations;       /* rows, default 200 */
  size_t n_flows;             /* endpoints, default 3 */
  hud_time_ns timestamp;      /* slice start, default now rounded to the minute */
  int with_sketches;          /* default on (set -1 to disable) */
} batchgen_opts;

/* Fills *OUT with memory from ARENA. Batch id derived from the seed. 0 or HUD_ENOMEM. */
int batchgen_make(const batchgen_opts *o, hud_arena *arena, hud_batch *out);
/* Encodes B to JSON and, when GZIP, gzips it. *BODY malloc'ed. */
int batchgen_encode(const hud_batch *b, int gzip, void **body, size_t *len);

#endif
