/* Transcript runner for hud-lsp.
 *
 * A transcript (tests/lsp/transcripts/NAME.lsp) is a list of lines, after ${name} placeholders are replaced:
 *   # comment                  (and blank lines)
 *   > {json}                   a client frame; consecutive '>' lines go out in one write(2)
 *   >raw text                  raw bytes, with \r \n \\ escapes
 *   >huge N                    a header announcing N bytes, then N bytes of 'x'
 *   < {json}                   expect a server frame: every member given must be equal in the
 *                              frame (arrays element-wise). Answers come in order (the next
 *                              answer not matching an expected answer fails); notifications and
 *                              server requests may come in any order and stay available to later
 *                              expectations until one matches them
 *   <count N {json}            exactly N of the frames received so far match
 *   wait MS                    read for MS milliseconds
 *   close                      close the server's stdin
 *   exit N                     the server exits with code N (within 10 s)
 *   args A B ...               (before any other line) command-line arguments of hud-lsp */
#define _GNU_SOURCE
#include "lsp_runner.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define EXPECT_TIMEOUT_MS 10000

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int lspr_start(lspr *r, const char *config_home, const char *const *args) {
  memset(r, 0, sizeof *r);
  r->status = -1;
  int in[2], out[2];
  if (pipe(in) < 0) return -1;
  if (pipe(out) < 0) {
    close(in[0]);
    close(in[1]);
    return -1;
  }
  char bin[1024];
  const char *b = getenv("HUD_BUILD_DIR");
  snprintf(bin, sizeof bin, "%s/lsp/hud-lsp", b ? b : ".");
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    dup2(in[0], 0);
    dup2(out[1], 1);
    close(in[0]);
    close(in[1]);
    close(out[0]);
    close(out[1]);
    static const char *const hud_vars[] = {"HUD_CONFIG", "HUD_URL", "HUD_KEY", "HUD_SERVICE", "HUD_ENV",
                                           "HUD_TIMEOUT_MS", "HUD_CONNECT_TIMEOUT_MS", "HUD_CA_FILE",
                                           "HUD_INSECURE", "HUD_MAX_RESPONSE_BYTES"};
    for (size_t i = 0; i < sizeof hud_vars / sizeof hud_vars[0]; i++) unsetenv(hud_vars[i]);
    setenv("XDG_CONFIG_HOME", config_home, 1);
    /* Sanitizer reports get their own exit codes: 1 is hud-lsp's "exit without shutdown". */
    char opts[512];
    const char *a = getenv("ASAN_OPTIONS"), *u = getenv("UBSAN_OPTIONS");
    snprintf(opts, sizeof opts, "%s%sexitcode=66", a ? a : "", a && *a ? ":" : "");
    setenv("ASAN_OPTIONS", opts, 1);
    snprintf(opts, sizeof opts, "%s%sexitcode=67", u ? u : "", u && *u ? ":" : "");
    setenv("UBSAN_OPTIONS", opts, 1);
    const char *argv[16] = {bin};
    int n = 1;
    for (int i = 0; args && args[i] && n < 15; i++) argv[n++] = args[i];
    execv(bin, (char *const *)argv);
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  r->pid = pid;
  r->in_fd = in[1];
  r->out_fd = out[0];
  fcntl(r->out_fd, F_SETFL, fcntl(r->out_fd, F_GETFL) | O_NONBLOCK);
  return 0;
}

void lspr_stop(lspr *r) {
  if (r->in_fd > 0) close(r->in_fd);
  if (r->out_fd > 0) close(r->out_fd);
  if (r->pid > 0 && r->status == -1) {
    kill(r->pid, SIGKILL);
    waitpid(r->pid, NULL, 0);
  }
  for (size_t i = 0; i < r->n_frames; i++) json_decref(r->frames[i]);
  free(r->frames);
  free(r->used);
  free(r->buf);
  memset(r, 0, sizeof *r);
}

int lspr_write(lspr *r, const void *data, size_t len) {
  const char *p = data;
  while (len) {
    ssize_t k = write(r->in_fd, p, len);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) {
      snprintf(r->err, sizeof r->err, "write to hud-lsp failed: %s", strerror(errno));
      return -1;
    }
    p += k;
    len -= (size_t)k;
  }
  return 0;
}

