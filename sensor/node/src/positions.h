/* Positions of the source index's functions as source maps count them: 0-based lines split
 * at '\n' (the index's rows) and columns in UTF-16 units. lib/tsmap.js matches compiled
 * JavaScript functions to their TypeScript ones with them. */
#ifndef HSN_POSITIONS_H
#define HSN_POSITIONS_H

#include <stddef.h>
#include <stdint.h>

#include "hud/index.h"

#define HSN_POINTS_PER_FN 4 /* start line, start column, name line, name column */

/* Fills OUT (HSN_POINTS_PER_FN * idx->nfuncs entries, caller-allocated) for IDX, the index of
 * SRC (LEN bytes): each function's start (its start_byte) and its name's start.
 * Returns 0 or HUD_ENOMEM. */
int hsn_points(const hud_index_result *idx, const char *src, size_t len, uint32_t *out);

#endif
