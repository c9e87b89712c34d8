# No initializationOptions: url, key and service come from the shared config file
# ($XDG_CONFIG_HOME/hud/config, section [lsp], written by test_lsp.c), the window from the 1h default.
# No workspace folder: the path without its leading '/' is the longest candidate.
> {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"processId": null, "capabilities": {}}}
< {"id":1,"result":{}}
> {"jsonrpc":"2.0","method":"initialized","params":{}}
> {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {"uri": "file:///srv/checkouts/app/shop/db.py", "languageId": "python", "version": 1, "text": "def fetch_order(order_id):\n    return order_id\n"}}}
< {"method":"hud/status","params":{"state":"ok","url":"${URL}","service":"shop","modules":1}}
> {"jsonrpc": "2.0", "id": 2, "method": "textDocument/codeLens", "params": {"textDocument": {"uri": "file:///srv/checkouts/app/shop/db.py"}}}
< {"id": 2, "result": [{"range": {"start": {"line": 0, "character": 4}, "end": {"line": 0, "character": 15}}, "command": {"title": "⚡ 1.2k/min · p95 38 ms · 0.4% err · ≠ prod (1.0.0)"}}]}
> {"jsonrpc":"2.0","id":99,"method":"shutdown"}
< {"id":99,"result":null}
> {"jsonrpc":"2.0","method":"exit"}
exit 0
