/* A detection finding (srv_issue, detect.h) as bytes, for the issues table's `finding` column: the
 * stored baseline that srv_detect_still() tests newer data against. Private to the server (the
 * wire form of an issue is the codec's hud_issue); a blob of another format version fails to
 * decode and the issue is then neither resolved nor reopened by it until it is found again. */
#ifndef SRV_ISSUE_BLOB_H
#define SRV_ISSUE_BLOB_H

#include <stddef.h>

#include "detect.h"
#include "hud/model.h"

/* Encodes IS into a malloc'ed *OUT of *LEN bytes (caller frees). 0 or HUD_ENOMEM. */
int srv_issue_blob_encode(const srv_issue *is, unsigned char **out, size_t *len);
/* Decodes into *OUT, every string and array in ARENA (do not srv_det_result_free it). HUD_EPARSE
 * on a truncated, damaged or other-version blob. */
int srv_issue_blob_decode(const void *blob, size_t len, hud_arena *arena, srv_issue *out);

#endif
