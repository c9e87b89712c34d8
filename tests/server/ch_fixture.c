/* The clickhouse-server fixture (ch_fixture.h). */
#define _GNU_SOURCE
#include "ch_fixture.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CH_SERVER "/usr/sbin/clickhouse-server"

int chfix_available(void) { return access(CH_SERVER, X_OK) == 0; }

static int free_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
    if (fd >= 0) close(fd);
    return -1;
  }
  close(fd);
  return ntohs(a.sin_port);
}

static int write_file(const char *dir, const char *name, const char *text) {
  char path[400];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  if (!f) return -1;
  fputs(text, f);
  return fclose(f);
}

/* EXTRA: more of the config's top level (a cluster's <remote_servers>), or "". */
static int write_config(const chfix *f, const char *extra) {
  char cfg[8192];
  snprintf(cfg, sizeof cfg,
           "<?xml version=\"1.0\"?>\n<yandex>\n"
           "  <logger><level>warning</level><log>%s/server.log</log><errorlog>%s/error.log</errorlog>"
           "<console>0</console></logger>\n"
           "  <listen_host>127.0.0.1</listen_host>\n  <http_port>%d</http_port>\n  <tcp_port>%d</tcp_port>\n"
           "  <path>%s/data/</path>\n  <tmp_path>%s/tmp/</tmp_path>\n"
           "  <user_files_path>%s/user_files/</user_files_path>\n"
           "  <format_schema_path>%s/format_schemas/</format_schema_path>\n"
           "  <mark_cache_size>67108864</mark_cache_size>\n  <max_concurrent_queries>50</max_concurrent_queries>\n"
           "  <users_config>users.xml</users_config>\n  <default_profile>default</default_profile>\n"
           "  <default_database>default</default_database>\n  <timezone>UTC</timezone>\n%s</yandex>\n",
           f->dir, f->dir, f->http_port, f->tcp_port, f->dir, f->dir, f->dir, f->dir, extra);
  static const char users[] =
      "<?xml version=\"1.0\"?>\n<yandex>\n"
      "  <profiles><default><max_memory_usage>2000000000</max_memory_usage></default></profiles>\n"
      "  <users><default><password></password><networks><ip>127.0.0.1</ip></networks>"
      "<profile>default</profile><quota>default</quota></default></users>\n"
      "  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors>"
      "<result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval>"
      "</default></quotas>\n</yandex>\n";
  return write_file(f->dir, "config.xml", cfg) || write_file(f->dir, "users.xml", users) ? -1 : 0;
}

static size_t discard(char *p, size_t s, size_t n, void *a) {
  (void)p, (void)a;
  return s * n;
}

static int answers(int port) {
  char url[64];
  snprintf(url, sizeof url, "http://127.0.0.1:%d/ping", port);
  CURL *e = curl_easy_init();
  if (!e) return 0;
  curl_easy_setopt(e, CURLOPT_URL, url);
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 1000L);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
  long status = 0;
  int ok = curl_easy_perform(e) == CURLE_OK && curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK &&
           status == 200;
  curl_easy_cleanup(e);
  return ok;
}

static void rm_dir(const char *dir) {
  if (!dir[0]) return;
  char cmd[320];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) fprintf(stderr, "chfix: could not remove %s\n", dir);
}

static int spawn(chfix *f);

/* A directory and two ports for F; 0 or -1. */
static int prepare(chfix *f) {
  memset(f, 0, sizeof *f);
  snprintf(f->dir, sizeof f->dir, "/tmp/hud-chtest-XXXXXX");
  if (!mkdtemp(f->dir)) {
    f->dir[0] = 0;
    return -1;
  }
  f->http_port = free_port();
  f->tcp_port = free_port();
  if (f->http_port <= 0 || f->tcp_port <= 0 || f->http_port == f->tcp_port) {
    rm_dir(f->dir);
    f->dir[0] = 0;
    return -1;
  }
  snprintf(f->url, sizeof f->url, "clickhouse://127.0.0.1:%d/hud_test", f->http_port);
  return 0;
}

