/* A real clickhouse-server (Debian's) for tests: a plain background process with a minimal config
 * in a temporary directory (data there, HTTP and TCP on 127.0.0.1 only, no systemd), started and
 * stopped by pid. */
#ifndef CH_FIXTURE_H
#define CH_FIXTURE_H

#include <sys/types.h>

typedef struct chfix {
  pid_t pid;
  int http_port, tcp_port;
  char dir[256];
  char url[128]; /* clickhouse://127.0.0.1:HTTP_PORT/hud_test */
} chfix;

/* Whether clickhouse-server is installed (a test without it is skipped, not failed). */
int chfix_available(void);
/* Starts the server and waits (at most 30 s) until it answers /ping; 0 or -1 (with a message on
 * stderr; the directory is removed). */
int chfix_start(chfix *f);
/* N servers (at most CHFIX_MAX_SHARDS) as cluster NAME: one shard each, listed in every one's
 * <remote_servers>; F[i].url is clickhouse://127.0.0.1:HTTP_i/hud_test?cluster=NAME. 0, or -1 with
 * every one stopped. Stop each with chfix_stop. */
#define CHFIX_MAX_SHARDS 4
int chfix_cluster_start(chfix *f, int n, const char *name);
/* SIGKILL (no chance to flush anything); chfix_kill_restart starts it again. */
void chfix_kill(chfix *f);
/* SIGKILL (when running), then the server again on the same data and ports; 0 or -1. */
int chfix_kill_restart(chfix *f);
/* SIGTERM, then SIGKILL after 10 s; the directory is removed. */
void chfix_stop(chfix *f);

#endif
