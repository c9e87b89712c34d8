// esbuild: `bundle` -> dist/extension.js (the extension, vscode-languageclient inside);
// `lib` -> out/lib/*.js (the modules without `vscode`, for node's test runner).
import { build } from "esbuild";
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const what = process.argv[2] ?? "bundle";

if (what === "bundle") {
  await build({
    entryPoints: [join(root, "src/extension.ts")],
    outfile: join(root, "dist/extension.js"),
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node18",
    external: ["vscode"],
    minify: process.env.HUD_DEV !== "1",
    sourcemap: process.env.HUD_DEV === "1" ? "inline" : false,
    logLevel: "warning",
  });
} else if (what === "lib") {
  const lib = join(root, "src/lib");
  await build({
    entryPoints: readdirSync(lib).filter((f) => f.endsWith(".ts")).map((f) => join(lib, f)),
    outdir: join(root, "out/lib"),
    bundle: false,
    platform: "node",
    format: "cjs",
    target: "node18",
    logLevel: "warning",
  });
} else {
  console.error(`usage: node scripts/build.mjs bundle|lib`);
  process.exit(2);
}
