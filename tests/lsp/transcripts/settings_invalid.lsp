# Options that cannot work: the bad one is named once, the server runs without a service; without a key
# the discovery of one is refused (unauthorized).
> {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"processId": null, "capabilities": {}, "initializationOptions": {"url": "${URL}", "window": "soon"}, "workspaceFolders": [{"uri": "file://${ROOT}", "name": "ws"}]}}
< {"id":1,"result":{}}
> {"jsonrpc":"2.0","method":"initialized","params":{}}
< {"method":"window/showMessage","params":{"type":1,"message":"hud: initializationOptions.window: expected 60s..90d (e.g. \"1h\", \"15m\", 3600)"}}
< {"method":"hud/status","params":{"state":"unconfigured"}}
< {"method":"window/showMessage","params":{"type":2,"message":"hud: no service configured: set `service` in initializationOptions or the hud config (section [lsp])"}}
> {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {"uri": "file://${ROOT}/services/backend/shop/db.py", "languageId": "python", "version": 1, "text": "def fetch_order(order_id):\n    return order_id\n"}}}
# no key: the key's services (asked to discover the service) are refused, and that is what is said
< {"method":"hud/status","params":{"state":"unauthorized"}}
< {"method":"window/showMessage","params":{"type":2}}
> {"jsonrpc": "2.0", "id": 2, "method": "textDocument/codeLens", "params": {"textDocument": {"uri": "file://${ROOT}/services/backend/shop/db.py"}}}
< {"id":2,"result":[]}
> {"jsonrpc": "2.0", "id": 21, "method": "workspace/executeCommand", "params": {"command": "hud.explain", "arguments": ["file://${ROOT}/services/backend/shop/db.py"]}}
< {"id":21,"result":{"reason":"unauthorized"}}
> {"jsonrpc": "2.0", "id": 3, "method": "initialize", "params": {"initializationOptions": {"url": "ftp://x"}, "capabilities": {}}}
< {"id":3,"error":{"code":-32600}}
> {"jsonrpc":"2.0","id":99,"method":"shutdown"}
< {"id":99,"result":null}
> {"jsonrpc":"2.0","method":"exit"}
exit 0
