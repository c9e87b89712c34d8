// The page's bundle (esbuild), and one server on 127.0.0.1 that serves it and bridges a WebSocket to
// the real hud-lsp: each connection spawns `hud-lsp --stdio` and relays JSON-RPC both ways
// (vscode-ws-jsonrpc's server side, which frames the messages on hud-lsp's stdin/stdout).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { WebSocketServer } from 'ws';
import { createProcessStreamConnection, createWebSocketConnection } from 'vscode-ws-jsonrpc/server';

const HERE = fileURLToPath(new URL('.', import.meta.url));

// Bundles page/app.js (Monaco, monaco-languageclient) and Monaco's editor worker into OUT.
export async function bundle(out) {
  await esbuild.build({
    absWorkingDir: HERE,
    entryPoints: { app: 'page/app.js', 'editor.worker': 'monaco-editor/esm/vs/editor/editor.worker.js' },
    bundle: true,
    format: 'iife',
    outdir: out,
    loader: { '.ttf': 'file' },
    logLevel: 'error',
  });
}

const TYPES = { '.js': 'text/javascript', '.css': 'text/css', '.ttf': 'font/ttf', '.html': 'text/html' };

// Serves OUT (index.html with CONFIG in it) and the bridge on /lsp. Resolves {url, close, sessions}:
// sessions[i] = {proc, exit (a promise of the exit code), toServer, fromServer, trace (the messages)}.
export function serve(out, config, lspBin, lspEnv) {
  const index = readFileSync(join(HERE, 'page/index.html'), 'utf8');
  const sessions = [];
  const http = createServer((req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    if (path === '/favicon.ico') {
      res.writeHead(204).end();
      return;
    }
    let body;
    try {
      body = path === '/' ? index.replace('__HUD_CONFIG__', () => JSON.stringify(config))
        : readFileSync(join(out, path.replace(/^\/+/, '').replace(/\.\./g, '')));
    } catch {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(path)] || 'text/html' }).end(body);
  });
  const wss = new WebSocketServer({ server: http, path: '/lsp' });
  wss.on('connection', (ws) => {
    const proc = spawn(lspBin, ['--stdio'], { env: lspEnv, stdio: ['pipe', 'pipe', 'pipe'] });
    const s = { proc, toServer: [], fromServer: [], trace: [], stderr: '' };
    s.exit = new Promise((resolve) => proc.on('exit', (code, sig) => resolve(sig ? sig : code)));
    proc.stderr.on('data', (d) => { s.stderr += d; });
    sessions.push(s);
    const socket = {
      send: (text) => ws.send(text),
      onMessage: (cb) => ws.on('message', (data) => cb(data.toString())),
      onError: (cb) => ws.on('error', cb),
      onClose: (cb) => ws.on('close', cb),
      dispose: () => ws.close(),
    };
    const client = createWebSocketConnection(socket);
    const server = createProcessStreamConnection(proc);
    // forward() of vscode-ws-jsonrpc, with each direction recorded for the test.
    client.forward(server, (m) => { s.toServer.push(m); s.trace.push({ to: 'hud-lsp', m }); return m; });
    server.forward(client, (m) => { s.fromServer.push(m); s.trace.push({ to: 'editor', m }); return m; });
    // The page going away closes hud-lsp's stdin: it exits by itself (0 after shutdown and exit, 1 without),
    // and is killed only if it does not within 5 s.
    client.onClose(() => {
      proc.stdin.end();
      const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
      proc.once('exit', () => clearTimeout(t));
    });
    proc.once('exit', () => client.dispose());
  });
  return new Promise((resolve) => {
    http.listen(0, '127.0.0.1', () => {
      const { port } = http.address();
      config.ws = `ws://127.0.0.1:${port}/lsp`;
      resolve({
        url: `http://127.0.0.1:${port}/`,
        sessions,
        close: () => new Promise((r) => { wss.close(); http.close(() => r()); http.closeAllConnections(); }),
      });
    });
  });
}
