/* hud-lsp's settings: initializationOptions over the shared configuration (docs/lsp.md "Settings"). */
#ifndef LSP_SETTINGS_H
#define LSP_SETTINGS_H

#include <stddef.h>

#include "server.h"

#define LSP_DEFAULT_WINDOW_S 3600
#define LSP_DEFAULT_REFRESH_S 30

/* Parses "90s", "15m", "1h", "2d" or a plain number of seconds; -1 when malformed. */
long long lsp_parse_window(const char *s);

/* Fills S->settings from OPTS on top of S->base_cfg (command-line flags still win). 0, or HUD_ECONFIG
 * with ERR saying which option is wrong (the server keeps going without a backend). */
int lsp_settings_apply(lsp_server *s, const lsp_init_options *opts, char *err, size_t err_len);

#endif
