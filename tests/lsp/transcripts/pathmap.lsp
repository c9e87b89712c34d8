# pathMaps (docs/lsp.md "Settings"): the service "mapped" reports module paths app/orders/*.py (files
# /app/orders/*.py); the
# workspace holds them under src/ of the folder. The open file asks for /app/orders/api.py too and is
# mapped to it; workspace/symbol finds add_tax in src/orders/tax.py (on disk, not open).
> {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"processId": null, "workspaceFolders": [{"uri": "file://${ROOT}/pm", "name": "pm"}], "capabilities": {}, "initializationOptions": {"url": "${URL}", "key": "${KEY}", "service": "mapped", "pathMaps": [{"from": "/app", "to": "src"}]}}}
< {"id":1,"result":{}}
> {"jsonrpc":"2.0","method":"initialized","params":{}}
> {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {"uri": "file://${ROOT}/pm/src/orders/api.py", "languageId": "python", "version": 1, "text": "def place_order(o):\n    return o\n"}}}
< {"method":"hud/status","params":{"state":"ok","service":"mapped","modules":1}}
> {"jsonrpc": "2.0", "id": 2, "method": "textDocument/codeLens", "params": {"textDocument": {"uri": "file://${ROOT}/pm/src/orders/api.py"}}}
< {"id":2,"result":[{"range":{"start":{"line":0,"character":4},"end":{"line":0,"character":15}},"command":{"title":"⚡ 100/min · p95 4 ms · 1% err · ≠ prod (3.0.0)"}}]}
> {"jsonrpc": "2.0", "id": 3, "method": "workspace/symbol", "params": {"query": "add_tax"}}
< {"id":3,"result":[{"name":"add_tax","containerName":"app/orders/tax.py · 10 calls/min · p95 1 ms","location":{"uri":"file://${ROOT}/pm/src/orders/tax.py","range":{"start":{"line":3,"character":4},"end":{"line":3,"character":11}}}}]}
# the object form, with an absolute directory: the same mapping
> {"jsonrpc": "2.0", "method": "workspace/didChangeConfiguration", "params": {"settings": {"hud": {"pathMaps": {"/app/orders": "${ROOT}/pm/src/orders/"}}}}}
< {"method":"hud/status","params":{"state":"ok","service":"mapped","modules":1}}
> {"jsonrpc": "2.0", "id": 4, "method": "textDocument/codeLens", "params": {"textDocument": {"uri": "file://${ROOT}/pm/src/orders/api.py"}}}
< {"id":4,"result":[{"command":{"title":"⚡ 100/min · p95 4 ms · 1% err · ≠ prod (3.0.0)"}}]}
# without a map: no suffix of src/orders/api.py is a module of the service
> {"jsonrpc": "2.0", "method": "workspace/didChangeConfiguration", "params": {"settings": {"hud": {}}}}
< {"method":"hud/status","params":{"state":"ok","service":"mapped","modules":0}}
> {"jsonrpc": "2.0", "id": 5, "method": "textDocument/codeLens", "params": {"textDocument": {"uri": "file://${ROOT}/pm/src/orders/api.py"}}}
< {"id":5,"result":[]}
> {"jsonrpc":"2.0","id":7,"method":"shutdown"}
< {"id":7,"result":null}
> {"jsonrpc":"2.0","method":"exit"}
exit 0
