/* hud-lsp: the language server. Production figures as code lenses and hovers, over stdio. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "hud/cli.h"
#include "hud/config.h"
#include "server.h"
#include "transport.h"

static void usage(FILE *out) {
  fprintf(out, "usage: hud-lsp [--stdio] [config flags] [--help] [--version]\n\n"
               "Language server over stdin/stdout: production figures of hud-server as code lenses and\n"
               "hovers. Settings: docs/lsp.md. Config flags (override the editor's initializationOptions):\n");
  hud_config_print_flags(out);
}

static void on_message(void *ud, const char *body, size_t len) { lsp_server_on_frame(ud, body, len); }
static void on_error(void *ud, const char *what) { lsp_server_on_frame_error(ud, what); }

static void on_eof(void *ud) {
  lsp_server *s = ud;
  /* The client went away: a clean end only if it had asked for shutdown. */
  if (!s->exiting) lsp_server_exit(s, s->state == LSP_STATE_SHUTDOWN ? 0 : 1);
}

static void on_exit_check(uv_check_t *c) {
  lsp_server *s = c->data;
  if (s->exiting) uv_stop(s->loop);
}

static int parse_args(hud_config *cfg, int argc, char **argv) {
  if (hud_config_apply_args(cfg, &argc, argv) != 0) {
    fprintf(stderr, "hud-lsp: %s\n", hud_config_error(cfg));
    return 2;
  }
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--version") == 0) {
      hud_cli_print_version(stdout, "hud-lsp");
      return 0;
    }
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      usage(stdout);
      return 0;
    }
    if (strcmp(argv[i], "--stdio") == 0) continue; /* what editors pass; stdio is the only transport */
    fprintf(stderr, "hud-lsp: unknown option '%s'\n", argv[i]);
    usage(stderr);
    return 2;
  }
  return -1;
}

int main(int argc, char **argv) {
  signal(SIGPIPE, SIG_IGN);
  hud_config *cfg = NULL;
  if (hud_config_new(&cfg, "lsp") != 0) return 1;
  int rc = parse_args(cfg, argc, argv);
  if (rc >= 0) {
    hud_config_free(cfg);
    return rc;
  }
  if (hud_config_load(cfg, NULL) != 0) /* a bad config file is reported, the server still runs */
    fprintf(stderr, "hud-lsp: %s\n", hud_config_error(cfg));
  uv_loop_t loop;
  uv_loop_init(&loop);
  lsp_server s = {.loop = &loop, .base_cfg = cfg};
  lsp_transport_cbs cbs = {.on_message = on_message, .on_error = on_error, .on_eof = on_eof, .ud = &s};
  if (lsp_transport_new(&loop, STDIN_FILENO, STDOUT_FILENO, 0, &cbs, &s.tr) != 0) {
    fprintf(stderr, "hud-lsp: stdin must be a pipe, a socket, a terminal or a file\n");
    hud_config_free(cfg);
    return 1;
  }
  uv_check_t check;
  uv_check_init(&loop, &check);
  check.data = &s;
  uv_check_start(&check, on_exit_check);
  while (!s.exiting && uv_run(&loop, UV_RUN_DEFAULT) != 0) {
  }
  /* Tear down, then let the loop finish the writes and close callbacks. */
  uv_close((uv_handle_t *)&check, NULL);
  lsp_server_release(&s);
  lsp_transport_free(s.tr);
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  hud_config_free(cfg);
  return s.exit_code;
}
