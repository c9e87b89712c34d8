/* stdio transport of hud-lsp: Content-Length framed messages on one libuv loop.
 *
 * Input is fd IN_FD read as a pipe or socket (uv_pipe_t), a terminal (uv_tty_t) or a regular file
 * (uv_fs_read, chained). Output goes to OUT_FD through uv_write on a pipe, or write(2) for a file or
 * terminal. Framing (framer.h) errors never stop the transport: they are reported through ON_ERROR
 * and reading goes on with the next frame. End of input calls ON_EOF once. */
#ifndef LSP_TRANSPORT_H
#define LSP_TRANSPORT_H

#include <stddef.h>
#include <uv.h>

#include "framer.h"


typedef struct lsp_transport lsp_transport;

typedef struct lsp_transport_cbs {
  /* One frame body (not NUL-terminated; valid during the call). */
  void (*on_message)(void *ud, const char *body, size_t len);
  /* A framing error: a short sentence. */
  void (*on_error)(void *ud, const char *what);
  void (*on_eof)(void *ud);
  void *ud;
} lsp_transport_cbs;

/* 0 or a negative HUD_E* code (HUD_EINVAL: fd of an unsupported kind). */
int lsp_transport_new(uv_loop_t *loop, int in_fd, int out_fd, size_t max_frame, const lsp_transport_cbs *cbs,
                      lsp_transport **out);
/* Queues one frame (the header is added here). 0 or HUD_E*. */
int lsp_transport_send(lsp_transport *t, const char *body, size_t len);
/* Stops reading (no more callbacks). */
void lsp_transport_stop(lsp_transport *t);
/* Closes the handles; memory is released by the loop's close callbacks (run the loop afterwards). */
void lsp_transport_free(lsp_transport *t);
/* Bytes queued for writing and not yet written. */
size_t lsp_transport_pending(const lsp_transport *t);

#endif
