/* hud-server's HTTP layer: libmicrohttpd (a few polling threads for I/O), the route tables of routes.h,
 * API-key checks before any body is read, a global budget for request bodies, worker pools for the
 * handlers (ingest on its own, bounded one), a deadline for request headers, error bodies and metrics. */
#ifndef SRV_HTTP_H
#define SRV_HTTP_H

#include <stdint.h>

#include "alerts.h"
#include "routes.h"
#include "store.h"

typedef struct srv_http srv_http;

typedef struct srv_http_options {
  const char *listen;        /* "HOST:PORT"; port 0 picks a free one (see srv_http_port()) */
  const char *tls_cert_pem;  /* PEM text (not a path); both NULL = plain HTTP */
  const char *tls_key_pem;
  int threads;               /* query workers; default 4 */
  srv_store *store;          /* not owned; must outlive the server */
  int ingest_workers;        /* ingest handlers (decodes) at once; default SRV_HTTP_INGEST_WORKERS */
  size_t body_memory;        /* bytes of request bodies held at once, all connections together; default
                                SRV_HTTP_BODY_MEMORY; at least HUD_MAX_BODY_BYTES. Beyond it: 429 */
  int header_timeout_ms;     /* a request's headers must be complete this long after the connection opened
                                or its previous request ended; default SRV_HTTP_HEADER_TIMEOUT_MS */
  int max_connections;       /* default SRV_HTTP_MAX_CONNECTIONS (fewer under a low descriptor limit) */
  int max_per_ip;            /* connections from one address; default SRV_HTTP_MAX_PER_IP; negative: no limit */
  srv_alerts *alerts;        /* not owned; webhook deliveries for new and reopened issues; NULL: none */
  const char *public_url;    /* not owned; the server as users reach it (links in alerts); NULL: not set,
                                use the scheme, listen host and srv_http_port() */
} srv_http_options;

#define SRV_HTTP_POLL_THREADS 2
#define SRV_HTTP_INGEST_WORKERS 2
#define SRV_HTTP_BODY_MEMORY ((size_t)64 << 20)
#define SRV_HTTP_HEADER_TIMEOUT_MS 30000
#define SRV_HTTP_MAX_CONNECTIONS 1000
#define SRV_HTTP_MAX_PER_IP 128

/* Binds and starts serving. *OUT owned by the caller (srv_http_free()). HUD_EINVAL for a bad listen
 * address, HUD_EIO when the socket cannot be bound. */
int srv_http_start(const srv_http_options *opt, srv_http **out);
/* The bound port (useful with port 0). */
uint16_t srv_http_port(const srv_http *h);
/* Graceful stop: closes the listening socket, waits up to TIMEOUT_MS for requests in flight to be
 * answered, then stops the workers (a request still waiting for one is answered 503) and libmicrohttpd.
 * Returns the number of requests still in flight when the wait ended. */
int srv_http_shutdown(srv_http *h, int timeout_ms);
/* Stops (if not yet) and frees. NULL is a no-op. */
void srv_http_free(srv_http *h);

/* Route tables of the server's own modules (ingest.c, metrics.c); zero-terminated. */
extern const srv_route srv_ingest_routes[];
extern const srv_route srv_metrics_routes[];

#endif
