/* Two query answers compared as the store tests need: JSON alike, numbers to 1e-9 relative, after
 * dropping the keys whose values are receive or detection times or name the server (two servers
 * receive and detect a few milliseconds apart). */
#ifndef TEST_ANSWERS_H
#define TEST_ANSWERS_H

#include <jansson.h>
#include <stddef.h>

/* 1 when A and B agree; else 0 with where and how they differ in WHY (NAME_A, NAME_B: the servers'
 * names for "missing in ..."). */
int answers_same(json_t *a, json_t *b, const char *name_a, const char *name_b, char *why, size_t wcap);

/* METHOD PATH (BODY: a POST's JSON, else NULL) with KEY to the hud-server on PORT: its answer parsed
 * (caller frees) and its status in *STATUS; fails the test when there is no answer or it is not JSON. */
json_t *answers_request(int port, const char *key, const char *method, const char *path, const char *body,
                        long *status);

/* A hud-server whose answers are compared: its port, a key that reads, and its name in messages. */
typedef struct answers_server {
  int port;
  const char *key;
  const char *name;
} answers_server;

/* METHOD PATH (BODY: a POST's JSON, else NULL) asked of REF and of the N servers OTHERS: fails the
 * test unless every one answers 200 and alike REF's answer (printing both); REF's answer (caller
 * frees). */
json_t *answers_alike(const answers_server *ref, const answers_server *others, int n, const char *method,
                      const char *path, const char *body);

#endif