int lspr_send(lspr *r, const char *body, size_t len) {
  char *frame = NULL;
  int n = asprintf(&frame, "Content-Length: %zu\r\n\r\n%.*s", len, (int)len, body);
  if (n < 0) return -1;
  int rc = lspr_write(r, frame, (size_t)n);
  free(frame);
  return rc;
}

int lspr_send_json(lspr *r, json_t *msg) {
  char *s = json_dumps(msg, JSON_COMPACT);
  json_decref(msg);
  if (!s) return -1;
  int rc = lspr_send(r, s, strlen(s));
  free(s);
  return rc;
}

static void add_frame(lspr *r, const char *body, size_t len) {
  json_error_t je;
  json_t *v = json_loadb(body, len, 0, &je);
  if (!v) v = json_pack("{s:s%}", "unparsable_frame", body, len);
  if (r->n_frames == r->cap_frames) {
    r->cap_frames = r->cap_frames ? r->cap_frames * 2 : 64;
    r->frames = realloc(r->frames, r->cap_frames * sizeof *r->frames);
    r->used = realloc(r->used, r->cap_frames * sizeof *r->used);
  }
  r->used[r->n_frames] = false;
  r->frames[r->n_frames++] = v;
}

/* Frames every complete message in the buffer. */
static void split(lspr *r) {
  for (;;) {
    char *end = memmem(r->buf, r->len, "\r\n\r\n", 4);
    if (!end) return;
    char *cl = strcasestr(r->buf, "Content-Length:");
    size_t body_len = cl && cl < end ? strtoul(cl + 15, NULL, 10) : 0;
    size_t head = (size_t)(end - r->buf) + 4;
    if (r->len < head + body_len) return;
    add_frame(r, r->buf + head, body_len);
    memmove(r->buf, r->buf + head + body_len, r->len - head - body_len);
    r->len -= head + body_len;
  }
}

/* Reads for at most MS milliseconds; returns after the first chunk. -1 at end of output. */
static int pump(lspr *r, int ms) {
  struct pollfd p = {r->out_fd, POLLIN, 0};
  if (poll(&p, 1, ms) <= 0) return 0;
  if (r->cap - r->len < 65536) {
    r->cap = r->cap ? r->cap * 2 : 131072;
    r->buf = realloc(r->buf, r->cap + 1);
  }
  ssize_t n = read(r->out_fd, r->buf + r->len, r->cap - r->len);
  if (n == 0) return -1;
  if (n < 0) return errno == EAGAIN || errno == EINTR ? 0 : -1;
  r->len += (size_t)n;
  r->buf[r->len] = '\0';
  split(r);
  return 1;
}

static bool numbers_equal(const json_t *a, const json_t *b) {
  return json_number_value(a) == json_number_value(b);
}

bool lspr_match(const json_t *e, const json_t *a) {
  if (!a) return false;
  if (json_is_number(e) && json_is_number(a)) return numbers_equal(e, a);
  if (json_typeof(e) != json_typeof(a)) return false;
  if (json_is_object(e)) {
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)e, k, v) {
      if (!lspr_match(v, json_object_get(a, k))) return false;
    }
    return true;
  }
  if (json_is_array(e)) {
    if (json_array_size(e) != json_array_size(a)) return false;
    for (size_t i = 0; i < json_array_size(e); i++)
      if (!lspr_match(json_array_get(e, i), json_array_get(a, i))) return false;
    return true;
  }
  return json_equal((json_t *)e, (json_t *)a);
}

static char *show(const json_t *v) {
  return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
}

json_t *lspr_expect(lspr *r, const json_t *expected, int timeout_ms) {
  long long deadline = now_ms() + timeout_ms;
  bool want_response = !json_object_get(expected, "method");
  for (;;) {
    /* Notifications and server requests may come in any order relative to the answers: a frame that
     * is skipped stays available to later expectations. Answers must come in order. */
    for (size_t i = r->next; i < r->n_frames; i++) {
      json_t *f = r->frames[i];
      if (r->used[i]) continue;
      if (lspr_match(expected, f)) {
        r->used[i] = true;
        while (r->next < r->n_frames && r->used[r->next]) r->next++;
        return f;
      }
      if (want_response && !json_object_get(f, "method")) {
        char *e = show(expected), *a = show(f);
        snprintf(r->err, sizeof r->err, "expected %s\n     got %s", e, a);
        free(e);
        free(a);
        return NULL;
      }
    }
    long long left = deadline - now_ms();
    if (left <= 0 || pump(r, (int)left) < 0) break;
  }
  char *e = show(expected);
  char *last = r->n_frames ? show(r->frames[r->n_frames - 1]) : strdup("(nothing)");
  snprintf(r->err, sizeof r->err, "no frame matching %s within %d ms (or the output closed); last frame: %s", e,
           timeout_ms, last);
  free(e);
  free(last);
  return NULL;
}

