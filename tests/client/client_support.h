/* Helpers shared by the client suites. */
#ifndef HUD_TEST_CLIENT_SUPPORT_H
#define HUD_TEST_CLIENT_SUPPORT_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hud/client.h"
#include "hud/config.h"

/* A port on 127.0.0.1 that refuses connections: bound (so nobody else takes it) but not listening.
 * Returns the socket to close afterwards; *PORT gets the port. */
static inline int refusing_port(int *port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0) return -1;
  socklen_t len = sizeof sa;
  getsockname(fd, (struct sockaddr *)&sa, &len);
  *port = ntohs(sa.sin_port);
  return fd;
}

/* A configuration for URL from defaults and flags only (the environment and files play no part). */
static inline hud_config *test_config(const char *url, const char *key) {
  hud_config *cfg = NULL;
  if (hud_config_new(&cfg, "test") != 0) return NULL;
  hud_config_set(cfg, "url", url, HUD_CFG_SRC_FLAG);
  if (key) hud_config_set(cfg, "key", key, HUD_CFG_SRC_FLAG);
  hud_config_set(cfg, "timeout_ms", "5000", HUD_CFG_SRC_FLAG);
  hud_config_set(cfg, "connect_timeout_ms", "2000", HUD_CFG_SRC_FLAG);
  return cfg;
}

#endif
