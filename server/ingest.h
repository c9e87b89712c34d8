/* The ingest decoder and validator, shared by the POST /v1/ingest handler and the fuzz target. */
#ifndef SRV_INGEST_H
#define SRV_INGEST_H

#include <stddef.h>

#include "hud/codec.h"
#include "hud/model.h"

/* Server-side checks beyond the codec (non-empty service, sketch accuracy, timestamps not in the
 * future). 0 or a negative HUD_E* with ERR naming the field. */
int srv_ingest_validate(const hud_batch *b, hud_time_ns now, hud_codec_error *err);

/* Decodes BODY (gzip when GZIP or when it starts with the gzip magic) into OUT (memory in ARENA)
 * and validates it. 0, or a negative HUD_E* with ERR filled. */
int srv_ingest_decode(const void *body, size_t len, int gzip, hud_time_ns now, hud_arena *arena, hud_batch *out,
                      hud_codec_error *err);

#endif