void lspr_wait(lspr *r, int ms) {
  long long deadline = now_ms() + ms;
  for (long long left = ms; left > 0; left = deadline - now_ms())
    if (pump(r, (int)left) < 0) break;
}

size_t lspr_count(const lspr *r, const json_t *pattern) {
  size_t n = 0;
  for (size_t i = 0; i < r->n_frames; i++)
    if (lspr_match(pattern, r->frames[i])) n++;
  return n;
}

void lspr_close_input(lspr *r) {
  if (r->in_fd > 0) close(r->in_fd);
  r->in_fd = -1;
}

int lspr_wait_exit(lspr *r, int timeout_ms) {
  long long deadline = now_ms() + timeout_ms;
  while (r->status == -1) {
    int st;
    pid_t p = waitpid(r->pid, &st, WNOHANG);
    if (p == r->pid) {
      r->status = st;
      break;
    }
    if (now_ms() > deadline) return -1;
    if (pump(r, 20) < 0) usleep(10000); /* keep draining so the child never blocks on a full pipe */
  }
  return WIFEXITED(r->status) ? WEXITSTATUS(r->status) : -2;
}

/* ---- transcripts ---- */

static char *substitute(const char *line, const lspr_var *vars, size_t n_vars) {
  size_t cap = strlen(line) + 1024, len = 0;
  char *out = malloc(cap);
  for (const char *p = line; *p;) {
    const char *end = p[0] == '$' && p[1] == '{' ? strchr(p, '}') : NULL;
    const char *val = NULL;
    size_t vlen = 0;
    for (size_t i = 0; end && i < n_vars; i++) {
      if (strlen(vars[i].name) == (size_t)(end - p - 2) && !strncmp(p + 2, vars[i].name, (size_t)(end - p - 2))) {
        val = vars[i].value;
        vlen = strlen(val);
      }
    }
    const char *src = val ? val : p;
    size_t n = val ? vlen : 1;
    if (len + n + 1 > cap) {
      cap = (len + n + 1) * 2;
      out = realloc(out, cap);
    }
    memcpy(out + len, src, n);
    len += n;
    p = val ? end + 1 : p + 1;
  }
  out[len] = '\0';
  return out;
}

static size_t unescape(char *s) {
  char *o = s;
  for (char *p = s; *p; p++) {
    if (*p == '\\' && p[1]) {
      p++;
      *o++ = *p == 'r' ? '\r' : *p == 'n' ? '\n' : *p;
    } else {
      *o++ = *p;
    }
  }
  *o = '\0';
  return (size_t)(o - s);
}

