/* Content-Length framing over stdio on a libuv loop (transport.h). */
#include "transport.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "framer.h"
#include "hud/err.h"

#define READ_CHUNK 65536

enum in_kind { IN_STREAM, IN_FILE };

struct lsp_transport {
  uv_loop_t *loop;
  lsp_transport_cbs cbs;
  size_t max_frame;
  enum in_kind in_kind;
  union {
    uv_pipe_t pipe;
    uv_tty_t tty;
    uv_stream_t stream;
  } in;
  bool in_open;
  uv_fs_t fs_req;
  int in_fd;
  char *fs_buf;
  bool fs_busy;
  uv_pipe_t out_pipe;
  bool out_is_pipe;
  bool out_open;
  int out_fd;
  size_t pending;
  uv_shutdown_t shut;
  lsp_framer *framer;
  bool stopped, eof;
  int handles_open;       /* close callbacks still to come before the struct may go */
  bool freed;
};

static void at_eof(lsp_transport *t) {
  if (t->eof) return;
  t->eof = true;
  if (t->stopped) return;
  if (lsp_framer_partial(t->framer) && t->cbs.on_error) t->cbs.on_error(t->cbs.ud, "input ended inside a frame");
  if (t->cbs.on_eof) t->cbs.on_eof(t->cbs.ud);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b) {
  (void)h;
  (void)suggested;
  b->base = malloc(READ_CHUNK);
  b->len = b->base ? READ_CHUNK : 0;
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b) {
  lsp_transport *t = s->data;
  if (n > 0 && !t->stopped) lsp_framer_feed(t->framer, b->base, (size_t)n);
  free(b->base);
  if (n < 0) {
    uv_read_stop(s);
    at_eof(t);
  }
}

static void start_file_read(lsp_transport *t);

/* Drops one of the references held by open handles and pending requests; the last frees. */
static void release(lsp_transport *t) {
  if (--t->handles_open > 0) return;
  lsp_framer_free(t->framer);
  free(t->fs_buf);
  free(t);
}

static void on_fs_read(uv_fs_t *req) {
  lsp_transport *t = req->data;
  ssize_t n = req->result;
  uv_fs_req_cleanup(req);
  t->fs_busy = false;
  if (t->freed) {
    release(t);
    return;
  }
  if (n > 0 && !t->stopped) lsp_framer_feed(t->framer, t->fs_buf, (size_t)n);
  if (n <= 0) {
    at_eof(t);
    return;
  }
  if (!t->stopped) start_file_read(t);
}

static void start_file_read(lsp_transport *t) {
  uv_buf_t b = uv_buf_init(t->fs_buf, READ_CHUNK);
  t->fs_req.data = t;
  if (uv_fs_read(t->loop, &t->fs_req, t->in_fd, &b, 1, -1, on_fs_read) == 0) t->fs_busy = true;
  else at_eof(t);
}

int lsp_transport_new(uv_loop_t *loop, int in_fd, int out_fd, size_t max_frame, const lsp_transport_cbs *cbs,
                      lsp_transport **out) {
  lsp_transport *t = calloc(1, sizeof *t);
  if (!t) return HUD_ENOMEM;
  t->loop = loop;
  t->cbs = *cbs;
  t->max_frame = max_frame ? max_frame : LSP_MAX_FRAME;
  if (lsp_framer_new(t->max_frame, cbs->on_message, cbs->on_error, cbs->ud, &t->framer) != 0) {
    free(t);
    return HUD_ENOMEM;
  }
  t->in_fd = in_fd;
  t->out_fd = out_fd;
  int rc = 0;
  switch (uv_guess_handle(in_fd)) {
  case UV_NAMED_PIPE:
  case UV_TCP:
    rc = uv_pipe_init(loop, &t->in.pipe, 0);
    if (rc == 0) {
      t->in_open = true;
      rc = uv_pipe_open(&t->in.pipe, in_fd);
    }
    break;
  case UV_TTY:
    rc = uv_tty_init(loop, &t->in.tty, in_fd, 1);
    if (rc == 0) t->in_open = true;
    break;
  case UV_FILE:
    t->in_kind = IN_FILE;
    t->fs_buf = malloc(READ_CHUNK);
    if (!t->fs_buf) rc = UV_ENOMEM;
    break;
  default:
    rc = UV_EINVAL;
  }
  if (rc == 0 && uv_guess_handle(out_fd) == UV_NAMED_PIPE) {
    rc = uv_pipe_init(loop, &t->out_pipe, 0);
    if (rc == 0) {
      t->out_open = t->out_is_pipe = true;
      rc = uv_pipe_open(&t->out_pipe, out_fd);
      t->out_pipe.data = t;
    }
  }
  if (rc == 0) {
    if (t->in_kind == IN_FILE) {
      start_file_read(t);
    } else {
      t->in.stream.data = t;
      rc = uv_read_start(&t->in.stream, on_alloc, on_read);
    }
  }
  if (rc != 0) {
    t->stopped = true;
    lsp_transport_free(t);
    return HUD_EINVAL;
  }
  *out = t;
  return 0;
}

