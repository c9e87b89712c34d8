// hud-lsp in a real editor in a real browser: Monaco with monaco-languageclient in Debian's Chromium
// (driven by playwright-core), the real hud-lsp behind a WebSocket bridge, the real hud-server on
// 127.0.0.1 holding a known batch. Asserts the lenses over the sample file's functions and the hover
// on fetch_order as the page shows them, then the lenses after typing; saves screenshots of each.
//
// Environment: HUD_SERVER_BIN, HUD_LSP_BIN (the built binaries), HUD_MONACO_OUT (a directory of the
// build tree: the bundle and the screenshot go there), CHROMIUM (default /usr/bin/chromium).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { bundle, serve } from './bridge.mjs';
import { SAMPLE, createKey, seed, startServer } from './seed.mjs';

const env = (k) => process.env[k] || (() => { throw new Error(`missing ${k}`); })();
const SERVER_BIN = env('HUD_SERVER_BIN');
const LSP_BIN = env('HUD_LSP_BIN');
const OUT = env('HUD_MONACO_OUT');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const LIMIT_MS = 50000; // the whole test; CTest's timeout is the outer bound

// What the page must show (figures of seed.mjs; percentiles from the sketch at alpha 0.005).
const LENSES = {
  5: '⚡ 0.5/min · p95 848 µs · 10% err · ≠ prod (1.0.0)', // Pool.acquire: its deployed code differs
  9: '⚡ 1.2k/min · p95 38 ms · 0.4% err', // fetch_order
  13: '⚡ 10/min · p95 2.5 ms · 0% err', // fetch_items; save_order (line 17) never ran: no lens
};
const LENSES_EDITED = {
  6: LENSES[5],
  10: '⚡ 1.2k/min · p95 38 ms · 0.4% err · ≠ prod (1.0.0)',
  14: LENSES[13],
};
const HOVER = [ // the rendered markdown's lines (table cells are tab-separated in innerText)
  'fetch_order — production, last 1h (shop)',
  'calls\t1.2k/min (72k in the window)',
  'latency\tp50 10 ms · p95 38 ms · p99 38 ms · mean 13 ms',
  'errors\t0.4% (288 calls)',
];

const cleanups = [];
let bridge; // for the report on failure
const started = Date.now();
const log = (msg) => console.log(`[monaco ${((Date.now() - started) / 1000).toFixed(1)}s] ${msg}`);

