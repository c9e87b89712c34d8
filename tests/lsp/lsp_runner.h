/* Drives the real hud-lsp binary over pipes, like clangd's lit tests: transcripts of client frames
 * and expected server frames (tests/lsp/transcripts/NAME.lsp, format in the file's header comment in lsp_runner.c). */
#ifndef LSP_RUNNER_H
#define LSP_RUNNER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct lspr_var {
  const char *name;  /* placeholder ${name} */
  const char *value;
} lspr_var;

typedef struct lspr {
  pid_t pid;
  int in_fd, out_fd;  /* the child's stdin (we write), stdout (we read) */
  char *buf;          /* bytes read, not yet framed */
  size_t len, cap;
  json_t **frames;    /* every frame received, in order */
  size_t n_frames, cap_frames;
  bool *used;         /* frames[i] matched an expectation */
  size_t next;        /* frames before it are all used */
  int status;         /* waitpid status once reaped, else -1 */
  char err[6144];     /* why the last step failed */
} lspr;

/* Starts hud-lsp (HUD_BUILD_DIR/lsp/hud-lsp) with ARGS (NULL-terminated, may be NULL) and a clean
 * environment: XDG_CONFIG_HOME=CONFIG_HOME, no HUD_* variables. 0 or -1. */
int lspr_start(lspr *r, const char *config_home, const char *const *args);
/* Kills the child if still running and frees everything. */
void lspr_stop(lspr *r);

/* Sends one framed JSON body. */
int lspr_send(lspr *r, const char *body, size_t len);
int lspr_send_json(lspr *r, json_t *msg); /* steals MSG */
/* Raw bytes. */
int lspr_write(lspr *r, const void *data, size_t len);
/* Waits for a frame partially matching EXPECTED (every member of EXPECTED equal in the frame, arrays
 * element-wise) among those no expectation used yet: answers in order, notifications and server
 * requests in any order. The frame, or NULL after TIMEOUT_MS or when the next unused answer does not
 * match an expected answer (r->err says why). Owned by R. */
json_t *lspr_expect(lspr *r, const json_t *expected, int timeout_ms);
/* Reads whatever arrives during MS milliseconds. */
void lspr_wait(lspr *r, int ms);
/* Frames received so far that match PATTERN. */
size_t lspr_count(const lspr *r, const json_t *pattern);
/* Closes the child's stdin. */
void lspr_close_input(lspr *r);
/* Waits for the child to exit; its exit code, -2 if killed by a signal, -1 on timeout. */
int lspr_wait_exit(lspr *r, int timeout_ms);

/* Partial match of EXPECTED against ACTUAL. */
bool lspr_match(const json_t *expected, const json_t *actual);

/* Runs the transcript file PATH with the placeholders VARS. 0, or -1 with r->err naming the line. */
int lspr_run_file(const char *path, const char *config_home, const lspr_var *vars, size_t n_vars, char *err,
                  size_t err_len);

#endif
