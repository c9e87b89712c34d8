/* hud-tui under tmux against the real hud-server: an unknown TERM, the terminal restored (stty -a before and
 * after) on q, SIGHUP, SIGINT and SIGTERM, a backend that is down, and one that stops answering. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "tui_driver.h"


static void unknown_term(void **state) {
  td_start("u1", 80, 24, "TERM=no-such-terminal-hud LANG=C.UTF-8 LC_ALL=C.UTF-8", "");
  td_expect("u1", "unknown TERM 'no-such-terminal-hud': using vt100", NULL);
  char *s = td_screen("u1", "fetch_order", TD_WAIT_MS);
  assert_non_null(s);
  free(s);
  td_kill("u1");
}

/* Runs hud-tui in a shell that saves `stty -a` before and after; returns the session's directory. */
static void start_wrapped(const char *name, const char *url_args, char dir[512]) {
  snprintf(dir, 512, "%s/%s", td_tmpdir(), name);
  mkdir(dir, 0700);
  char cmd[2048];
  snprintf(cmd, sizeof cmd,
           "sh -c \"trap : INT; stty -a > %s/before; env " TD_XTERM_UTF8 " %s %s --service shop --env prod; "
           "echo \\$? > %s/rc; stty -a > %s/after\"",
           dir, td_bin(), url_args, dir, dir);
  td_start_cmd(name, 80, 24, cmd);
}

static void restore_on_exit_paths(void **state) {
  char url[512], dir[512];
  snprintf(url, sizeof url, "--url http://127.0.0.1:%d --key %s", td_fixture()->h.port, td_fixture()->key);
  struct {
    const char *name;
    int sig; /* 0: key q; SIGINT: key C-c */
  } cases[] = {{"x_q", 0}, {"x_hup", SIGHUP}, {"x_int", SIGINT}, {"x_term", SIGTERM}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    start_wrapped(cases[i].name, url, dir);
    char *s = td_screen(cases[i].name, TD_READY, TD_WAIT_MS);
    assert_non_null(s);
    free(s);
    if (cases[i].sig == 0) td_keys(cases[i].name, "q");
    else if (cases[i].sig == SIGINT) td_keys(cases[i].name, "C-c");
    else {
      int pid = td_pane_pid(cases[i].name, true);
      assert_true(pid > 0);
      kill(pid, cases[i].sig);
    }
    td_assert_restored(dir, cases[i].sig ? 128 + cases[i].sig : 0);
    td_kill(cases[i].name);
  }
}

static void backend_down(void **state) {
  char dir[512];
  start_wrapped("down", "--url http://127.0.0.1:9 --connect-timeout-ms 2000", dir);
  td_expect("down", "backend unreachable at http://127.0.0.1:9", "backend_down_80x24_xterm_utf8");
  td_keys("down", "q");
  td_assert_restored(dir, 0);
  td_kill("down");
}

/* The backend stops answering after the first screen: the data stays, with its age, and comes back. */
static void stale_data_kept(void **state) {
  td_ready("st", 80, 24, TD_XTERM_UTF8, "--interval 1 --timeout-ms 1000", NULL);
  pid_t srv = td_fixture()->h.pid;
  kill(srv, SIGSTOP);
  char *s = td_screen("st", "showing the data from", TD_WAIT_MS);
  kill(srv, SIGCONT);
  assert_non_null(s);
  assert_non_null(strstr(s, "timed out"));
  assert_non_null(strstr(s, "fetch_order                 2.78  2.89ms  8.95ms  14.4ms"));
  free(s);
  s = td_screen("st", TD_READY, TD_WAIT_MS); /* the status line is back to normal after a good fetch */
  assert_non_null(s);
  assert_null(strstr(s, "retry in"));
  free(s);
  td_kill("st");
}

/* A request hangs (the server is stopped, the timeout is 8 s): keys still answer at once. */
static void keys_while_backend_hangs(void **state) {
  td_ready("hang", 80, 24, TD_XTERM_UTF8, "--timeout-ms 8000", NULL);
  pid_t srv = td_fixture()->h.pid;
  kill(srv, SIGSTOP);
  td_keys("hang", "r");
  char *busy = td_screen_now("hang", "loading...", 3000); /* the refetch is hanging now */
  assert_non_null(busy);
  free(busy);
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  td_keys("hang", "G");
  char *s = td_screen_now("hang", "row 15 of 15", 5000);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  kill(srv, SIGCONT);
  assert_non_null(s);
  assert_non_null(strstr(s, "loading..."));
  free(s);
  double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
  fprintf(stderr, "key answered in %.0f ms while the request hangs\n", ms);
  assert_true(ms < 3000); /* the request itself hangs for 8 s */
  td_kill("hang");
}

static void wrong_key(void **state) {
  td_start("k401", 80, 24, TD_XTERM_UTF8, "--key hud_not_a_key");
  td_expect("k401", "401 unauthorized: the API key is missing or wrong", NULL);
  td_kill("k401");
}

static int setup(void **state) { return td_setup(); }
static int teardown(void **state) {
  td_teardown();
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(unknown_term),
      cmocka_unit_test(restore_on_exit_paths),
      cmocka_unit_test(backend_down),
      cmocka_unit_test(stale_data_kept),
      cmocka_unit_test(keys_while_backend_hangs),
      cmocka_unit_test(wrong_key),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
