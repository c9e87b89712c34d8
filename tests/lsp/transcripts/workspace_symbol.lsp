# workspace/symbol: production's functions with calls in the window (GET /v1/functions/top, busiest
# first) whose name holds the query, case-insensitive; located in the workspace when found there
# (apply_discounts in market/app/shop/pricing.py, which is not open), else a hud: URI naming the module.
> {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"processId": null, "workspaceFolders": [{"uri": "file://${MARKET}", "name": "market"}], "capabilities": {}, "initializationOptions": {"url": "${URL}", "key": "${KEY}", "service": "market"}}}
< {"id":1,"result":{"capabilities":{"workspaceSymbolProvider":true}}}
> {"jsonrpc":"2.0","method":"initialized","params":{}}
> {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {"uri": "file://${MARKET}/app/shop/cart.py", "languageId": "python", "version": 1, "text": "import billing.tax\nfrom shop.pricing import apply_discounts\n\n\ndef checkout(cart):\n    total = apply_discounts(cart)\n    return total + billing.tax.compute_tax(total)\n"}}}
< {"method":"hud/status","params":{"state":"ok","modules":1}}
> {"jsonrpc": "2.0", "id": 2, "method": "workspace/symbol", "params": {"query": "DISCOUNT"}}
< {"id":2,"result":[{"name":"apply_discounts","kind":12,"containerName":"shop/pricing.py · 200 calls/min · p95 12 ms","location":{"uri":"file://${MARKET}/app/shop/pricing.py","range":{"start":{"line":0,"character":4},"end":{"line":0,"character":19}}}}]}
> {"jsonrpc": "2.0", "id": 3, "method": "workspace/symbol", "params": {"query": "tax"}}
< {"id":3,"result":[{"name":"compute_tax","location":{"uri":"hud:///billing/tax.py"}}]}
> {"jsonrpc": "2.0", "id": 4, "method": "workspace/symbol", "params": {"query": "no such function"}}
< {"id":4,"result":[]}
> {"jsonrpc": "2.0", "id": 5, "method": "workspace/symbol", "params": {}}
< {"id":5,"error":{"code":-32602}}
> {"jsonrpc":"2.0","id":99,"method":"shutdown"}
< {"id":99,"result":null}
> {"jsonrpc":"2.0","method":"exit"}
exit 0
