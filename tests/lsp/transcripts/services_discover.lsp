# No service configured: when files open, hud-lsp asks each service of the key (test_lsp.c's fixture:
# shop, market, fade, panels, mapped, stock) for the folder's files and takes the one with the most
# matched functions with calls: only stock has inv/stock.py. hud/status and hud.explain say so.
> {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"processId": null, "workspaceFolders": [{"uri": "file://${ROOT}/disc", "name": "disc"}], "capabilities": {}, "initializationOptions": {"url": "${URL}", "key": "${KEY}"}}}
< {"id":1,"result":{}}
> {"jsonrpc":"2.0","method":"initialized","params":{}}
< {"method":"hud/status","params":{"state":"unconfigured"}}
> {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {"uri": "file://${ROOT}/disc/inv/stock.py", "languageId": "python", "version": 1, "text": "def reserve(item):\n    return item\n"}}}
< {"method":"hud/status","params":{"state":"ok","service":"stock","message":"service stock (discovered from 1 matching module)","modules":1}}
> {"jsonrpc": "2.0", "id": 2, "method": "textDocument/codeLens", "params": {"textDocument": {"uri": "file://${ROOT}/disc/inv/stock.py"}}}
< {"id":2,"result":[{"command":{"title":"⚡ 20/min · p95 3 ms · 0% err · ≠ prod (3.0.0)"}}]}
> {"jsonrpc": "2.0", "id": 3, "method": "workspace/executeCommand", "params": {"command": "hud.explain", "arguments": ["file://${ROOT}/disc/inv/stock.py"]}}
< {"id":3,"result":{"reason":"ok","message":"1 of 1 functions have figures (module inv/stock.py, last 1h; service stock (discovered from 1 matching module))"}}
> {"jsonrpc":"2.0","id":7,"method":"shutdown"}
< {"id":7,"result":null}
> {"jsonrpc":"2.0","method":"exit"}
exit 0
