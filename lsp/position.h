/* Editor positions within one line: LSP characters (UTF-16 code units, or UTF-8 bytes when
 * negotiated) to byte columns and back. Malformed UTF-8 counts one unit per byte. */
#ifndef LSP_POSITION_H
#define LSP_POSITION_H

#include <stddef.h>
#include <stdint.h>

#include "types.h"

/* Byte column of character UNITS in LINE (LEN bytes, without its line break). Past the end: LEN (the
 * specification's clamp). A UTF-16 position inside a surrogate pair moves to the end of the code
 * point. */
size_t lsp_units_to_bytes(const char *line, size_t len, int64_t units, lsp_encoding enc);
/* Character of byte column BYTES (clamped to LEN). */
int64_t lsp_bytes_to_units(const char *line, size_t len, size_t bytes, lsp_encoding enc);

#endif