typedef struct write_req {
  uv_write_t req;
  lsp_transport *t;
  size_t len;
  char data[];
} write_req;

static void on_write(uv_write_t *req, int status) {
  write_req *w = (write_req *)req;
  w->t->pending -= w->len;
  if (status < 0 && status != UV_ECANCELED) fprintf(stderr, "hud-lsp: write failed: %s\n", uv_strerror(status));
  free(w);
}

static int write_all(int fd, const char *p, size_t n) {
  while (n) {
    ssize_t k = write(fd, p, n);
    if (k < 0 && errno == EINTR) continue;
    if (k < 0 && errno == EAGAIN) continue; /* a non-blocking terminal: retry */
    if (k <= 0) return HUD_EIO;
    p += k;
    n -= (size_t)k;
  }
  return 0;
}

int lsp_transport_send(lsp_transport *t, const char *body, size_t len) {
  char head[64];
  int hl = snprintf(head, sizeof head, "Content-Length: %zu\r\n\r\n", len);
  if (!t->out_is_pipe) {
    int rc = write_all(t->out_fd, head, (size_t)hl);
    return rc ? rc : write_all(t->out_fd, body, len);
  }
  if (!t->out_open) return HUD_EIO;
  write_req *w = malloc(sizeof *w + (size_t)hl + len);
  if (!w) return HUD_ENOMEM;
  w->t = t;
  w->len = (size_t)hl + len;
  memcpy(w->data, head, (size_t)hl);
  memcpy(w->data + hl, body, len);
  uv_buf_t b = uv_buf_init(w->data, (unsigned)w->len);
  int rc = uv_write(&w->req, (uv_stream_t *)&t->out_pipe, &b, 1, on_write);
  if (rc < 0) {
    free(w);
    return HUD_EIO;
  }
  t->pending += w->len;
  return 0;
}

void lsp_transport_stop(lsp_transport *t) {
  if (t->stopped) return;
  t->stopped = true;
  if (t->framer) lsp_framer_stop(t->framer);
  if (t->in_kind == IN_STREAM && t->in_open) uv_read_stop(&t->in.stream);
}

size_t lsp_transport_pending(const lsp_transport *t) { return t->pending; }

static void on_closed(uv_handle_t *h) { release(h->data); }

static void on_shutdown(uv_shutdown_t *req, int status) {
  (void)status;
  lsp_transport *t = req->data;
  uv_close((uv_handle_t *)&t->out_pipe, on_closed);
}

void lsp_transport_free(lsp_transport *t) {
  if (!t) return;
  lsp_transport_stop(t);
  t->freed = true;
  t->handles_open = 1; /* released below, after the handles are scheduled */
  if (t->in_open) {
    t->handles_open++;
    t->in.stream.data = t;
    uv_close((uv_handle_t *)&t->in.stream, on_closed);
  }
  if (t->fs_busy) {
    t->handles_open++;
    uv_cancel((uv_req_t *)&t->fs_req);
  }
  if (t->out_open) {
    t->handles_open++;
    t->shut.data = t;
    /* Pending frames are written before the pipe closes. */
    if (uv_shutdown(&t->shut, (uv_stream_t *)&t->out_pipe, on_shutdown) != 0)
      uv_close((uv_handle_t *)&t->out_pipe, on_closed);
  }
  release(t);
}