static int step(lspr *r, char *line, char **pending, size_t *pending_len) {
  if (line[0] == '>' && line[1] == ' ') {
    json_error_t je;
    json_t *v = json_loads(line + 2, 0, &je);
    if (!v) {
      snprintf(r->err, sizeof r->err, "bad JSON in the transcript: %s", je.text);
      return -1;
    }
    char *body = json_dumps(v, JSON_COMPACT);
    json_decref(v);
    char *frame = NULL;
    int n = asprintf(&frame, "Content-Length: %zu\r\n\r\n%s", strlen(body), body);
    free(body);
    *pending = realloc(*pending, *pending_len + (size_t)n);
    memcpy(*pending + *pending_len, frame, (size_t)n);
    *pending_len += (size_t)n;
    free(frame);
    return 0;
  }
  if (*pending_len) {
    int rc = lspr_write(r, *pending, *pending_len);
    *pending_len = 0;
    if (rc) return rc;
  }
  if (!strncmp(line, ">raw ", 5)) {
    size_t n = unescape(line + 5);
    return lspr_write(r, line + 5, n);
  }
  if (!strncmp(line, ">huge ", 6)) {
    size_t n = strtoul(line + 6, NULL, 10);
    char head[64];
    int hl = snprintf(head, sizeof head, "Content-Length: %zu\r\n\r\n", n);
    char *big = malloc(n ? n : 1);
    memset(big, 'x', n);
    int rc = lspr_write(r, head, (size_t)hl);
    if (rc == 0) rc = lspr_write(r, big, n);
    free(big);
    return rc;
  }
  if (line[0] == '<' && line[1] == ' ') {
    json_error_t je;
    json_t *e = json_loads(line + 2, 0, &je);
    if (!e) {
      snprintf(r->err, sizeof r->err, "bad JSON in the transcript: %s", je.text);
      return -1;
    }
    json_t *got = lspr_expect(r, e, EXPECT_TIMEOUT_MS);
    json_decref(e);
    return got ? 0 : -1;
  }
  if (!strncmp(line, "<count ", 7)) {
    char *rest;
    long want = strtol(line + 7, &rest, 10);
    json_error_t je;
    json_t *e = json_loads(rest, 0, &je);
    if (!e) {
      snprintf(r->err, sizeof r->err, "bad JSON in the transcript: %s", je.text);
      return -1;
    }
    size_t n = lspr_count(r, e);
    json_decref(e);
    if ((long)n != want) {
      snprintf(r->err, sizeof r->err, "%zu frames match, expected %ld", n, want);
      return -1;
    }
    return 0;
  }
  if (!strncmp(line, "wait ", 5)) {
    lspr_wait(r, atoi(line + 5));
    return 0;
  }
  if (!strcmp(line, "close")) {
    lspr_close_input(r);
    return 0;
  }
  if (!strncmp(line, "exit ", 5)) {
    int want = atoi(line + 5);
    int got = lspr_wait_exit(r, 10000);
    if (got != want) {
      snprintf(r->err, sizeof r->err, "exit code %d, expected %d (-1: still running, -2: killed by a signal)", got,
               want);
      return -1;
    }
    return 0;
  }
  snprintf(r->err, sizeof r->err, "unknown transcript line");
  return -1;
}

int lspr_run_file(const char *path, const char *config_home, const lspr_var *vars, size_t n_vars, char *err,
                  size_t err_len) {
  FILE *f = fopen(path, "r");
  if (!f) {
    snprintf(err, err_len, "%s: %s", path, strerror(errno));
    return -1;
  }
  lspr r = {0};
  bool started = false;
  char *args_line = NULL;
  const char *args[16] = {0};
  char *line = NULL, *pending = NULL;
  size_t cap = 0, pending_len = 0;
  int lineno = 0, rc = 0;
  ssize_t n;
  while (rc == 0 && (n = getline(&line, &cap, f)) >= 0) {
    lineno++;
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = '\0';
    if (n == 0 || line[0] == '#') continue;
    char *l = substitute(line, vars, n_vars);
    if (!started && !strncmp(l, "args ", 5)) {
      free(args_line);
      args_line = l;
      size_t k = 0;
      for (char *tok = strtok(l + 5, " "); tok && k < 15; tok = strtok(NULL, " ")) args[k++] = tok;
      continue;
    }
    if (!started) {
      if (lspr_start(&r, config_home, args) < 0) {
        free(l);
        snprintf(err, err_len, "could not start hud-lsp");
        rc = -1;
        break;
      }
      started = true;
    }
    rc = step(&r, l, &pending, &pending_len);
    if (rc) snprintf(err, err_len, "%s:%d: %s\n  line: %.300s", path, lineno, r.err, line);
    free(l);
  }
  if (rc == 0 && pending_len) rc = lspr_write(&r, pending, pending_len);
  free(pending);
  free(line);
  free(args_line);
  fclose(f);
  if (!started) return rc;
  /* Every transcript ends with the server gone: a leak or a crash at exit shows as a failure. */
  if (rc == 0 && r.status == -1) {
    lspr_close_input(&r);
    int code = lspr_wait_exit(&r, 10000);
    if (code < 0 || (code != 0 && code != 1)) {
      snprintf(err, err_len, "%s: hud-lsp did not exit cleanly at the end (code %d)", path, code);
      rc = -1;
    }
  }
  lspr_stop(&r);
  return rc;
}
