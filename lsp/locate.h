/* Production functions located in the workspace, for call hierarchy items and related diagnostics.
 *
 * A module path (shop/pricing.py) is found the way the lenses map files, backwards: an open document
 * mapped to it or whose path below its folder ends with it, else FOLDER/MODULE and FOLDER/PREFIX/MODULE
 * for each PREFIX that maps an open document of that folder (app/shop/db.py mapped to shop/db.py gives
 * app/). Open documents with a ready index are read on the loop; other files are read and indexed on
 * a worker (uv_queue_work), one parse per file and request. */
#ifndef LSP_LOCATE_H
#define LSP_LOCATE_H

#include <stdbool.h>
#include <stdint.h>

#include "server.h"

typedef struct lsp_loc_query {
  const char *module;    /* production module path, or NULL when PATH is given */
  const char *path;      /* an absolute file path (the item's own file), or NULL */
  const char *qualname;  /* the function to find; NULL: none */
  int32_t line;          /* 1-based line to return as a range (a call site); 0: none */
} lsp_loc_query;

typedef struct lsp_loc {
  const char *uri;       /* NULL: no workspace file */
  bool found;            /* QUALNAME was found in it */
  lsp_range range, selection; /* the function's lines and its name */
  bool has_line;
  lsp_range line;        /* LINE without its leading blanks */
} lsp_loc;

/* Called on the loop with one location per query (strings in the arena given to lsp_locate_start);
 * after lsp_server_release only to let the caller free its state (S->released). */
typedef void (*lsp_locate_cb)(lsp_server *s, void *ud, lsp_loc *locs, size_t n);

/* Locates the N queries (copied). CB runs later, never from inside this call. 0 or HUD_ENOMEM. */
int lsp_locate_start(lsp_server *s, hud_arena *a, const lsp_loc_query *q, size_t n, lsp_locate_cb cb, void *ud);

#endif
