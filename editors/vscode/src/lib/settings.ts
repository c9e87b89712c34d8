// Settings -> how hud-lsp is started (command, args, env) and what it is told (initializationOptions).
// No `vscode` import: tested by node's test runner.

export type LensLayout = "full" | "compact" | "split";
export type EdgeWeight = "calls" | "time";

export interface HudSettings {
  url: string;
  service: string;
  env: string;
  window: string;
  refreshSeconds: number;
  serverPath: string;
  configFile: string;
  caFile: string;
  tuiPath: string;
  lens: { enabled: boolean; layout: LensLayout };
  inlayHints: boolean;
  hover: boolean;
  diagnostics: boolean;
  thresholds: { p95Ms: number; errorRatePercent: number; minCallsPerMinute: number };
  pathMaps: Record<string, string>;
  callGraph: { depth: number; maxNodes: number; edgeWidth: EdgeWeight };
}

/** Reads a section through `get(name)` (VS Code's WorkspaceConfiguration.get, or a plain object). */
export function readSettings(get: (name: string) => unknown): HudSettings {
  const str = (n: string) => {
    const v = get(n);
    return typeof v === "string" ? v.trim() : "";
  };
  const num = (n: string, def: number, lo: number, hi: number) => {
    const v = get(n);
    return typeof v === "number" && Number.isFinite(v) ? Math.min(hi, Math.max(lo, v)) : def;
  };
  const bool = (n: string, def: boolean) => {
    const v = get(n);
    return typeof v === "boolean" ? v : def;
  };
  const layout = str("lens.layout");
  const weight = str("callGraph.edgeWidth");
  const maps = get("pathMaps");
  const pathMaps: Record<string, string> = {};
  if (maps && typeof maps === "object")
    for (const [k, v] of Object.entries(maps as Record<string, unknown>))
      if (typeof v === "string" && k.length > 0) pathMaps[k] = v;
  return {
    url: str("url"),
    service: str("service"),
    env: str("env"),
    window: str("window") || "1h",
    refreshSeconds: Math.round(num("refreshSeconds", 30, 1, 86400)),
    serverPath: str("serverPath"),
    configFile: str("configFile"),
    caFile: str("caFile"),
    tuiPath: str("tuiPath") || "hud-tui",
    lens: {
      enabled: bool("lens.enabled", true),
      layout: layout === "compact" || layout === "split" ? layout : "full",
    },
    inlayHints: bool("inlayHints.enabled", true),
    hover: bool("hover.enabled", true),
    diagnostics: bool("diagnostics.enabled", true),
    thresholds: {
      p95Ms: num("thresholds.p95Ms", 0, 0, 1e9),
      errorRatePercent: num("thresholds.errorRatePercent", 0, 0, 100),
      minCallsPerMinute: num("thresholds.minCallsPerMinute", 0, 0, 1e12),
    },
    pathMaps,
    callGraph: {
      depth: Math.round(num("callGraph.depth", 3, 1, 16)),
      maxNodes: Math.round(num("callGraph.maxNodes", 100, 1, 500)),
      edgeWidth: weight === "time" ? "time" : "calls",
    },
  };
}

/** Reads settings from a nested object as settings.json holds them under "hud" (tests, fixtures). */
export function settingsFromObject(o: Record<string, unknown>): HudSettings {
  return readSettings((name) => {
    let cur: unknown = o;
    if (name in o) return o[name];
    for (const part of name.split(".")) {
      if (!cur || typeof cur !== "object") return undefined;
      cur = (cur as Record<string, unknown>)[part];
    }
    return cur;
  });
}

/**
 * hud-lsp's initializationOptions (and its answer to workspace/configuration "hud"): url, service, env,
 * window, refreshSeconds. Empty values are left out so hud-lsp falls back to its configuration file and
 * HUD_* variables. The API key is never here: it goes in the environment (serverEnv).
 */
export function initializationOptions(s: HudSettings): Record<string, string | number> {
  const o: Record<string, string | number> = {};
  if (s.url) o.url = s.url;
  if (s.service) o.service = s.service;
  if (s.env) o.env = s.env;
  o.window = /^\d+$/.test(s.window) ? Number(s.window) : s.window;
  o.refreshSeconds = s.refreshSeconds;
  return o;
}

/** Query window in seconds by hud-lsp's rule ("90s", "15m", "1h", "2d" or seconds; 60 s to 90 d), or an error. */
export function windowSeconds(w: string): number | string {
  const m = /^(\d+)([smhd]?)$/.exec(w.trim());
  const bad = `hud.window: expected 60s..90d (e.g. "1h", "15m", 3600), got "${w}"`;
  if (!m) return bad;
  const mul = { "": 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2] as "" | "s" | "m" | "h" | "d"];
  const v = Number(m[1]) * mul;
  return v < 60 || v > 90 * 86400 ? bad : v;
}

