/* Function identity: the rules of docs/protocol.md ("Function identity").
 *
 * The source index and the runtime sensor both call these, so that the editor and the
 * telemetry name every function the same way. */
#ifndef HUD_IDENTITY_H
#define HUD_IDENTITY_H

#include <stddef.h>

#define HUD_UUID_STRLEN 36 /* without the terminating NUL */
#define HUD_SHA1_HEXLEN 40

/* Namespace of function ids: uuid5(NAMESPACE_URL, "urn:hud:function"). */
#define HUD_FUNCTION_ID_NAMESPACE "09c84c8d-8691-5743-8311-698989d60e14"

/* RFC 4122 version-5 UUID of NAME (LEN bytes) in namespace NS (canonical text form).
 * Writes 36 chars + NUL to OUT. Returns 0 or HUD_EINVAL for a malformed namespace. */
int hud_uuid5(const char *ns, const char *name, size_t len, char out[HUD_UUID_STRLEN + 1]);

/* function_id = uuid5(HUD_FUNCTION_ID_NAMESPACE, module_path ":" qualname).
 * MODULE_PATH uses '/' separators and is relative (e.g. "shop/orders.py"). */
int hud_function_id(const char *module_path, const char *qualname, char out[HUD_UUID_STRLEN + 1]);

/* source_code_hash: SHA-1 (lowercase hex) of lines START_LINE..END_LINE (1-based, inclusive)
 * of SRC, lines split on '\n', each line with trailing ' ', '\t', '\r', '\f', '\v' removed and
 * followed by a single '\n'. Returns HUD_ERANGE when the range is empty or past the end. */
int hud_source_hash(const char *src, size_t len, int start_line, int end_line,
                    char out[HUD_SHA1_HEXLEN + 1]);

/* SHA-1 of a buffer as lowercase hex. */
void hud_sha1_hex(const void *data, size_t len, char out[HUD_SHA1_HEXLEN + 1]);

#endif
