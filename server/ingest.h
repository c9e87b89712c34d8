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

/* The envelope of a batch, read without decoding it (srv_ingest_peek). */
typedef struct srv_batch_head {
  int schema_version;
  char batch_id[HUD_UUID_STRLEN + 1]; /* as sent (36 characters), not checked further */
  int has_environment;
  char environment[256];
} srv_batch_head;

/* Reads BODY (gzip as for srv_ingest_decode) up to its batch_id and schema_version, and with
 * WANT_ENV up to its environment or, when it has none, to its end. 1 when all of that was found
 * well-formed so far, else 0 (then only the decoder can say what is wrong). Builds nothing and
 * inflates only as much of the body as it reads. */
int srv_ingest_peek(const void *body, size_t len, int gzip, int want_env, srv_batch_head *out);

#endif
