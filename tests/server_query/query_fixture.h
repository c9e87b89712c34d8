/* The query suites' fixture: a real hud-server on loopback holding two versions of the synthetic
 * service (tests/detect/synth.h), ingested over HTTP. Version 1.1.0 has fetch_order twice as slow and
 * charge failing 4% of the time instead of 1%. */
#ifndef QUERY_FIXTURE_H
#define QUERY_FIXTURE_H

#include "harness.h"
#include "hud/model.h"
#include "synth.h"

#define QF_INV 2000
#define QF_NS 1000000000LL

typedef struct query_fixture {
  srvh h;
  char key[128];       /* env prod */
  char other_key[128]; /* env staging */
  synth_out a, b;      /* 1.0.0, 1.1.0 */
  hud_time_ns t0;      /* slice of 1.0.0; 1.1.0 is ten minutes later */
  hud_time_ns from, to;
} query_fixture;

/* Starts the server, ingests both versions and waits (bounded) until the detection runner has stored
 * the issue of the slowdown; NULL on failure. */
query_fixture *query_fixture_start(void);
/* Stops the server and frees everything. NULL is a no-op. */
void query_fixture_stop(query_fixture *f);

#endif
