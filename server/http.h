/* hud-server's HTTP layer: libmicrohttpd with a thread pool, the route tables of routes.h, API-key
 * checks, error bodies and request metrics. */
#ifndef SRV_HTTP_H
#define SRV_HTTP_H

#include <stdint.h>

#include "routes.h"
#include "store.h"

typedef struct srv_http srv_http;

typedef struct srv_http_options {
  const char *listen;        /* "HOST:PORT"; port 0 picks a free one (see srv_http_port()) */
  const char *tls_cert_pem;  /* PEM text (not a path); both NULL = plain HTTP */
  const char *tls_key_pem;
  int threads;               /* worker pool size; default 4 */
  srv_store *store;          /* not owned; must outlive the server */
} srv_http_options;

/* Binds and starts serving. *OUT owned by the caller (srv_http_free()). HUD_EINVAL for a bad listen
 * address, HUD_EIO when the socket cannot be bound. */
int srv_http_start(const srv_http_options *opt, srv_http **out);
/* The bound port (useful with port 0). */
uint16_t srv_http_port(const srv_http *h);
/* Graceful stop: closes the listening socket, waits up to TIMEOUT_MS for requests in flight to be
 * answered, then stops the workers. Returns the number of requests still in flight at the stop. */
int srv_http_shutdown(srv_http *h, int timeout_ms);
/* Stops (if not yet) and frees. NULL is a no-op. */
void srv_http_free(srv_http *h);

/* Route tables of the server's own modules (ingest.c, metrics.c); zero-terminated. */
extern const srv_route srv_ingest_routes[];
extern const srv_route srv_metrics_routes[];

#endif
