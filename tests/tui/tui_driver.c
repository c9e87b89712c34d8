#define _GNU_SOURCE
#include "tui_driver.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

static query_fixture *g_f;
static char g_sock[64], g_bin[1024], g_tmp[256], g_conf[512];

query_fixture *td_fixture(void) { return g_f; }
const char *td_bin(void) { return g_bin; }
const char *td_tmpdir(void) { return g_tmp; }

static char *vfmt(const char *fmt, va_list ap) {
  char *s = NULL;
  if (vasprintf(&s, fmt, ap) < 0) return NULL;
  return s;
}

int td_sh(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *cmd = vfmt(fmt, ap);
  va_end(ap);
  if (!cmd) return -1;
  int st = system(cmd);
  free(cmd);
  return st < 0 ? -1 : WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

char *td_sh_out(int *status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *cmd = vfmt(fmt, ap);
  va_end(ap);
  if (!cmd) return NULL;
  FILE *p = popen(cmd, "r");
  free(cmd);
  if (!p) return NULL;
  size_t cap = 4096, len = 0;
  char *buf = malloc(cap);
  size_t n;
  while (buf && (n = fread(buf + len, 1, cap - len - 1, p)) > 0) {
    len += n;
    if (cap - len < 1024) {
      char *nb = realloc(buf, cap *= 2);
      if (!nb) {
        free(buf);
        buf = NULL;
      }
      buf = nb;
    }
  }
  int st = pclose(p);
  if (status) *status = st < 0 ? -1 : WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  if (buf) buf[len] = '\0';
  return buf;
}

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

int td_setup_tmux(void) {
  const char *b = getenv("HUD_BUILD_DIR");
  snprintf(g_bin, sizeof g_bin, "%s/tui/hud-tui", b ? b : ".");
  snprintf(g_tmp, sizeof g_tmp, "/tmp/hud-tuitest-XXXXXX");
  if (!mkdtemp(g_tmp)) return -1;
  snprintf(g_sock, sizeof g_sock, "hudtui-%d", (int)getpid());
  snprintf(g_conf, sizeof g_conf, "%s/tmux.conf", g_tmp);
  FILE *c = fopen(g_conf, "w");
  if (!c) return -1;
  /* exit-empty off: killing the last session must not race with the next new-session ("server exited
   * unexpectedly"); td_teardown kills the server. set-clipboard on: an OSC 52 from a pane lands in a tmux
   * buffer (show-buffer). */
  fprintf(c, "set -s exit-empty off\nset -g remain-on-exit on\nset -g status off\nset -g history-limit 100\n"
             "set -s set-clipboard on\n");
  fclose(c);
  /* hud-tui remembers its view and sorts: never in the real home, and (td_start) one state per session. */
  char state[300];
  snprintf(state, sizeof state, "%s/state", g_tmp);
  setenv("XDG_STATE_HOME", state, 1);
  return 0;
}

int td_setup(void) {
  if (td_setup_tmux() < 0) return -1;
  g_f = query_fixture_start();
  if (!g_f) return -1;
  /* One forced read folds the ingested batches into the tables that hud-tui's unforced reads see. */
  char path[256];
  snprintf(path, sizeof path, "/v1/functions/top?service=shop&limit=1");
  srvh_resp r = {0};
  int rc = srvh_request(g_f->h.port, "GET", path, g_f->key, NULL, 0, NULL, &r);
  long status = r.status;
  srvh_resp_free(&r);
  return rc == 0 && status == 200 ? 0 : -1;
}

void td_teardown(void) {
  /* tmux leaves its socket file behind after kill-server. */
  td_sh("tmux -L %s kill-server 2>/dev/null; rm -f \"${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)/%s\"", g_sock, g_sock);
  query_fixture_stop(g_f);
  g_f = NULL;
  td_sh("rm -rf '%s'", g_tmp);
}

void td_start_cmd(const char *name, int w, int h, const char *cmd) {
  td_sh("LC_ALL=C.UTF-8 tmux -u -L %s -f %s new-session -d -s %s -x %d -y %d '%s'", g_sock, g_conf, name, w, h, cmd);
}

void td_start(const char *name, int w, int h, const char *env, const char *args) {
  char cmd[2048];
  snprintf(cmd, sizeof cmd, "env XDG_STATE_HOME=%s/state-%s %s %s --url http://127.0.0.1:%d --key %s --service shop --env prod %s",
           g_tmp, name, env, g_bin, g_f->h.port, g_f->key, args);
  td_start_cmd(name, w, h, cmd);
}

const char *td_sock(void) { return g_sock; }

void td_bytes(const char *name, const char *bytes) {
  td_sh("tmux -L %s send-keys -t %s -l \"$(printf '%s')\"", g_sock, name, bytes);
}

void td_keys(const char *name, const char *keys) { td_sh("tmux -L %s send-keys -t %s %s", g_sock, name, keys); }

char *td_screen(const char *name, const char *marker, int timeout_ms) {
  char *prev = NULL;
  for (int waited = 0; waited <= timeout_ms; waited += 50) {
    char *s = td_sh_out(NULL, "tmux -L %s capture-pane -p -t %s", g_sock, name);
    if (s && (!marker || strstr(s, marker)) && !strstr(s, "loading...") && prev && strcmp(prev, s) == 0) {
      free(prev);
      return s;
    }
    free(prev);
    prev = s;
    sleep_ms(50);
  }
  fprintf(stderr, "td_screen(%s): no '%s' within %d ms; last screen:\n%s\n", name, marker ? marker : "",
          timeout_ms, prev ? prev : "");
  free(prev);
  return NULL;
}

void td_resize(const char *name, int w, int h) {
  td_sh("tmux -L %s resize-window -t %s -x %d -y %d", g_sock, name, w, h);
}

char *td_screen_now(const char *name, const char *marker, int timeout_ms) {
  for (int waited = 0; waited <= timeout_ms; waited += 20) {
    char *s = td_sh_out(NULL, "tmux -L %s capture-pane -p -t %s", g_sock, name);
    if (s && strstr(s, marker)) return s;
    free(s);
    sleep_ms(20);
  }
  return NULL;
}

const char *td_socket(void) { return g_sock; }

char *td_screen_sgr(const char *name) { return td_sh_out(NULL, "tmux -L %s capture-pane -e -p -t %s", g_sock, name); }

void td_kill(const char *name) { td_sh("tmux -L %s kill-session -t %s 2>/dev/null", g_sock, name); }

int td_pane_pid(const char *name, bool child) {
  char *s = td_sh_out(NULL, "tmux -L %s display-message -p -t %s '#{pane_pid}'", g_sock, name);
  int pid = s ? atoi(s) : 0;
  free(s);
  if (!child || pid <= 0) return pid;
  char path[128];
  snprintf(path, sizeof path, "/proc/%d/task/%d/children", pid, pid);
  FILE *f = fopen(path, "r");
  int kid = 0;
  if (f) {
    if (fscanf(f, "%d", &kid) != 1) kid = 0;
    fclose(f);
  }
  return kid;
}

/* Replaces the token after each PREFIX (digits and h/m/s) with "?". */
static void mask_after(char *s, const char *prefix) {
  size_t pl = strlen(prefix);
  for (char *p = strstr(s, prefix); p; p = strstr(p + 1, prefix)) {
    char *t = p + pl, *e = t;
    while (*e && (isdigit((unsigned char)*e) || *e == 'h' || *e == 'm' || *e == 's')) e++;
    if (e == t) continue;
    *t = '?';
    memmove(t + 1, e, strlen(e) + 1);
  }
}

/* Replaces the rest of the line after each PREFIX with "?". */
static void mask_line_after(char *s, const char *prefix) {
  size_t pl = strlen(prefix);
  for (char *p = strstr(s, prefix); p; p = strstr(p + 1, prefix)) {
    char *t = p + pl, *e = strchr(t, '\n');
    if (!e) e = t + strlen(t);
    *t = '?';
    memmove(t + 1, e, strlen(e) + 1);
  }
}

/* Replaces the token (digits and d/h/m/s) before each " ago" with "?": issues' first and last seen. */
static void mask_ago(char *s) {
  for (char *p = strstr(s, " ago"); p; p = strstr(p + 1, " ago")) {
    char *b = p;
    while (b > s && (isdigit((unsigned char)b[-1]) || strchr("dhms", b[-1]))) b--;
    if (b == p) continue;
    *b = '?';
    memmove(b + 1, p, strlen(p) + 1);
    p = b + 1;
  }
}

void td_mask(char *s) {
  /* Sparklines: which time buckets the fixture's two slices fall in depends on the time of day. */
  mask_line_after(s, "p95 per 24m   ");
  mask_line_after(s, "calls per 24m ");
  mask_after(s, "data ");
  mask_after(s, "retry in ");
  mask_after(s, "data from ");
  mask_after(s, "after "); /* curl's "Failed to connect ... after 0 ms" */
  mask_ago(s);
}

bool td_golden(const char *name, char *text) {
  td_mask(text);
  const char *src = getenv("HUD_SOURCE_DIR");
  char path[1024];
  snprintf(path, sizeof path, "%s/tests/tui/golden/%s.txt", src ? src : ".", name);
  if (getenv("HUD_UPDATE_GOLDEN")) {
    FILE *f = fopen(path, "w");
    if (!f) return false;
    fputs(text, f);
    fclose(f);
    return true;
  }
  FILE *f = fopen(path, "r");
  char *want = NULL;
  size_t n = 0;
  if (f) {
    want = calloc(1, 1 << 20);
    n = want ? fread(want, 1, (1 << 20) - 1, f) : 0;
    fclose(f);
  }
  bool ok = want && strlen(text) == n && memcmp(want, text, n) == 0;
  if (!ok) {
    const char *b = getenv("HUD_BUILD_DIR");
    char apath[1024];
    snprintf(apath, sizeof apath, "%s/tests/tui/%s.actual", b ? b : ".", name);
    FILE *a = fopen(apath, "w");
    if (a) {
      fputs(text, a);
      fclose(a);
    }
    fprintf(stderr, "golden %s differs (actual in %s):\n--- want\n%s--- got\n%s", path, apath, want ? want : "(missing)\n",
            text);
  }
  free(want);
  return ok;
}

void td_ready(const char *name, int w, int h, const char *env, const char *args, const char *golden) {
  td_start(name, w, h, env, args);
  td_expect(name, TD_READY, golden);
}

void td_expect(const char *name, const char *marker, const char *golden) {
  char *s = td_screen(name, marker, TD_WAIT_MS);
  assert_non_null(s);
  if (golden) assert_true(td_golden(golden, s));
  free(s);
}

static char *slurp(const char *dir, const char *file) {
  char path[600];
  snprintf(path, sizeof path, "%s/%s", dir, file);
  for (int i = 0; i < 200; i++) { /* the shell writes it right after hud-tui ends */
    FILE *f = fopen(path, "r");
    if (f) {
      char *buf = calloc(1, 65536);
      size_t n = fread(buf, 1, 65535, f);
      fclose(f);
      if (n > 0 && buf[n - 1] == '\n') return buf;
      free(buf);
    }
    usleep(50000);
  }
  return NULL;
}

/* The terminal's modes after hud-tui ended equal the ones before; RC is its exit status. */
void td_assert_restored(const char *dir, int rc) {
  char *after = slurp(dir, "after"), *before = slurp(dir, "before"), *got = slurp(dir, "rc");
  assert_non_null(after);
  assert_non_null(before);
  assert_string_equal(before, after);
  assert_non_null(got);
  assert_int_equal(atoi(got), rc);
  free(after);
  free(before);
  free(got);
}
