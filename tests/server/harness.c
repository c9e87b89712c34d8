#define _GNU_SOURCE
#include "harness.h"

#include <curl/curl.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Runs ARGV with its stdout on the pipe FDS (the write end is closed here); SERVER: dies with
 * this process, so a crashed test leaves no server behind. The child's pid, or -1. */
static pid_t spawn(const char *const *argv, int fds[2], bool server) {
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    if (server) prctl(PR_SET_PDEATHSIG, SIGKILL);
    dup2(fds[1], 1);
    close(fds[0]);
    close(fds[1]);
    execv(argv[0], (char *const *)argv);
    _exit(127);
  }
  close(fds[1]);
  return pid;
}

bool srvh_fresh_reads = true;

const char *srvh_binary(void) {
  static char path[1024];
  const char *b = getenv("HUD_BUILD_DIR");
  snprintf(path, sizeof path, "%s/server/hud-server", b ? b : ".");
  return path;
}

int srvh_tmpdir(srvh *h) {
  memset(h, 0, sizeof *h);
  snprintf(h->dir, sizeof h->dir, "/tmp/hud-srvtest-XXXXXX");
  if (!mkdtemp(h->dir)) return -1;
  snprintf(h->db, sizeof h->db, "%s/hud.db", h->dir);
  return 0;
}

int srvh_start(srvh *h, const char *const *extra) {
  int fds[2];
  if (pipe(fds) < 0) return -1;
  const char *argv[32];
  int n = 0;
  argv[n++] = srvh_binary();
  argv[n++] = "--db";
  argv[n++] = h->db;
  argv[n++] = "--listen";
  argv[n++] = "127.0.0.1:0";
  for (int i = 0; extra && extra[i] && n < 30; i++) argv[n++] = extra[i];
  argv[n] = NULL;
  pid_t pid = spawn(argv, fds, true);
  if (pid < 0) return -1;
  h->pid = pid;
  char buf[512];
  size_t len = 0;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (;;) {
    struct pollfd p = {fds[0], POLLIN, 0};
    clock_gettime(CLOCK_MONOTONIC, &t1);
    int left = 20000 - (int)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000);
    if (left <= 0 || poll(&p, 1, left) <= 0) break;
    ssize_t r = read(fds[0], buf + len, sizeof buf - 1 - len);
    if (r <= 0) break;
    len += (size_t)r;
    buf[len] = 0;
    char *l = strstr(buf, "listening on ");
    if (l && strchr(l, '\n')) {
      char *colon = strchr(l + 13, ':');
      h->port = colon ? atoi(colon + 1) : 0;
      break;
    }
  }
  close(fds[0]);
  if (h->port <= 0) {
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    h->pid = 0;
    fprintf(stderr, "harness: hud-server did not start (output: %.*s)\n", (int)len, buf);
    return -1;
  }
  return 0;
}

int srvh_stop(srvh *h, int sig) {
  if (h->pid <= 0) return -1;
  kill(h->pid, sig);
  int st = -1;
  for (int i = 0; i < 3000; i++) { /* at most 30 s */
    pid_t r = waitpid(h->pid, &st, WNOHANG);
    if (r == h->pid) break;
    struct timespec ts = {0, 10 * 1000 * 1000};
    nanosleep(&ts, NULL);
    if (i == 2999) {
      kill(h->pid, SIGKILL);
      waitpid(h->pid, &st, 0);
      st = -1;
    }
  }
  h->pid = 0;
  return st;
}

