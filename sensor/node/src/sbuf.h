/* JSON text for the Node sensor's source maps, written into the shared buffer (hud/buf.h). */
#ifndef HSN_SBUF_H
#define HSN_SBUF_H

#include "hud/buf.h"

/* S as a JSON string literal (quotes included); control characters escaped. */
void sbuf_json_str(hud_buf *b, const char *s);

#endif
