# A client that did not advertise workspace.codeLens.refreshSupport never gets the request, even
# when it asked for lenses before the figures came.
> {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"processId": null, "capabilities": {}, "initializationOptions": {"url": "${URL}", "key": "${KEY}", "service": "shop", "refreshSeconds": 1}, "workspaceFolders": [{"uri": "file://${ROOT}", "name": "ws"}]}}
< {"id":1,"result":{}}
> {"jsonrpc":"2.0","method":"initialized","params":{}}
> {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {"uri": "file://${ROOT}/services/backend/shop/db.py", "languageId": "python", "version": 1, "text": "def fetch_order(order_id):\n    return order_id\n"}}}
> {"jsonrpc": "2.0", "id": 2, "method": "textDocument/codeLens", "params": {"textDocument": {"uri": "file://${ROOT}/services/backend/shop/db.py"}}}
# the file is indexed on a worker: the answer may come before or after the figures
< {"id":2}
< {"method":"hud/status","params":{"state":"ok"}}
wait 1500
<count 0 {"method":"workspace/codeLens/refresh"}
> {"jsonrpc": "2.0", "id": 3, "method": "textDocument/codeLens", "params": {"textDocument": {"uri": "file://${ROOT}/services/backend/shop/db.py"}}}
< {"id": 3, "result": [{"range": {"start": {"line": 0, "character": 4}, "end": {"line": 0, "character": 15}}, "command": {"title": "⚡ 1.2k/min · p95 38 ms · 0.4% err · ≠ prod (1.0.0)"}}]}
> {"jsonrpc":"2.0","id":99,"method":"shutdown"}
< {"id":99,"result":null}
> {"jsonrpc":"2.0","method":"exit"}
exit 0
