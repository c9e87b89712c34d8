/* Turns a simulated snapshot of the synthetic service (tests/detect/synth.h) into the batch the
 * sensor would send for one time slice, so the query tests ingest known figures over HTTP. */
#ifndef SYNTH_BATCH_H
#define SYNTH_BATCH_H

#include "hud/model.h"
#include "synth.h"

/* Flow id (uuid) of synthetic flow F. */
void synth_flow_uuid(int f, char out[HUD_UUID_STRLEN + 1]);
/* Fills *B (memory from ARENA) with every record of OUT at TIMESTAMP (one 60 s slice). */
int synth_batch(const synth_out *out, const char *version, const char *batch_id, hud_time_ns timestamp,
                hud_arena *arena, hud_batch *b);

#endif
