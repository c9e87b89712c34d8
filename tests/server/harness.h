/* Runs the real hud-server binary on loopback for the server tests, and talks HTTP to it. */
#ifndef SRV_HARNESS_H
#define SRV_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct srvh {
  pid_t pid;
  int port;
  char db[512];
  char dir[512];
} srvh;

/* Path of the hud-server binary (HUD_BUILD_DIR/server/hud-server). */
const char *srvh_binary(void);
/* Fresh temporary directory; DB = DIR/hud.db. */
int srvh_tmpdir(srvh *h);
/* Starts `hud-server --db DB --listen 127.0.0.1:0 EXTRA...` (EXTRA NULL-terminated) and waits for
 * its "listening on" line. 0 or -1. */
int srvh_start(srvh *h, const char *const *extra);
/* SIGTERM (graceful) or SIGKILL; waits and returns the exit status as from waitpid. */
int srvh_stop(srvh *h, int sig);
/* Runs `hud-server keys create --env ENVS --role ingest,read --db DB` and captures the key. 0 or -1. */
int srvh_key(const srvh *h, const char *envs, char key[128]);
/* The same with ROLES (comma-separated: ingest, read, admin). */
int srvh_key_roles(const srvh *h, const char *envs, const char *roles, char key[128]);
/* Runs `hud-server ARGS... --db DB`; returns its exit status, stdout into OUT (may be NULL). */
int srvh_cli(const srvh *h, const char *const *args, char *out, size_t cap);

typedef struct srvh_resp {
  long status;
  char *body; /* malloc'ed, NUL-terminated */
  size_t len;
} srvh_resp;

/* Requests send "Cache-Control: no-cache" (queries see every acknowledged batch) while this is true
 * (the default); false: queries read the tables as last folded, as editors do. */
extern bool srvh_fresh_reads;

/* One request. KEY NULL = no Authorization; ENCODING NULL = no Content-Encoding. */
int srvh_request(int port, const char *method, const char *path, const char *key, const void *body, size_t len,
                 const char *encoding, srvh_resp *out);
/* The same over https (certificate not verified: tests use a throw-away self-signed one). */
int srvh_request_tls(int port, const char *method, const char *path, const char *key, const void *body,
                     size_t len, const char *encoding, srvh_resp *out);
void srvh_resp_free(srvh_resp *r);
/* POSTs a JSON batch to /v1/ingest; 0 when answered 200, else -1 (status and body on stderr). */
int srvh_ingest_json(int port, const char *key, const char *json, size_t len);

/* SELECT returning one integer from the SQLite file (opened read-only). -1 on error. */
long long srvh_sql_int(const char *db, const char *sql);
/* Removes the temporary directory. */
void srvh_cleanup(srvh *h);

#endif
