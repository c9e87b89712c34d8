#include "query_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hud/codec.h"
#include "synth_batch.h"

static int ingest(query_fixture *f, const synth_out *o, const char *version, const char *batch_id, hud_time_ns ts) {
  hud_arena *a = hud_arena_new();
  hud_batch b;
  char *json = NULL;
  size_t len = 0;
  hud_codec_error e;
  int rc = synth_batch(o, version, batch_id, ts, a, &b);
  if (rc == 0) rc = hud_batch_encode(&b, &json, &len, &e);
  if (rc < 0) fprintf(stderr, "encode: %s\n", e.message);
  if (rc == 0) rc = srvh_ingest_json(f->h.port, f->key, json, len);
  free(json);
  hud_arena_free(a);
  return rc;
}

query_fixture *query_fixture_start(void) {
  query_fixture *f = calloc(1, sizeof *f);
  if (!f) return NULL;
  if (srvh_tmpdir(&f->h) < 0 || srvh_start(&f->h, NULL) < 0) goto fail;
  if (srvh_key(&f->h, "prod", f->key) < 0 || srvh_key(&f->h, "staging", f->other_key) < 0) goto fail;
  synth_params pa = {.seed = 1, .invocations = QF_INV, .sample_rate = 1.0, .drift = 1.0, .sketches = 1};
  synth_change ch[] = {{.qualname = "fetch_order", .self_factor = 2.0, .raise_prob = -1},
                       {.qualname = "charge", .raise_prob = 0.08}};
  synth_params pb = pa;
  pb.seed = 1001;
  pb.changes = ch;
  pb.n_changes = 2;
  if (synth_run(&pa, "1.0.0", &f->a) < 0 || synth_run(&pb, "1.1.0", &f->b) < 0) goto fail;
  time_t now = time(NULL);
  f->t0 = ((hud_time_ns)now / 3600 * 3600 - 3600) * QF_NS;
  f->from = f->t0 - 3600 * QF_NS;
  f->to = f->t0 + 3600 * QF_NS;
  if (ingest(f, &f->a, "1.0.0", "6b0f8a53-3c1e-4c59-9d6e-0a4f6f1e0001", f->t0) < 0) goto fail;
  if (ingest(f, &f->b, "1.1.0", "6b0f8a53-3c1e-4c59-9d6e-0a4f6f1e0002", f->t0 + 600 * QF_NS) < 0) goto fail;
  /* The detection runner stores the issues after the fold: wait for them (bounded), so every
   * suite on this fixture sees the same issues. */
  for (int ms = 0; ms < 30000; ms += 100) {
    srvh_resp r;
    if (srvh_request(f->h.port, "GET", "/v1/issues?service=shop&status=all", f->key, NULL, 0, NULL, &r) < 0) goto fail;
    int have = r.status == 200 && r.body && strstr(r.body, "\"issue_id\"") != NULL;
    srvh_resp_free(&r);
    if (have) break;
    usleep(100 * 1000);
  }
  return f;
fail:
  query_fixture_stop(f);
  return NULL;
}

void query_fixture_stop(query_fixture *f) {
  if (!f) return;
  if (f->h.pid) srvh_stop(&f->h, 15);
  srvh_cleanup(&f->h);
  synth_out_free(&f->a);
  synth_out_free(&f->b);
  free(f);
}
