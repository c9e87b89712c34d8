/* Drives the real hud-tui under a private tmux server against the query fixture's hud-server, and compares
 * screens with golden files (tests/tui/golden; HUD_UPDATE_GOLDEN=1 rewrites them). */
#ifndef TUI_DRIVER_H
#define TUI_DRIVER_H

#include <stdbool.h>
#include <stddef.h>

#include "query_fixture.h"

#define TD_XTERM_UTF8 "TERM=xterm-256color LANG=C.UTF-8 LC_ALL=C.UTF-8"
#define TD_VT100_C "TERM=vt100 LANG=C LC_ALL=C"
#define TD_READY "row 1 of" /* the status line once a table view has its data */
#define TD_WAIT_MS 15000

/* Starts the fixture (and warms the server's fold so that unforced reads see both versions) and a private
 * tmux server. 0 or -1. */
int td_setup(void);
/* Only the tmux side (scratch directory, private server socket): for tests that run their own hud-server. */
int td_setup_tmux(void);
void td_teardown(void);
const char *td_socket(void); /* tmux -L name */
query_fixture *td_fixture(void);
const char *td_bin(void);       /* the hud-tui binary */
const char *td_tmpdir(void);    /* scratch directory of this run */
const char *td_sock(void);      /* the private tmux server's socket name (tmux -L) */
/* Sends raw bytes to the pane as typed (tmux send-keys -l), e.g. an SGR mouse report; BYTES is a printf(1)
 * format ("\033[<0;5;6M"). */
void td_bytes(const char *name, const char *bytes);

/* Runs a shell command (printf-style); its exit status, or -1. */
int td_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Runs a shell command and returns its stdout (malloc'ed); *STATUS gets the exit status. */
char *td_sh_out(int *status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Starts session NAME of W x H running `env ENV hud-tui --url <server> --key <key> --service shop --env prod
 * ARGS` (CMD_OVERRIDE: run this shell command instead). */
void td_start(const char *name, int w, int h, const char *env, const char *args);
void td_start_cmd(const char *name, int w, int h, const char *cmd);
void td_keys(const char *name, const char *keys); /* tmux send-keys arguments */
/* The pane's text once it contains MARKER (NULL: anything), has no "loading..." and is stable; NULL on
 * timeout (ms). malloc'ed. */
char *td_screen(const char *name, const char *marker, int timeout_ms);
/* The pane with its SGR attributes (capture-pane -e), malloc'ed. */
char *td_screen_sgr(const char *name);
/* The pane's text as soon as it contains MARKER (loading or not); NULL on timeout. malloc'ed. */
char *td_screen_now(const char *name, const char *marker, int timeout_ms);
void td_kill(const char *name);
void td_resize(const char *name, int w, int h);
/* Masks volatile parts (data age, retry delay) in place. */
void td_mask(char *s);
/* Compares TEXT (masked first) with golden file NAME.txt; false (and NAME.actual written) on mismatch. */
bool td_golden(const char *name, char *text);
/* cmocka checks: td_start, then the first full screen equals golden GOLDEN (NULL: not compared). */
void td_ready(const char *name, int w, int h, const char *env, const char *args, const char *golden);
/* The screen reaches MARKER within TD_WAIT_MS and equals golden GOLDEN (NULL: not compared). */
void td_expect(const char *name, const char *marker, const char *golden);
/* The files DIR/before and DIR/after (`stty -a` around hud-tui, written by the session's shell) are equal
 * and DIR/rc (its exit status) is RC: cmocka checks. */
void td_assert_restored(const char *dir, int rc);
/* Pid of the pane's process (its first child when CHILD). */
int td_pane_pid(const char *name, bool child);

#endif