int chfix_start(chfix *f) {
  if (prepare(f) < 0) return -1;
  if (write_config(f, "") == 0 && spawn(f) == 0) return 0;
  chfix_stop(f);
  return -1;
}

int chfix_cluster_start(chfix *f, int n, const char *name) {
  char xml[2048];
  int len = snprintf(xml, sizeof xml, "  <remote_servers><%s>", name);
  int ok = n >= 1 && n <= CHFIX_MAX_SHARDS;
  if (ok) memset(f, 0, (size_t)n * sizeof *f);
  for (int i = 0; ok && i < n; i++) {
    ok = prepare(&f[i]) == 0;
    if (ok)
      len += snprintf(xml + len, sizeof xml - (size_t)len,
                      "<shard><replica><host>127.0.0.1</host><port>%d</port></replica></shard>", f[i].tcp_port);
  }
  for (int i = 0; i < n; i++) { /* ports of earlier servers must differ from later ones' */
    for (int j = 0; ok && j < i; j++)
      ok = f[i].http_port != f[j].http_port && f[i].http_port != f[j].tcp_port && f[i].tcp_port != f[j].http_port &&
           f[i].tcp_port != f[j].tcp_port;
  }
  snprintf(xml + len, sizeof xml - (size_t)len, "</%s></remote_servers>\n", name);
  for (int i = 0; ok && i < n; i++) {
    snprintf(f[i].url, sizeof f[i].url, "clickhouse://127.0.0.1:%d/hud_test?cluster=%s", f[i].http_port, name);
    ok = write_config(&f[i], xml) == 0 && spawn(&f[i]) == 0;
  }
  if (ok) return 0;
  for (int i = 0; i < n; i++)
    if (f[i].dir[0]) chfix_stop(&f[i]);
  return -1;
}

/* Starts the server on F's directory and ports and waits until it answers; 0 or -1. */
static int spawn(chfix *f) {
  char arg[320], out[300];
  snprintf(arg, sizeof arg, "--config-file=%s/config.xml", f->dir);
  snprintf(out, sizeof out, "%s/stdout.log", f->dir);
  pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlives the test */
    int fd = open(out, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd >= 0) dup2(fd, 1), dup2(fd, 2);
    if (chdir(f->dir) != 0) _exit(126);
    execl(CH_SERVER, CH_SERVER, arg, (char *)NULL);
    _exit(127);
  }
  if (pid < 0) return -1;
  f->pid = pid;
  for (int i = 0; i < 300; i++) {
    if (answers(f->http_port)) return 0;
    if (waitpid(pid, NULL, WNOHANG) == pid) {
      f->pid = 0;
      break;
    }
    usleep(100 * 1000);
  }
  fprintf(stderr, "chfix: clickhouse-server did not answer on 127.0.0.1:%d (logs in %s)\n", f->http_port, f->dir);
  return -1;
}

void chfix_kill(chfix *f) {
  if (f->pid > 0) {
    kill(f->pid, SIGKILL);
    waitpid(f->pid, NULL, 0);
    f->pid = 0;
  }
}

int chfix_kill_restart(chfix *f) {
  chfix_kill(f);
  return spawn(f);
}

void chfix_stop(chfix *f) {
  if (f->pid > 0) {
    kill(f->pid, SIGTERM);
    int done = 0;
    for (int i = 0; i < 100 && !done; i++) {
      done = waitpid(f->pid, NULL, WNOHANG) == f->pid;
      if (!done) usleep(100 * 1000);
    }
    if (!done) {
      kill(f->pid, SIGKILL);
      waitpid(f->pid, NULL, 0);
    }
    f->pid = 0;
  }
  rm_dir(f->dir);
  f->dir[0] = 0;
}
