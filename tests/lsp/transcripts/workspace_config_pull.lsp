# A client that answers workspace/configuration: didChangeConfiguration (its settings may be null)
# makes hud-lsp ask for the "hud" section and apply the answer.
> {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"processId": null, "workspaceFolders": [{"uri": "file://${ROOT}", "name": "ws"}], "capabilities": {"workspace": {"configuration": true}}, "initializationOptions": {"url": "${URL}", "key": "${KEY}"}}}
< {"id":1,"result":{}}
> {"jsonrpc":"2.0","method":"initialized","params":{}}
< {"method":"hud/status","params":{"state":"unconfigured"}}
> {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {"uri": "file://${ROOT}/pull/shop/db.py", "languageId": "python", "version": 1, "text": "def fetch_items(order_id):\n    return []\n"}}}
> {"jsonrpc": "2.0", "method": "workspace/didChangeConfiguration", "params": {"settings": null}}
< {"id":"hud-1","method":"workspace/configuration","params":{"items":[{"section":"hud"}]}}
> {"jsonrpc": "2.0", "id": "hud-1", "result": [{"service": "shop"}]}
< {"method":"hud/status","params":{"state":"ok","service":"shop","message":"","modules":1}}
> {"jsonrpc": "2.0", "id": 2, "method": "textDocument/codeLens", "params": {"textDocument": {"uri": "file://${ROOT}/pull/shop/db.py"}}}
< {"id":2,"result":[{"command":{"title":"⚡ 10/min · p95 2.5 ms · 0% err · ≠ prod (1.0.0)"}}]}
# an answer to another id, or an error answer, changes nothing
> {"jsonrpc": "2.0", "id": "hud-7", "result": [{"service": "nosuch"}]}
> {"jsonrpc": "2.0", "id": 3, "method": "textDocument/codeLens", "params": {"textDocument": {"uri": "file://${ROOT}/pull/shop/db.py"}}}
< {"id":3,"result":[{"command":{"title":"⚡ 10/min · p95 2.5 ms · 0% err · ≠ prod (1.0.0)"}}]}
> {"jsonrpc":"2.0","id":99,"method":"shutdown"}
< {"id":99,"result":null}
> {"jsonrpc":"2.0","method":"exit"}
exit 0
