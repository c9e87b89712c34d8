/* hud/hotPaths' tree from a call graph (GET /v1/callgraph): below the root, each level's callees
 * heaviest first; a function already on the path is listed but not expanded again (recursion). */
#ifndef LSP_HOTPATHS_H
#define LSP_HOTPATHS_H

#include <stdbool.h>
#include <stddef.h>

#include "hud/model.h"
#include "types.h"

/* Builds the tree below ROOT in A (*OUT), at most CAP nodes (*TRUNCATED when cut). Children are
 * ordered by the callee's time on the edge (BY_CALLS: the edge's calls), then by name; a node's share
 * is its time on the edge over the root's total time (also when ordered by calls: a share of calls
 * could exceed 1). Nodes are not located (URI NULL). 0, HUD_ENOTFOUND (ROOT is not
 * in G) or HUD_ENOMEM. */
int lsp_hot_paths_build(const hud_callgraph_response *g, const char *root, bool by_calls, size_t cap, hud_arena *a,
                        lsp_path_node **out, bool *truncated);

#endif
