/* Whether a function body keeps its meaning inside a block. The rewrite wraps each body in
 * `try { BODY }`, where a function declared at the body's top level becomes block-scoped: a
 * `var` of the same name anywhere in the function, or a second declaration of it, is then a
 * SyntaxError (`var fn = o.custom; ... function fn() {...}`, the util package's promisify), and a
 * function of that name declared in a nested block no longer replaces it (Annex B.3.3). The
 * other way, `let`, `const` or `class` redeclaring a parameter is a SyntaxError that the block
 * would hide. */
#ifndef HSN_BLOCKSCOPE_H
#define HSN_BLOCKSCOPE_H

#include <stdbool.h>
#include <tree_sitter/api.h>

/* BODY: the statement_block of function node FN in SRC. False when a function declared at its
 * top level shares its name with another such declaration, with a `var` of the function or with
 * a function declared in a nested block (nested functions and classes aside), or when a top-level
 * `let`, `const` or `class` declares a parameter's name. */
bool hsn_body_takes_a_block(const char *src, TSNode fn, TSNode body);

#endif
