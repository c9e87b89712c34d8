/* Call hierarchy (stub). */
#include "server.h"
static const lsp_method methods[] = {{"callHierarchy/none", NULL, 0, NULL, NULL, 0, 0}};
const lsp_method_table lsp_m_hierarchy = {"hierarchy", methods, 0};
