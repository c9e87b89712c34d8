/* A ClickHouse client over its HTTP interface (libcurl): one statement per request, an INSERT's
 * rows in the request body, the answer as text in the format the statement names. The floor is
 * ClickHouse 18.16 (Debian 12's clickhouse-server); every request carries the settings that keep
 * its answers exact and its inserts tolerant: 64-bit integers unquoted in JSON
 * (output_format_json_quote_64bit_integers=0) and unknown JSON fields skipped
 * (input_format_skip_unknown_fields=1).
 *
 * Groundwork for the ClickHouse store engine; not a store by itself. */
#ifndef SRV_CH_HTTP_H
#define SRV_CH_HTTP_H

#include <stddef.h>

typedef struct srv_ch srv_ch;

typedef struct srv_ch_options {
  const char *url;   /* clickhouse://HOST:PORT/DATABASE[?cluster=NAME] (HTTP interface: its http_port) */
  long timeout_ms;   /* per request; 0: 30 s */
  const char *user;     /* NULL: ClickHouse's default user */
  const char *password; /* NULL: none */
} srv_ch_options;

/* Parses O->url and prepares a connection (nothing is sent). HUD_ECONFIG with a reason in ERR when
 * the URL is not clickhouse://host:port/database[?cluster=NAME] (database and cluster: letters, digits,
 * '_'); HUD_ENOMEM. With a cluster every request carries insert_distributed_sync=1. *OUT
 * is freed with srv_ch_free. One request at a time per handle (a mutex serialises callers). */
int srv_ch_new(const srv_ch_options *o, srv_ch **out, char *err, size_t errlen);
void srv_ch_free(srv_ch *c);

/* The database named by the URL (valid while C lives). */
const char *srv_ch_database(const srv_ch *c);
/* The cluster named by the URL's ?cluster= (a <remote_servers> entry of ClickHouse), or NULL. */
const char *srv_ch_cluster(const srv_ch *c);

/* Runs SQL in the URL's database (or, when NO_DATABASE, in none: to create it). BODY, LEN bytes
 * (NULL: none), follows the statement: an INSERT's rows. On success *OUT (may be NULL) gets the
 * answer, NUL-terminated, malloc'ed (the caller frees), its length in *OUT_LEN (may be NULL).
 * Errors: HUD_ECONNECT (nothing answers), HUD_ETIMEOUT, HUD_ESTORE (ClickHouse refused the statement:
 * an HTTP status other than 200, with its exception text in ERR), HUD_ENOMEM, HUD_EINVAL. */
int srv_ch_query(srv_ch *c, int no_database, const char *sql, const char *body, size_t len, char **out,
                 size_t *out_len, char *err, size_t errlen);

#endif