async function poll(what, fn, ms) {
  const end = Date.now() + ms;
  let last;
  for (;;) {
    last = await fn();
    if (last.ok) return last;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// The lenses Monaco shows, by the 1-based line below each (a lens sits in a view zone above its line).
function lensesOnScreen(page) {
  return page.evaluate(() => {
    const ed = window.hudEditor;
    if (!ed) return {};
    const edTop = ed.getDomNode().getBoundingClientRect().top;
    const out = {};
    for (const el of document.querySelectorAll('.codelens-decoration')) {
      const r = el.getBoundingClientRect();
      let line = 0;
      for (let n = 1; n <= ed.getModel().getLineCount(); n++) {
        if (edTop + ed.getTopForLineNumber(n) - ed.getScrollTop() >= r.bottom - 1) { line = n; break; }
      }
      out[line] = (out[line] ? out[line] + ' | ' : '') + el.textContent;
    }
    return out;
  });
}

async function stopPid(proc, name) {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const gone = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM');
  const t = setTimeout(() => proc.kill('SIGKILL'), 10000);
  await gone;
  clearTimeout(t);
  log(`${name} (pid ${proc.pid}) stopped`);
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'hud-monaco-'));
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(OUT, { recursive: true });

  const db = join(dir, 'hud.db');
  const srv = await startServer(SERVER_BIN, db, 20000);
  cleanups.push(() => stopPid(srv.proc, 'hud-server'));
  const key = createKey(SERVER_BIN, db);
  const top = await seed(srv.url, key);
  const calls = Object.fromEntries(top.items.map((f) => [f.name, f.calls]));
  assert.deepEqual(calls, { fetch_order: 72000, fetch_items: 600, 'Pool.acquire': 30 }, 'the batch as hud-server holds it');
  log(`hud-server ${srv.url} (pid ${srv.proc.pid}) holds the batch: ${JSON.stringify(calls)}`);

  // The workspace: the sample below a deeper path, mapped by hud-lsp to the module shop/db.py.
  const root = join(dir, 'ws');
  const file = join(root, 'services/backend/shop/db.py');
  mkdirSync(join(root, 'services/backend/shop'), { recursive: true });
  writeFileSync(file, SAMPLE);
  // hud-lsp reads no configuration of the machine: an empty config home.
  mkdirSync(join(dir, 'xdg'));
  const lspEnv = { ...process.env, XDG_CONFIG_HOME: join(dir, 'xdg'), HOME: dir };
  for (const k of Object.keys(lspEnv)) if (k.startsWith('HUD_')) delete lspEnv[k];

  const www = join(OUT, 'www');
  await bundle(www);
  log(`bundled into ${www}`);
  const config = { root, file, text: SAMPLE, options: { url: srv.url, key, service: 'shop' } };
  const web = await serve(www, config, LSP_BIN, lspEnv);
  bridge = web;
  cleanups.push(() => web.close());
  cleanups.push(async () => { for (const s of web.sessions) if (s.proc.exitCode === null) await stopPid(s.proc, 'hud-lsp'); });

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'],
    timeout: 20000,
  });
  cleanups.push(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1000, height: 520 } });
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') pageErrors.push(m.text()); });
  page.on('response', (r) => { if (r.status() >= 400) pageErrors.push(`${r.status()} ${r.url()}`); });
  await page.goto(web.url);
  log(`page ${web.url}`);

  // The lenses: one above each function with figures, in Monaco's DOM.
  const lenses = await poll('the lenses', async () => {
    const byLine = await lensesOnScreen(page);
    const texts = Object.values(byLine);
    return { ok: texts.length === Object.keys(LENSES).length && texts.every((t) => t.trim()), byLine };
  }, 20000);
  log(`lenses: ${JSON.stringify(lenses.byLine)}`);
  assert.deepEqual(lenses.byLine, LENSES);
  const shotLenses = join(OUT, 'monaco-lenses.png');
  await page.screenshot({ path: shotLenses });
  log(`screenshot: ${shotLenses}`);

  // The hover on fetch_order's name (line 9, columns 5-15), with the mouse as a user would.
  const at = await page.evaluate(() => {
    const ed = window.hudEditor;
    const p = ed.getScrolledVisiblePosition({ lineNumber: 9, column: 8 });
    const r = ed.getDomNode().getBoundingClientRect();
    return { x: r.left + p.left + 2, y: r.top + p.top + p.height / 2 };
  });
  await page.mouse.move(at.x - 40, at.y + 60);
  await page.mouse.move(at.x, at.y, { steps: 4 });
  const hover = await poll('the hover', async () => {
    const text = await page.evaluate(() => [...document.querySelectorAll('.monaco-hover-content')]
      .map((e) => e.innerText).join('\n'));
    const lines = text.split('\n');
    return { ok: HOVER.every((h) => lines.includes(h)), text };
  }, 10000);
  log(`hover: ${JSON.stringify(hover.text)}`);
  // The screenshot once the hover has faded in.
  await poll('the hover to show', async () => ({
    ok: await page.evaluate(() => [...document.querySelectorAll('.monaco-hover')]
      .some((e) => e.offsetParent && getComputedStyle(e).opacity === '1' && !e.getAnimations({ subtree: true }).length)),
  }), 5000);
  const shotHover = join(OUT, 'monaco-hover.png');
  await page.screenshot({ path: shotHover });
  log(`screenshot: ${shotHover}`);

  // Typing, as a user would: a line above everything, then a change in fetch_order's body. The lenses
  // follow their functions down one line (incremental didChange, re-index); fetch_order's code no
  // longer is the deployed code, so its lens says so.
  await page.mouse.move(5, 500);
  await page.evaluate(() => { window.hudEditor.setPosition({ lineNumber: 1, column: 1 }); window.hudEditor.focus(); });
  await page.keyboard.type('# edited');
  await page.keyboard.press('Enter');
  await page.evaluate(() => window.hudEditor.setPosition({ lineNumber: 11, column: 1 }));
  await page.keyboard.press('End');
  await page.keyboard.type(' or None');
  const text = await page.evaluate(() => window.hudEditor.getModel().getValue());
  assert.equal(text, '# edited\n' + SAMPLE.replace('return {"id": order_id}', 'return {"id": order_id} or None'));
  const edited = await poll('the lenses after the edit', async () => {
    const byLine = await lensesOnScreen(page);
    return { ok: JSON.stringify(byLine) === JSON.stringify(LENSES_EDITED), byLine };
  }, 10000);
  log(`lenses after the edit: ${JSON.stringify(edited.byLine)}`);
  const shotEdited = join(OUT, 'monaco-edited.png');
  await page.screenshot({ path: shotEdited });
  log(`screenshot: ${shotEdited}`);

  // What travelled over the bridge: one hud-lsp, given the editor's initializationOptions.
  assert.equal(web.sessions.length, 1);
  const s = web.sessions[0];
  const init = s.toServer.find((m) => m.method === 'initialize');
  assert.deepEqual(init.params.initializationOptions, config.options);
  assert.ok(s.toServer.some((m) => m.method === 'textDocument/codeLens'));
  assert.ok(s.toServer.some((m) => m.method === 'textDocument/hover'));
  assert.ok(s.toServer.some((m) => m.method === 'textDocument/didChange' && m.params.contentChanges.every((c) => c.range)),
    'incremental changes');

  // The client's stop(): shutdown, exit; hud-lsp ends with 0.
  await page.evaluate(() => window.hudClient.stop());
  const code = await Promise.race([s.exit, new Promise((r) => setTimeout(() => r('still running'), 10000))]);
  assert.equal(code, 0, `hud-lsp exit: ${code}\n${s.stderr}`);
  assert.deepEqual(pageErrors, []);
}

