# A client that answers workspace/configuration with null for the "hud" section (eglot without
# eglot-workspace-configuration does): the settings stay as initializationOptions gave them.
> {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"processId": null, "workspaceFolders": [{"uri": "file://${ROOT}", "name": "ws"}], "capabilities": {"workspace": {"configuration": true}}, "initializationOptions": {"url": "${URL}", "key": "${KEY}", "service": "shop", "window": "1h"}}}
< {"id":1,"result":{}}
> {"jsonrpc":"2.0","method":"initialized","params":{}}
> {"jsonrpc": "2.0", "method": "workspace/didChangeConfiguration", "params": {"settings": null}}
< {"id":"hud-1","method":"workspace/configuration","params":{"items":[{"section":"hud"}]}}
> {"jsonrpc": "2.0", "id": "hud-1", "result": [null]}
> {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {"uri": "file://${ROOT}/nullcfg/shop/db.py", "languageId": "python", "version": 1, "text": "def fetch_items(order_id):\n    return []\n"}}}
< {"method":"hud/status","params":{"state":"ok","service":"shop","modules":1}}
> {"jsonrpc": "2.0", "id": 2, "method": "textDocument/codeLens", "params": {"textDocument": {"uri": "file://${ROOT}/nullcfg/shop/db.py"}}}
< {"id":2,"result":[{"command":{"title":"⚡ 10/min · p95 2.5 ms · 0% err · ≠ prod (1.0.0)"}}]}
> {"jsonrpc":"2.0","id":99,"method":"shutdown"}
< {"id":99,"result":null}
> {"jsonrpc":"2.0","method":"exit"}
exit 0
