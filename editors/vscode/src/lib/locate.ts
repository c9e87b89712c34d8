// Finding a function of production in the workspace when hud-lsp did not (no `location`): the module path
// through hud.pathMaps, then the definition line in the file's text.

/**
 * Workspace-relative candidates for a module path: each map whose key is a prefix of the module path
 * (longest first) rewrites it (`{"shop/": "src/shop/"}`: shop/cart.py -> src/shop/cart.py); the module
 * path itself comes last. None for a function production never declared (modulePath null) or for an
 * uninstrumented caller.
 */
export function mapModulePath(modulePath: string | null | undefined, maps: Record<string, string>): string[] {
  if (!modulePath) return [];
  const out: string[] = [];
  const keys = Object.keys(maps).sort((a, b) => b.length - a.length);
  for (const k of keys) if (modulePath.startsWith(k)) out.push(maps[k] + modulePath.slice(k.length));
  out.push(modulePath);
  return [...new Set(out.map((p) => p.replace(/^\/+/, "")))];
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * The 0-based line defining `qualname` (its last part: `Cart.add` -> `add`) in `text`: `def`/`async def`,
 * `class`, `function`, or `name = (`/`name(...) {`. -1 when none.
 */
export function findDefinitionLine(text: string, qualname: string): number {
  const parts = qualname.split(".").filter((p) => p && !p.startsWith("<"));
  const name = parts[parts.length - 1];
  if (!name) return -1;
  const n = escapeRe(name);
  const patterns = [
    new RegExp(`^\\s*(?:async\\s+)?def\\s+${n}\\s*\\(`),
    new RegExp(`^\\s*class\\s+${n}\\b`),
    new RegExp(`^\\s*(?:export\\s+)?(?:async\\s+)?function\\s*\\*?\\s*${n}\\s*\\(`),
    new RegExp(`^\\s*(?:const|let|var)\\s+${n}\\s*=`),
  ];
  const lines = text.split("\n");
  for (const re of patterns) {
    const i = lines.findIndex((l) => re.test(l));
    if (i >= 0) return i;
  }
  return -1;
}
