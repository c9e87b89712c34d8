/* Whether a function body keeps its meaning inside a block. The rewrite wraps each body in
 * `try { BODY }`, where a function declared at the body's top level becomes block-scoped: a
 * `var` of the same name anywhere in the function, or a second declaration of it, is then a
 * SyntaxError (`var fn = o.custom; ... function fn() {...}`, the util package's promisify). */
#ifndef HSN_BLOCKSCOPE_H
#define HSN_BLOCKSCOPE_H

#include <stdbool.h>
#include <tree_sitter/api.h>

/* BODY: a function's statement_block in SRC. False when a function declared at its top level
 * shares its name with another such declaration or with a `var` of the function (nested
 * functions and classes aside). */
bool hsn_body_takes_a_block(const char *src, TSNode body);

#endif
