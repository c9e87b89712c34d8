// Deep links into the editor: <scheme>://<publisher>.<name>/function?id=<function_id>[&issue=<issue_id>]
// (alerts link the issue's root-cause function and the issue).

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isFunctionId(s: string): boolean {
  return UUID.test(s);
}

/** `scheme` is vscode.env.uriScheme ("vscode", "vscode-insiders", "cursor"); `extensionId` publisher.name. */
export function buildFunctionLink(scheme: string, extensionId: string, functionId: string): string {
  return `${scheme}://${extensionId.toLowerCase()}/function?id=${encodeURIComponent(functionId.toLowerCase())}`;
}

export type DeepLink = { kind: "function"; functionId: string; issueId?: string } | { kind: "invalid"; error: string };

/** Parses the path and query VS Code hands to a UriHandler (Uri.path, Uri.query). */
export function parseDeepLink(path: string, query: string): DeepLink {
  const p = path.replace(/\/+$/, "");
  if (p !== "/function") return { kind: "invalid", error: `unknown hud link path "${path}" (expected /function)` };
  let id: string | null = null;
  let issue: string | null = null;
  try {
    const q = new URLSearchParams(query);
    id = q.get("id");
    issue = q.get("issue");
  } catch {
    id = null;
  }
  if (!id) return { kind: "invalid", error: "hud link without id=<function_id>" };
  id = id.trim();
  if (!isFunctionId(id)) return { kind: "invalid", error: `hud link: "${id.slice(0, 64)}" is not a function id (a UUID)` };
  const link: DeepLink = { kind: "function", functionId: id.toLowerCase() };
  if (issue !== null) {
    issue = issue.trim();
    if (!UUID.test(issue)) return { kind: "invalid", error: `hud link: "${issue.slice(0, 64)}" is not an issue id (a UUID)` };
    link.issueId = issue.toLowerCase();
  }
  return link;
}
