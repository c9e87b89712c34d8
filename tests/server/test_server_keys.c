/* API keys against the real hud-server on loopback: key commands on a live store (they must not
 * change the figures, block ingest or lag), one server per store. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "batchgen.h"
#include "harness.h"
#include "hud/codec.h"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return strdup("");
  char *buf = calloc(1, 65536);
  size_t n = buf ? fread(buf, 1, 65535, f) : 0;
  if (buf) buf[n] = 0;
  fclose(f);
  return buf;
}

/* Runs `hud-server ARGS... --db DB` with stdout and stderr captured (malloc'ed into *OUT, *ERR, may be
 * NULL), killed by SIGALRM after TIMEOUT_S. Returns the exit status (-1 when killed); *SECS the run time. */
static int run_cli(const srvh *h, const char *const *args, int timeout_s, char **out, char **err, double *secs) {
  char fout[600], ferr[600];
  snprintf(fout, sizeof fout, "%s/cli.out", h->dir);
  snprintf(ferr, sizeof ferr, "%s/cli.err", h->dir);
  const char *argv[32];
  int n = 0;
  argv[n++] = srvh_binary();
  for (int i = 0; args[i] && n < 28; i++) argv[n++] = args[i];
  argv[n++] = "--db";
  argv[n++] = h->db;
  argv[n] = NULL;
  double t0 = now_s();
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    int o = open(fout, O_WRONLY | O_CREAT | O_TRUNC, 0600), e = open(ferr, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (o < 0 || e < 0) _exit(126);
    dup2(o, 1);
    dup2(e, 2);
    alarm((unsigned)timeout_s); /* survives exec: a command that hangs is killed */
    execv(argv[0], (char *const *)argv);
    _exit(127);
  }
  int st;
  waitpid(pid, &st, 0);
  if (secs) *secs = now_s() - t0;
  if (out) *out = slurp(fout);
  if (err) *err = slurp(ferr);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* ---- key commands on a live store ---- */

#define LIVE_BATCHES 200

typedef struct live_load {
  int port;
  const char *key;
  void *body[LIVE_BATCHES];
  size_t len[LIVE_BATCHES];
  int64_t calls[LIVE_BATCHES];
  int status[LIVE_BATCHES];
  atomic_int done;
} live_load;

static void *live_ingest(void *arg) {
  live_load *l = arg;
  for (int i = 0; i < LIVE_BATCHES; i++) {
    srvh_resp r;
    l->status[i] = srvh_request(l->port, "POST", "/v1/ingest", l->key, l->body[i], l->len[i], "gzip", &r) == 0
                       ? (int)r.status
                       : -1;
    if (l->status[i] != 200) fprintf(stderr, "live: batch %d answered %d: %s\n", i, l->status[i], r.body);
    srvh_resp_free(&r);
  }
  atomic_store(&l->done, 1);
  return NULL;
}

static long req_status(int port, const char *method, const char *path, const char *key) {
  srvh_resp r;
  long st = srvh_request(port, method, path, key, NULL, 0, NULL, &r) == 0 ? r.status : -1;
  srvh_resp_free(&r);
  return st;
}

/* `keys create|list|revoke` while the server ingests: every acknowledged batch is counted exactly
 * once, ingest never fails, each command is quick, a new key works and a revoked key is refused on
 * the very next request. */
static void test_key_commands_on_live_store(void **state) {
  srvh s;
  assert_int_equal(srvh_tmpdir(&s), 0);
  char key[128];
  assert_int_equal(srvh_key(&s, "prod", key), 0);
  assert_int_equal(srvh_start(&s, NULL), 0);

  static live_load l;
  memset(&l, 0, sizeof l);
  l.port = s.port;
  l.key = key;
  int64_t want_calls = 0;
  for (int i = 0; i < LIVE_BATCHES; i++) {
    hud_arena *a = hud_arena_new();
    hud_batch b;
    batchgen_opts o = {.seed = (uint64_t)(7000 + i), .n_invocations = 60};
    assert_int_equal(batchgen_make(&o, a, &b), 0);
    for (size_t k = 0; k < b.n_invocations; k++) l.calls[i] += b.invocations[k].count;
    assert_int_equal(batchgen_encode(&b, 1, &l.body[i], &l.len[i]), 0);
    hud_arena_free(a);
  }
  pthread_t th;
  assert_int_equal(pthread_create(&th, NULL, live_ingest, &l), 0);

  double worst = 0;
  int rounds = 0;
  while (!atomic_load(&l.done) && rounds < 12) {
    rounds++;
    char *out, *err;
    double secs;
    const char *create[] = {"keys", "create", "--env", "prod", "--role", "read", "--label", "live", NULL};
    assert_int_equal(run_cli(&s, create, 30, &out, &err, &secs), 0);
    worst = secs > worst ? secs : worst;
    char newkey[128];
    snprintf(newkey, sizeof newkey, "%.*s", (int)strcspn(out, "\n"), out);
    assert_true(strncmp(newkey, "hud_", 4) == 0);
    free(out);
    free(err);
    /* Usable at once. */
    assert_int_equal(req_status(s.port, "GET", "/v1/services", newkey), 200);

    const char *list[] = {"keys", "list", NULL};
    assert_int_equal(run_cli(&s, list, 30, &out, &err, &secs), 0);
    worst = secs > worst ? secs : worst;
    assert_non_null(strstr(out, "live"));
    free(out);
    free(err);

    char id[32];
    snprintf(id, sizeof id, "%lld", atoll(newkey + 4));
    const char *revoke[] = {"keys", "revoke", id, NULL};
    int rc = run_cli(&s, revoke, 30, &out, &err, &secs);
    if (rc != 0) fprintf(stderr, "revoke %s exited %d: %s%s\n", id, rc, out, err);
    assert_int_equal(rc, 0);
    worst = secs > worst ? secs : worst;
    free(out);
    free(err);
    /* Refused on the very next request. */
    assert_int_equal(req_status(s.port, "GET", "/v1/services", newkey), 401);
  }
  pthread_join(th, NULL);

  int acked = 0, refused = 0;
  for (int i = 0; i < LIVE_BATCHES; i++) {
    if (l.status[i] == 200) {
      acked++;
      want_calls += l.calls[i];
    } else {
      refused++;
    }
    free(l.body[i]);
  }
  /* What the API says (fresh: every acknowledged batch), then the file after a clean stop. */
  srvh_resp r;
  assert_int_equal(srvh_request(s.port, "GET", "/v1/services", key, NULL, 0, NULL, &r), 0);
  assert_int_equal(r.status, 200);
  srvh_resp_free(&r);
  int st = srvh_stop(&s, SIGTERM);
  assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  long long stored_calls = srvh_sql_int(s.db, "SELECT COALESCE(SUM(count), 0) FROM calls");
  long long stored_fn = srvh_sql_int(s.db, "SELECT COALESCE(SUM(count), 0) FROM fn_slices");
  long long stored_batches = srvh_sql_int(s.db, "SELECT COUNT(*) FROM batches");
  fprintf(stderr,
          "live keys: %d command rounds, slowest command %.2f s; %d batches acknowledged, %d refused; calls sent "
          "%lld, stored %lld (fn_slices %lld), batches stored %lld\n",
          rounds, worst, acked, refused, (long long)want_calls, stored_calls, stored_fn, stored_batches);
  assert_true(rounds >= 2);
  assert_int_equal(refused, 0);
  assert_int_equal(stored_batches, acked);
  assert_int_equal(stored_calls, want_calls);
  assert_int_equal(stored_fn, want_calls);
  assert_true(worst < 3.0);
  srvh_cleanup(&s);
}

/* Two servers folding one journal would count every batch twice: the second refuses, clearly, and
 * changes nothing. */
static void test_second_serve_refuses(void **state) {
  srvh s;
  assert_int_equal(srvh_tmpdir(&s), 0);
  char key[128];
  assert_int_equal(srvh_key(&s, "prod", key), 0);
  assert_int_equal(srvh_start(&s, NULL), 0);
  const char *serve[] = {"serve", "--listen", "127.0.0.1:0", NULL};
  char *out, *err;
  double secs;
  int rc = run_cli(&s, serve, 5, &out, &err, &secs);
  fprintf(stderr, "second serve: exit %d after %.2f s: %s", rc, secs, err);
  assert_int_equal(rc, 1);
  assert_non_null(strstr(err, "another hud-server"));
  assert_null(strstr(out, "listening"));
  free(out);
  free(err);
  /* The first one serves on. */
  assert_int_equal(req_status(s.port, "GET", "/v1/services", key), 200);
  int st = srvh_stop(&s, SIGTERM);
  assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  /* Stopped: the store is free again. */
  assert_int_equal(srvh_start(&s, NULL), 0);
  st = srvh_stop(&s, SIGTERM);
  assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  srvh_cleanup(&s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_key_commands_on_live_store),
      cmocka_unit_test(test_second_serve_refuses),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
