/* A small loopback HTTP server (libmicrohttpd) for tests of HTTP clients.
 *
 * It stands in for hud-server until that exists: it listens on 127.0.0.1 on a free port, answers each
 * (method, path) with a scripted response (status, body, delay, chunked or not, or dropping the connection),
 * and records every request (method, path, query arguments, headers, raw and gzip-decoded body).
 * One thread per connection, so a delayed response never holds up another request. */
#ifndef HUD_TEST_HTTPD_FIXTURE_H
#define HUD_TEST_HTTPD_FIXTURE_H

#include <stddef.h>

typedef struct httpd httpd;

typedef struct httpd_response {
  int status;               /* HTTP status; 0 means 200 */
  const char *content_type; /* NULL: application/json */
  const char *body;         /* copied; NULL with body_len 0 is an empty body */
  size_t body_len;          /* 0 with a non-NULL body: strlen(body) */
  int delay_ms;             /* wait this long before answering (cut short by httpd_stop) */
  int chunked;              /* send without Content-Length (chunked transfer) */
  int drop;                 /* close the connection without any response */
  size_t repeat_len;        /* >0: the body is `body` repeated up to this many bytes (large bodies) */
  int times;                /* >0: answer only this many requests, then fall through to other routes */
  const char *retry_after;  /* not NULL: sent as a Retry-After header (not copied: a literal) */
} httpd_response;

typedef struct httpd_header {
  char *name;
  char *value;
} httpd_header;

typedef struct httpd_request {
  char *method;
  char *path;               /* without the query string */
  httpd_header *args;       /* decoded query arguments */
  size_t n_args;
  httpd_header *headers;
  size_t n_headers;
  unsigned char *body;      /* raw body as received (NUL-terminated for convenience) */
  size_t body_len;
  unsigned char *decoded;   /* body after gzip decoding when Content-Encoding: gzip, else same as body */
  size_t decoded_len;
  int decode_error;         /* Content-Encoding: gzip but the body did not decode */
  int client_port;          /* the client's source port: equal ports mean a reused connection */
  long long received_ms;    /* CLOCK_MONOTONIC milliseconds when the body was in */
} httpd_request;

/* Starts the server on 127.0.0.1 with a free port. Returns NULL on failure (message on stderr). */
httpd *httpd_start(void);
/* Starts an HTTPS server with the PEM certificate and key given in memory (NULL if MHD lacks TLS). */
httpd *httpd_start_tls(const char *cert_pem, const char *key_pem);
/* Stops the server, waking any delayed responses, and frees everything it recorded. */
void httpd_stop(httpd *h);

int httpd_port(const httpd *h);
/* "http://127.0.0.1:PORT" (or https); valid until httpd_stop. */
const char *httpd_url(const httpd *h);

/* Scripts the answer for METHOD ("*" any) and PATH ("*" any). Exact routes win over wildcards; among
 * equals the latest added wins. A later unlimited route replaces an unlimited one for the same METHOD and
 * PATH; a limited one (times > 0) is stacked on top, e.g. "503 twice, then 200" is a 200 route followed by a
 * 503 route with times = 2. Unrouted requests get 404 with an error JSON body. */
void httpd_route(httpd *h, const char *method, const char *path, const httpd_response *resp);
/* Shorthand: a status and a NUL-terminated body. */
void httpd_route_simple(httpd *h, const char *method, const char *path, int status, const char *body);

/* Requests recorded so far (a request is recorded once its body is in, before any delay).
 * Pointers stay valid until httpd_stop. */
size_t httpd_request_count(httpd *h);
const httpd_request *httpd_request_at(httpd *h, size_t i);
/* Waits until at least N requests are recorded or TIMEOUT_MS pass; returns the count. */
size_t httpd_wait_requests(httpd *h, size_t n, int timeout_ms);
/* Number of responses fully handed to the server (not dropped or cut short). */
size_t httpd_responses_sent(httpd *h);

/* Case-insensitive header lookup and query-argument lookup; NULL if absent. */
const char *httpd_request_header(const httpd_request *r, const char *name);
const char *httpd_request_arg(const httpd_request *r, const char *name);

#endif