int srvh_cli(const srvh *h, const char *const *args, char *out, size_t cap) {
  int fds[2];
  if (pipe(fds) < 0) return -1;
  const char *argv[32];
  int n = 0;
  argv[n++] = srvh_binary();
  for (int i = 0; args[i] && n < 28; i++) argv[n++] = args[i];
  argv[n++] = "--db";
  argv[n++] = h->db;
  argv[n] = NULL;
  pid_t pid = spawn(argv, fds, false);
  if (pid < 0) return -1;
  size_t len = 0;
  char sink[256];
  for (;;) {
    char *dst = out && len + 1 < cap ? out + len : sink;
    size_t room = out && len + 1 < cap ? cap - 1 - len : sizeof sink;
    ssize_t r = read(fds[0], dst, room);
    if (r <= 0) break;
    if (dst != sink) len += (size_t)r;
  }
  if (out && cap) out[len] = 0;
  close(fds[0]);
  int st;
  waitpid(pid, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int srvh_key(const srvh *h, const char *envs, char key[128]) { return srvh_key_roles(h, envs, "ingest,read", key); }

int srvh_key_roles(const srvh *h, const char *envs, const char *roles, char key[128]) {
  const char *args[] = {"keys", "create", "--env", envs, "--role", roles, NULL};
  char out[256];
  if (srvh_cli(h, args, out, sizeof out) != 0) return -1;
  char *nl = strchr(out, '\n');
  if (nl) *nl = 0;
  if (strncmp(out, "hud_", 4) != 0) return -1;
  snprintf(key, 128, "%s", out);
  return 0;
}

static size_t on_body(char *p, size_t sz, size_t n, void *arg) {
  srvh_resp *r = arg;
  char *nb = realloc(r->body, r->len + sz * n + 1);
  if (!nb) return 0;
  r->body = nb;
  memcpy(r->body + r->len, p, sz * n);
  r->len += sz * n;
  r->body[r->len] = 0;
  return sz * n;
}

static int request(int tls, int port, const char *method, const char *path, const char *key, const void *body,
                   size_t len, const char *encoding, srvh_resp *out) {
  memset(out, 0, sizeof *out);
  CURL *c = curl_easy_init();
  if (!c) return -1;
  char url[1024], hdr_auth[256], hdr_enc[128];
  snprintf(url, sizeof url, "%s://127.0.0.1:%d%s", tls ? "https" : "http", port, path);
  if (tls) {
    /* The test certificate is self-signed: trust it by pinning nothing but checking TLS happens. */
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: application/json");
  hdrs = curl_slist_append(hdrs, "Expect:");
  /* Tests read what they just ingested: ask for every acknowledged batch (store.h, write-behind). */
  if (srvh_fresh_reads) hdrs = curl_slist_append(hdrs, "Cache-Control: no-cache");
  if (key) {
    snprintf(hdr_auth, sizeof hdr_auth, "Authorization: Bearer %s", key);
    hdrs = curl_slist_append(hdrs, hdr_auth);
  }
  if (encoding) {
    snprintf(hdr_enc, sizeof hdr_enc, "Content-Encoding: %s", encoding);
    hdrs = curl_slist_append(hdrs, hdr_enc);
  }
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  if (body) {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
  }
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
  CURLcode rc = curl_easy_perform(c);
  if (rc == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
  else fprintf(stderr, "harness: %s %s (%zu bytes): %s\n", method, path, len, curl_easy_strerror(rc));
  curl_slist_free_all(hdrs);
  curl_easy_cleanup(c);
  if (!out->body) out->body = calloc(1, 1);
  return rc == CURLE_OK ? 0 : -1;
}

int srvh_request(int port, const char *method, const char *path, const char *key, const void *body, size_t len,
                 const char *encoding, srvh_resp *out) {
  return request(0, port, method, path, key, body, len, encoding, out);
}

int srvh_request_tls(int port, const char *method, const char *path, const char *key, const void *body,
                     size_t len, const char *encoding, srvh_resp *out) {
  return request(1, port, method, path, key, body, len, encoding, out);
}

void srvh_resp_free(srvh_resp *r) {
  free(r->body);
  memset(r, 0, sizeof *r);
}

int srvh_ingest_json(int port, const char *key, const char *json, size_t len) {
  srvh_resp r = {0};
  int rc = srvh_request(port, "POST", "/v1/ingest", key, json, len, NULL, &r) == 0 ? 0 : -1;
  if (rc == 0 && r.status != 200) {
    fprintf(stderr, "ingest %ld: %s\n", r.status, r.body);
    rc = -1;
  }
  srvh_resp_free(&r);
  return rc;
}

long long srvh_sql_int(const char *db, const char *sql) {
  sqlite3 *d;
  long long v = -1;
  if (sqlite3_open_v2(db, &d, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
    sqlite3_close(d);
    return -1;
  }
  sqlite3_busy_timeout(d, 5000);
  sqlite3_stmt *q;
  if (sqlite3_prepare_v2(d, sql, -1, &q, NULL) == SQLITE_OK) {
    if (sqlite3_step(q) == SQLITE_ROW) v = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
  } else {
    fprintf(stderr, "harness: %s: %s\n", sql, sqlite3_errmsg(d));
  }
  sqlite3_close(d);
  return v;
}

void srvh_cleanup(srvh *h) {
  if (h->pid > 0) srvh_stop(h, SIGKILL);
  if (!h->dir[0]) return;
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", h->dir);
  if (system(cmd) != 0) fprintf(stderr, "harness: could not remove %s\n", h->dir);
}
