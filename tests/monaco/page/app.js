// The page: Monaco with monaco-languageclient, talking to hud-lsp through the bridge's WebSocket.
// window.HUD (set by index.html): {ws, root, file, text, options}. The test reads window.hudEditor.
import 'monaco-editor/esm/vs/editor/editor.all.js';
import 'monaco-editor/esm/vs/basic-languages/python/python.contribution.js';
import * as monaco from 'monaco-editor/esm/vs/editor/editor.api.js';
import { MonacoLanguageClient, CloseAction, ErrorAction, MonacoServices } from 'monaco-languageclient';
import { toSocket, WebSocketMessageReader, WebSocketMessageWriter } from 'vscode-ws-jsonrpc';

const cfg = window.HUD;
self.MonacoEnvironment = { getWorkerUrl: () => './editor.worker.js' };

const rootUri = monaco.Uri.file(cfg.root);
MonacoServices.install({ workspaceFolders: [{ uri: rootUri, name: 'ws', index: 0 }], rootPath: cfg.root });

const model = monaco.editor.createModel(cfg.text, 'python', monaco.Uri.file(cfg.file));
const editor = monaco.editor.create(document.getElementById('editor'), {
  model,
  automaticLayout: true,
  codeLens: true,
  hover: { enabled: true, delay: 100 },
  minimap: { enabled: false },
});
window.hudEditor = editor;
window.hudMonaco = monaco;

const webSocket = new WebSocket(cfg.ws);
webSocket.onopen = () => {
  const socket = toSocket(webSocket);
  const reader = new WebSocketMessageReader(socket);
  const writer = new WebSocketMessageWriter(socket);
  const client = new MonacoLanguageClient({
    name: 'hud',
    clientOptions: {
      documentSelector: [{ language: 'python' }],
      initializationOptions: cfg.options,
      errorHandler: {
        error: () => ({ action: ErrorAction.Continue }),
        closed: () => ({ action: CloseAction.DoNotRestart }),
      },
    },
    connectionProvider: { get: () => Promise.resolve({ reader, writer }) },
  });
  window.hudClient = client;
  client.start().then(() => { window.hudStarted = true; }, (e) => { window.hudError = String(e); });
  reader.onClose(() => client.stop());
};
