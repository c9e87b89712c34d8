/* Header deadline for hud-server's connections: libmicrohttpd's idle timeout restarts with every byte, so a
 * client sending one header line every few seconds would hold its connection for ever (slowloris). This
 * closes connections that have not completed a request's headers within a deadline, counted from the
 * connection's start or from the end of its previous request, and those whose body arrives slower than
 * SRV_CONN_MIN_BODY_RATE. */
#ifndef SRV_CONN_WATCH_H
#define SRV_CONN_WATCH_H

#include <stddef.h>

/* Bodies must arrive at least this fast (bytes/s) beyond the header deadline: a body holds its share of the
 * server's body budget until it is complete, so a trickled body would keep it from everyone else. */
#define SRV_CONN_MIN_BODY_RATE (256u * 1024u)

typedef struct srv_conn_watch srv_conn_watch;
typedef struct srv_conn_entry srv_conn_entry;

/* Starts the sweeper thread (checks 4 times per deadline). DEADLINE_MS > 0. *OUT owned by the caller. */
int srv_conn_watch_new(int deadline_ms, srv_conn_watch **out);
/* Stops the sweeper and frees; every connection must have been closed (srv_conn_watch_closed). NULL ok. */
void srv_conn_watch_free(srv_conn_watch *w);

/* A connection on socket FD started: waiting for headers from now. NULL on allocation failure (the
 * connection is then not watched). */
srv_conn_entry *srv_conn_watch_opened(srv_conn_watch *w, int fd);
/* Its request's headers are complete (stops the clock). NULL ok. */
void srv_conn_watch_headers_done(srv_conn_watch *w, srv_conn_entry *e);
/* Its request's body of up to BYTES is expected: the clock restarts, with the deadline plus
 * BYTES / SRV_CONN_MIN_BODY_RATE seconds. Stopped by srv_conn_watch_headers_done. NULL ok. */
void srv_conn_watch_body(srv_conn_watch *w, srv_conn_entry *e, size_t bytes);
/* Its request was answered: waiting for the next request's headers from now. NULL ok. */
void srv_conn_watch_idle(srv_conn_watch *w, srv_conn_entry *e);
/* libmicrohttpd is closing it (called before the socket is closed, so the sweeper never shuts down a
 * reused descriptor). Frees E. NULL ok. */
void srv_conn_watch_closed(srv_conn_watch *w, srv_conn_entry *e);

#endif
