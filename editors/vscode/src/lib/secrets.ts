// API key handling: which SecretStorage entry holds the key for a backend, and what a valid key is.
// The key never goes to settings.json; it reaches hud-lsp as HUD_KEY in its environment (settings.ts).

/** The SecretStorage entry for a backend URL: one key per backend (scheme and host case-folded, no trailing /). */
export function secretName(url: string): string {
  return `hud.apiKey/${normalizeUrl(url) || "default"}`;
}

export function normalizeUrl(url: string): string {
  const u = url.trim();
  if (!u) return "";
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/([^/]*)(.*)$/.exec(u);
  if (!m) return u.replace(/\/+$/, "");
  return `${m[1].toLowerCase()}://${m[2].toLowerCase()}${m[3].replace(/\/+$/, "")}`;
}

/** A key as typed or pasted: trimmed; an error for an empty key, blanks or control characters inside, or > 4096. */
export function checkKey(input: string | undefined): { key: string } | { error: string } {
  const key = (input ?? "").trim();
  if (!key) return { error: "the API key is empty" };
  if (key.length > 4096) return { error: "the API key is longer than 4096 characters" };
  if (/[\s\u0000-\u001f\u007f]/.test(key)) return { error: "the API key holds blanks or control characters" };
  return { key };
}

/** `text` with every occurrence of the key masked (log lines, error messages). */
export function redact(text: string, key: string | undefined): string {
  if (!key || key.length < 4) return text;
  return text.split(key).join("********");
}
