/* file: URIs to paths and paths relative to workspace folders. */
#ifndef LSP_URI_H
#define LSP_URI_H

/* The path of a file: URI (percent-decoded, host empty or localhost), malloc'ed; NULL for other
 * schemes or a malformed URI. */
char *lsp_uri_to_path(const char *uri);
/* PATH below ROOT ("a/b/c.py", no leading '/'), or NULL when it is not below. Points into PATH. */
const char *lsp_path_below(const char *path, const char *root);

/* The file: URI of an absolute PATH (bytes outside A-Z a-z 0-9 - . _ ~ / percent-encoded), malloc'ed. */
char *lsp_path_to_uri(const char *path);

#endif
