/* The server's state outside the loop: what main and the fuzz target tear down the same way. */
#include <stdlib.h>

#include "backend.h"
#include "docs.h"
#include "server.h"

void lsp_server_release(lsp_server *s) {
  s->released = true;
  lsp_backend_free(s->backend);
  s->backend = NULL;
  lsp_server_drop_waiting(s);
  lsp_docs_free(s->docs);
  s->docs = NULL;
  for (size_t i = 0; i < s->n_folders; i++) free(s->folders[i]);
  free(s->folders);
  s->folders = NULL;
  s->n_folders = 0;
}
