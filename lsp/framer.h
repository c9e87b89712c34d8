/* Content-Length framing of LSP messages, apart from any I/O: bytes in, frame bodies out.
 *
 * Errors never stop it: a header block without a usable Content-Length (or with a line without ':'),
 * a header block longer than LSP_MAX_HEADER, and a body over the frame limit (skipped as it streams
 * by, never buffered) are reported through ON_ERROR, and framing goes on with the next header. */
#ifndef LSP_FRAMER_H
#define LSP_FRAMER_H

#include <stdbool.h>
#include <stddef.h>

#define LSP_MAX_HEADER 8192
#define LSP_MAX_FRAME (64u << 20) /* default body limit: larger than any source file the index takes */

typedef struct lsp_framer lsp_framer;

/* MAX_FRAME 0: LSP_MAX_FRAME. ON_MESSAGE gets each body (valid during the call; it may call
 * lsp_framer_stop, never free); ON_ERROR a short sentence. 0 or HUD_ENOMEM. */
int lsp_framer_new(size_t max_frame, void (*on_message)(void *ud, const char *body, size_t len),
                   void (*on_error)(void *ud, const char *what), void *ud, lsp_framer **out);
void lsp_framer_free(lsp_framer *f);
void lsp_framer_feed(lsp_framer *f, const char *data, size_t n);
/* No more callbacks. */
void lsp_framer_stop(lsp_framer *f);
/* Bytes of an unfinished frame are held (for "input ended inside a frame"). */
bool lsp_framer_partial(const lsp_framer *f);

#endif
