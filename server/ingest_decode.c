/* The ingest decoder and validator (no HTTP, no store): shared by POST /v1/ingest and the fuzz
 * target fuzz/fuzz_ingest.c. */
#include <stdio.h>
#include <string.h>

#include "hud/err.h"
#include "ingest.h"

/* Batches from clocks this far ahead are refused: they would sit in the future forever. */
#define MAX_FUTURE_NS (24LL * 3600 * 1000000000LL)

static int fail(hud_codec_error *err, int code, const char *path, const char *fmt, const char *arg) {
  err->code = code;
  snprintf(err->path, sizeof err->path, "%s", path);
  char what[256];
  snprintf(what, sizeof what, fmt, arg);
  snprintf(err->message, sizeof err->message, "%s: %s", path, what);
  return code;
}

static int check_sketch(const hud_sketch_bins *b, const char *kind, size_t i, hud_codec_error *err) {
  if (!b) return 0;
  char path[96];
  snprintf(path, sizeof path, "%s[%zu].sketch", kind, i);
  /* The codec checked that it imports; the store merges bins, which needs one accuracy. */
  if (b->alpha != HUD_SKETCH_DEFAULT_ALPHA)
    return fail(err, HUD_ERANGE, path, "alpha must be %s (sketches of one store must merge)", "0.005");
  return 0;
}

static int check_time(hud_time_ns ts, hud_time_ns now, const char *kind, size_t i, hud_codec_error *err) {
  if (ts <= now + MAX_FUTURE_NS) return 0;
  char path[96];
  snprintf(path, sizeof path, "%s[%zu].timestamp", kind, i);
  return fail(err, HUD_ERANGE, path, "%s", "more than 24 h in the future");
}

int srv_ingest_validate(const hud_batch *b, hud_time_ns now, hud_codec_error *err) {
  int rc = 0;
  if (!b->service || !b->service[0]) return fail(err, HUD_EFIELD, "service", "%s", "must be a non-empty string");
  for (size_t i = 0; rc == 0 && i < b->n_invocations; i++) {
    rc = check_sketch(b->invocations[i].sketch, "invocations", i, err);
    if (rc == 0) rc = check_time(b->invocations[i].timestamp, now, "invocations", i, err);
  }
  for (size_t i = 0; rc == 0 && i < b->n_flows; i++) {
    rc = check_sketch(b->flows[i].sketch, "flows", i, err);
    if (rc == 0) rc = check_time(b->flows[i].timestamp, now, "flows", i, err);
  }
  for (size_t i = 0; rc == 0 && i < b->n_exception_flows; i++)
    rc = check_time(b->exception_flows[i].timestamp, now, "exception_flows", i, err);
  for (size_t i = 0; rc == 0 && i < b->n_flow_functions; i++)
    rc = check_time(b->flow_functions[i].timestamp, now, "flow_functions", i, err);
  return rc;
}

int srv_ingest_decode(const void *body, size_t len, int gzip, hud_time_ns now, hud_arena *arena, hud_batch *out,
                      hud_codec_error *err) {
  memset(err, 0, sizeof *err);
  int rc = hud_batch_decode_body(body, len, gzip, NULL, arena, out, err);
  if (rc == 0) rc = srv_ingest_validate(out, now, err);
  if (rc < 0 && err->code == 0) {
    err->code = rc;
    snprintf(err->message, sizeof err->message, "%s", hud_strerror(rc));
  }
  return rc;
}