const guard = setTimeout(() => {
  console.error(`[monaco] over ${LIMIT_MS} ms: giving up`);
  finish(1);
}, LIMIT_MS);

let finishing = false;
async function finish(rc) {
  if (finishing) return;
  finishing = true;
  clearTimeout(guard);
  if (bridge) {
    const trace = join(OUT, 'monaco-lsp.jsonl');
    writeFileSync(trace, bridge.sessions.flatMap((s) => s.trace).map((t) => JSON.stringify(t)).join('\n') + '\n');
    log(`the messages over the bridge: ${trace}`);
  }
  if (rc && bridge) {
    for (const s of bridge.sessions) {
      console.error(`[monaco] hud-lsp pid ${s.proc.pid} stderr:\n${s.stderr.slice(-4000)}`);
      console.error(`[monaco] hud-lsp's last messages to the editor:\n${s.fromServer.slice(-8).map((m) => JSON.stringify(m)).join('\n')}`);
    }
  }
  for (const c of cleanups.reverse()) {
    try { await c(); } catch (e) { console.error(`[monaco] cleanup: ${e.message}`); }
  }
  cleanups.length = 0;
  log(rc ? 'FAILED' : 'passed');
  process.exit(rc);
}

for (const sig of ['SIGINT', 'SIGTERM']) process.once(sig, () => { console.error(`[monaco] ${sig}`); finish(1); });
main().then(() => finish(0), (e) => { console.error(`[monaco] ${e.stack || e}`); finish(1); });
