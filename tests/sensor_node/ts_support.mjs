// Shared by the TypeScript suites (typescript_*.mjs): typescript and rxjs installed by `npm ci`
// from typescript/package-lock.json into the build tree (again only when the lockfile
// changed), and the fixture project typescript/app compiled by tsc into one directory per
// variant. typescript_setup.mjs prepares it once (a CTest fixture); the others read it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { OUT } from './support.mjs';

const here = path.dirname(new URL(import.meta.url).pathname);
export const DIR = path.join(OUT, 'typescript');
export const NM = path.join(DIR, 'node_modules');
export const APP = path.join(DIR, 'app');

// name -> tsc options over app/tsconfig.json (ES2020, CommonJS, source map files). ES modules
// get a package.json with "type": "module" in their directory.
export const VARIANTS = {
  cjs2020: [],
  cjs2015: ['--target', 'ES2015'],
  esm2020: ['--module', 'es2020', '--moduleResolution', 'bundler'],
  esm2015: ['--target', 'ES2015', '--module', 'es2015', '--moduleResolution', 'bundler'],
  inline: ['--sourceMap', 'false', '--inlineSourceMap', '--inlineSources'],
};
// And bundles: esbuild (tsx's own dependency) puts each entry point with everything it imports
// in one file whose map names all the .ts sources.
export const RUN = ['cjs2020', 'cjs2015', 'esm2020', 'esm2015', 'inline', 'bundle'];
// The stacks also of a minified bundle (its frames named from the map under --enable-source-maps;
// the workload itself reads function names, which a minifier changes).
export const RUN_STACKS = [...RUN, 'bundlemin'];

// Whether npm is there (else the suites skip with 77).
export function haveNpm() {
  return spawnSync('npm', ['--version']).status === 0;
}

export function install() {
  fs.mkdirSync(DIR, { recursive: true });
  for (const f of ['package.json', 'package-lock.json'])
    fs.copyFileSync(path.join(here, 'typescript', f), path.join(DIR, f));
  const stamp = path.join(NM, '.hud-installed-lock');
  const lock = fs.readFileSync(path.join(DIR, 'package-lock.json'), 'utf8');
  if (fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === lock) return;
  const r = spawnSync('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'],
    { cwd: DIR, stdio: 'inherit', timeout: 180000 });
  assert.equal(r.status, 0, 'npm ci failed');
  fs.writeFileSync(stamp, lock);
}

export function compile(pkg) {
  fs.rmSync(APP, { recursive: true, force: true });
  fs.cpSync(path.join(here, 'typescript', 'app'), APP, { recursive: true });
  fs.writeFileSync(path.join(APP, 'package.json'), JSON.stringify({ name: 'app', private: true }));
  fs.mkdirSync(path.join(APP, 'node_modules'));
  fs.symlinkSync(pkg, path.join(APP, 'node_modules', 'hud-sensor'));
  const tsc = path.join(NM, 'typescript', 'bin', 'tsc');
  for (const [name, opts] of Object.entries(VARIANTS)) {
    const out = path.join(APP, name);
    const r = spawnSync(process.execPath, [tsc, '-p', APP, '--outDir', out, ...opts], { encoding: 'utf8', timeout: 120000 });
    assert.equal(r.status, 0, `tsc ${name}: ${r.stdout}${r.stderr}`);
    if (name.startsWith('esm')) fs.writeFileSync(path.join(out, 'package.json'), '{"type": "module"}');
  }
  const esbuild = path.join(NM, 'esbuild', 'bin', 'esbuild');
  for (const [out, extra] of [['bundle', []], ['bundlemin', ['--minify']]]) {
    const r = spawnSync(esbuild, ['src/main.ts', 'src/stack_main.ts', '--bundle', '--platform=node', '--sourcemap',
      `--outdir=${out}`, '--log-level=warning', ...extra], { cwd: APP, encoding: 'utf8', timeout: 120000 });
    assert.equal(r.status, 0, `esbuild ${out}: ${r.stdout}${r.stderr}`);
  }
}
