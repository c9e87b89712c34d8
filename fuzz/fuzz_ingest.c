/* libFuzzer target: the ingest decoder + validator of POST /v1/ingest (gzip or JSON body → batch).
 * Any input must give 0 or a negative HUD_E* code with an error message, never a crash or leak.
 * The first byte picks the Content-Encoding flag, the rest is the body. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "hud/codec.h"
#include "ingest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  int gzip = data[0] & 1;
  hud_arena *arena = hud_arena_new();
  if (!arena) return 0;
  hud_batch b;
  hud_codec_error err;
  /* A fixed clock keeps runs reproducible. */
  int rc = srv_ingest_decode(data + 1, size - 1, gzip, (hud_time_ns)1700000000 * 1000000000LL, arena, &b, &err);
  if (rc < 0 && err.message[0] == 0) __builtin_trap(); /* every refusal names its cause */
  if (rc == 0 && (!b.service || !b.service[0])) __builtin_trap();
  hud_arena_free(arena);
  return 0;
}