export interface ProxyInput {
  httpProxy: string; // VS Code's http.proxy ("" when unset)
  noProxy: string[]; // VS Code's http.noProxy
}

/**
 * The environment hud-lsp runs with: the extension host's, plus
 * HUD_KEY (the API key from SecretStorage: not on the command line, not in initializationOptions, so
 * neither the process list nor an LSP trace shows it), HUD_CA_FILE (libcurl's CA file, hud's `ca_file`),
 * and libcurl's proxy variables from `http.proxy` when set (libcurl reads `http_proxy` only in lower case).
 */
export function serverEnv(
  s: HudSettings,
  key: string | undefined,
  proxy: ProxyInput,
  base: Record<string, string | undefined>,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) if (typeof v === "string") env[k] = v;
  if (key) env.HUD_KEY = key;
  if (s.caFile) env.HUD_CA_FILE = s.caFile;
  if (proxy.httpProxy) {
    env.http_proxy = proxy.httpProxy;
    env.https_proxy = proxy.httpProxy;
    env.HTTPS_PROXY = proxy.httpProxy;
  }
  if (proxy.noProxy.length > 0) {
    env.no_proxy = proxy.noProxy.join(",");
    env.NO_PROXY = env.no_proxy;
  }
  return env;
}

/** The same environment with the key masked, for the log. */
export function describeEnv(env: Record<string, string>): string {
  const shown = ["HUD_KEY", "HUD_CA_FILE", "https_proxy", "no_proxy", "HUD_CONFIG"];
  return shown
    .filter((k) => env[k] !== undefined)
    .map((k) => `${k}=${k === "HUD_KEY" ? "********" : env[k]}`)
    .join(" ");
}

export interface ServerCommand {
  command: string;
  args: string[];
}

/**
 * hud-lsp's command line: `hud.serverPath` when set, else the binary bundled for this platform
 * (bin/<platform>-<arch>/hud-lsp in the extension). `exists` checks a path (fs.existsSync in the extension).
 */
export function serverCommand(
  s: HudSettings,
  extensionPath: string,
  platform: string,
  arch: string,
  exists: (p: string) => boolean,
): ServerCommand | { error: string } {
  const args = ["--stdio"];
  if (s.configFile) args.push("--config", s.configFile);
  if (s.serverPath) {
    if (s.serverPath.includes("/") && !exists(s.serverPath))
      return { error: `hud.serverPath: ${s.serverPath} does not exist` };
    return { command: s.serverPath, args };
  }
  const bundled = `${extensionPath}/bin/${platform}-${arch}/hud-lsp`;
  if (!exists(bundled))
    return {
      error: `no hud-lsp bundled for ${platform}-${arch}: set hud.serverPath to a hud-lsp binary`,
    };
  return { command: bundled, args };
}

/** What makes two folders need separate hud-lsp processes (hud-lsp serves one service per process). */
export function serverSignature(s: HudSettings): string {
  return JSON.stringify([s.url, s.service, s.env, s.window, s.refreshSeconds, s.serverPath, s.configFile, s.caFile]);
}

export interface FolderGroup<F> {
  signature: string;
  folders: F[];
  settings: HudSettings;
}

/** Folders grouped by signature, in first-seen order: one hud-lsp per group. */
export function groupFolders<F>(folders: F[], settingsOf: (f: F) => HudSettings): FolderGroup<F>[] {
  const groups = new Map<string, FolderGroup<F>>();
  for (const f of folders) {
    const st = settingsOf(f);
    const sig = serverSignature(st);
    const g = groups.get(sig);
    if (g) g.folders.push(f);
    else groups.set(sig, { signature: sig, folders: [f], settings: st });
  }
  return [...groups.values()];
}

/** Files hud-lsp indexes (common/index/index.c), below each folder: the client's document selector. */
export const SOURCE_GLOB = "**/*.{py,pyi,js,mjs,cjs,jsx,ts,mts,cts,tsx,go,java}";

export function documentSelector(folderPaths: string[]): { scheme: string; pattern: string }[] {
  if (folderPaths.length === 0) return [{ scheme: "file", pattern: SOURCE_GLOB }];
  return folderPaths.map((p) => ({ scheme: "file", pattern: `${p.replace(/\/+$/, "")}/${SOURCE_GLOB}` }));
}

/** hud-tui's arguments for one function's detail (docs/tui.md); the key goes in its environment. */
export function tuiArgs(s: HudSettings, functionId: string): string[] {
  const args: string[] = [];
  if (s.configFile) args.push("--config", s.configFile);
  if (s.url) args.push("--url", s.url);
  if (s.service) args.push("--service", s.service);
  if (s.env) args.push("--env", s.env);
  if (typeof windowSeconds(s.window) === "number") args.push("--window", /^\d+$/.test(s.window) ? `${s.window}s` : s.window);
  args.push("--view", "detail", "--function", functionId);
  return args;
}
