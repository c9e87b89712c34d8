# workspace/didChangeConfiguration: settings pushed by the client ({"hud": {...}}) are applied at once:
# the backend starts again with them and the open files get their figures. An option that cannot
# work is named, as at initialize.
> {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"processId": null, "workspaceFolders": [{"uri": "file://${ROOT}", "name": "ws"}], "capabilities": {}, "initializationOptions": {"url": "${URL}", "key": "${KEY}"}}}
< {"id":1,"result":{"capabilities":{"workspace":{"workspaceFolders":{"supported":true,"changeNotifications":true}}}}}
> {"jsonrpc":"2.0","method":"initialized","params":{}}
< {"method":"hud/status","params":{"state":"unconfigured"}}
> {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {"uri": "file://${ROOT}/cfg/shop/db.py", "languageId": "python", "version": 1, "text": "def fetch_items(order_id):\n    return []\n"}}}
# no service configured: the key's services are asked for the file, and shop has it (docs/lsp.md "Settings")
< {"method":"hud/status","params":{"state":"ok","service":"shop","message":"service shop (discovered from 2 matching modules)","modules":1}}
> {"jsonrpc": "2.0", "id": 2, "method": "textDocument/codeLens", "params": {"textDocument": {"uri": "file://${ROOT}/cfg/shop/db.py"}}}
< {"id":2,"result":[{"command":{"title":"⚡ 10/min · p95 2.5 ms · 0% err · ≠ prod (1.0.0)"}}]}
> {"jsonrpc": "2.0", "method": "workspace/didChangeConfiguration", "params": {"settings": {"hud": {"service": "shop", "window": "2h"}}}}
< {"method":"hud/status","params":{"state":"ok","service":"shop","message":"","modules":1}}
> {"jsonrpc": "2.0", "id": 3, "method": "textDocument/codeLens", "params": {"textDocument": {"uri": "file://${ROOT}/cfg/shop/db.py"}}}
< {"id":3,"result":[{"command":{"title":"⚡ 5/min · p95 2.5 ms · 0% err · ≠ prod (1.0.0)"}}]}
# settings without the hud section are read as the options themselves; a bad one is named
> {"jsonrpc": "2.0", "method": "workspace/didChangeConfiguration", "params": {"settings": {"service": "shop", "window": "soon"}}}
< {"method":"window/showMessage","params":{"type":1,"message":"hud: initializationOptions.window: expected 60s..90d (e.g. \"1h\", \"15m\", 3600)"}}
# a service the server does not know: hud.explain (asked while the backend starts again) says so
> {"jsonrpc": "2.0", "method": "workspace/didChangeConfiguration", "params": {"settings": {"hud": {"service": "nosuch"}}}}
> {"jsonrpc": "2.0", "id": 4, "method": "workspace/executeCommand", "params": {"command": "hud.explain", "arguments": ["file://${ROOT}/cfg/shop/db.py"]}}
< {"id":4,"result":{}}
wait 500
> {"jsonrpc": "2.0", "id": 5, "method": "textDocument/codeLens", "params": {"textDocument": {"uri": "file://${ROOT}/cfg/shop/db.py"}}}
< {"id":5,"result":[]}
> {"jsonrpc": "2.0", "id": 6, "method": "workspace/executeCommand", "params": {"command": "hud.explain", "arguments": ["file://${ROOT}/cfg/shop/db.py"]}}
< {"id":6,"result":{"reason":"service_not_found"}}
> {"jsonrpc":"2.0","id":99,"method":"shutdown"}
< {"id":99,"result":null}
> {"jsonrpc":"2.0","method":"exit"}
exit 0
