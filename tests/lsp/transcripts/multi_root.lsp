# Two workspace folders and a file outside both: one by-module request each, every file mapped by
# its own path below its folder (or its absolute path). didSave changes nothing.
> {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"processId": null, "capabilities": {}, "workspaceFolders": [{"uri": "file://${ROOT}/svc-a", "name": "a"}, {"uri": "file://${ROOT}/svc-b/", "name": "b"}], "initializationOptions": {"url": "${URL}", "key": "${KEY}", "service": "shop", "window": 3600}}}
< {"id":1,"result":{}}
> {"jsonrpc":"2.0","method":"initialized","params":{}}
> {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {"uri": "file://${ROOT}/svc-a/shop/db.py", "languageId": "python", "version": 1, "text": "def fetch_items(order_id):\n    return []\n"}}}
> {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {"uri": "file://${ROOT}/svc-b/src/shop/ui.js", "languageId": "javascript", "version": 1, "text": "function render() {}\n"}}}
> {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {"uri": "file:///elsewhere/app/shop/db.py", "languageId": "python", "version": 1, "text": "\n\ndef fetch_order(order_id):\n    return order_id\n"}}}
< {"method":"hud/status","params":{"state":"ok","modules":3}}
> {"jsonrpc": "2.0", "id": 2, "method": "textDocument/codeLens", "params": {"textDocument": {"uri": "file://${ROOT}/svc-a/shop/db.py"}}}
< {"id": 2, "result": [{"range": {"start": {"line": 0, "character": 4}, "end": {"line": 0, "character": 15}}, "command": {"title": "⚡ 10/min · p95 2.5 ms · 0% err · ≠ prod (1.0.0)"}}]}
> {"jsonrpc": "2.0", "id": 3, "method": "textDocument/codeLens", "params": {"textDocument": {"uri": "file://${ROOT}/svc-b/src/shop/ui.js"}}}
< {"id": 3, "result": [{"range": {"start": {"line": 0, "character": 9}, "end": {"line": 0, "character": 15}}, "command": {"title": "⚡ 2/min · p95 4 ms · 0% err · ≠ prod (1.0.0)"}}]}
> {"jsonrpc": "2.0", "method": "textDocument/didSave", "params": {"textDocument": {"uri": "file:///elsewhere/app/shop/db.py"}}}
> {"jsonrpc": "2.0", "id": 4, "method": "textDocument/codeLens", "params": {"textDocument": {"uri": "file:///elsewhere/app/shop/db.py"}}}
< {"id": 4, "result": [{"range": {"start": {"line": 2, "character": 4}, "end": {"line": 2, "character": 15}}, "command": {"title": "⚡ 1.2k/min · p95 38 ms · 0.4% err · ≠ prod (1.0.0)"}}]}
> {"jsonrpc":"2.0","id":99,"method":"shutdown"}
< {"id":99,"result":null}
> {"jsonrpc":"2.0","method":"exit"}
exit 0
