/* pathMaps (docs/lsp.md "Settings"): production module paths that start with FROM live in the workspace
 * under TO (relative to a folder, or absolute). Module paths are relative: FROM's leading '/' is not
 * compared ("/app" maps app/orders/api.py). */
#ifndef LSP_PATHMAP_H
#define LSP_PATHMAP_H

#include <stddef.h>

#include "server.h"

/* The production module path of the file PATH of folder FOLDER (-1: none) through the first map whose
 * directory holds it (FROM + the path below TO) in OUT. 0, or -1 when no map applies. */
int lsp_pathmap_module(const lsp_server *s, const char *path, int folder, char *out, size_t cap);
/* The workspace file of MODULE through map I and folder FOLDER (ignored when TO is absolute) in OUT.
 * 0, or -1 when MODULE does not start with the map's FROM. */
int lsp_pathmap_file(const lsp_server *s, size_t i, size_t folder, const char *module, char *out, size_t cap);

#endif
