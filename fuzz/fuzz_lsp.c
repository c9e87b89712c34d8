/* libFuzzer target for hud-lsp's edge: framing, JSON codec, dispatcher, lifecycle, document sync
 * (positions, incremental edits and re-indexing), lenses and hovers, as one client session.
 *
 * Input layout: byte 0 bit 0 clear: the rest is the raw stdin stream (Content-Length frames); set:
 * every line of the rest is one frame body (the target adds the headers), which lets the fuzzer work
 * on JSON. The loop runs only while documents are being indexed (on workers), so backend requests are
 * in practice started and canceled, not answered; the answers go nowhere (no transport). Seeds: fuzz/corpus/lsp. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "docs.h"
#include "framer.h"
#include "hud/config.h"
#include "server.h"

static bool indexing(lsp_server *s) {
  for (size_t i = 0; s->docs && i < lsp_docs_count(s->docs); i++)
    if (!lsp_doc_ready(lsp_docs_at(s->docs, i))) return true;
  return false;
}

static void on_message(void *ud, const char *body, size_t len) {
  lsp_server *s = ud;
  if (s->exiting) return;
  lsp_server_on_frame(s, body, len);
  /* Documents are indexed on workers: let them finish, so that the requests waiting for them run
   * (the loop otherwise runs only at the end, where backend requests are canceled unsent). */
  for (int i = 0; i < 20000 && indexing(s); i++) {
    uv_run(s->loop, UV_RUN_NOWAIT);
    if (indexing(s)) usleep(50);
  }
}

static void on_error(void *ud, const char *what) { lsp_server_on_frame_error(ud, what); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  uv_loop_t loop;
  uv_loop_init(&loop);
  hud_config *cfg = NULL;
  if (hud_config_new(&cfg, "lsp") != 0) abort();
  hud_config_set(cfg, "url", "http://127.0.0.1:9", HUD_CFG_SRC_FILE);
  lsp_server s = {.loop = &loop, .base_cfg = cfg};
  lsp_framer *f = NULL;
  if (lsp_framer_new(1u << 20, on_message, on_error, &s, &f) != 0) abort();
  const char *p = (const char *)data + 1, *end = (const char *)data + size;
  if (data[0] & 1) {
    while (p < end && !s.exiting) {
      const char *nl = memchr(p, '\n', (size_t)(end - p));
      size_t n = (size_t)((nl ? nl : end) - p);
      char head[48];
      int hl = snprintf(head, sizeof head, "Content-Length: %zu\r\n\r\n", n);
      lsp_framer_feed(f, head, (size_t)hl);
      lsp_framer_feed(f, p, n);
      p += n + 1;
    }
  } else {
    lsp_framer_feed(f, p, (size_t)(end - p));
  }
  lsp_framer_free(f);
  lsp_server_release(&s);
  uv_run(&loop, UV_RUN_DEFAULT);
  if (uv_loop_close(&loop) != 0) abort(); /* a handle left open */
  hud_config_free(cfg);
  return 0;
}
