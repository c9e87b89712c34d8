# hud/callGraph (docs/lsp.md "Requests for editor panels") on service "panels" of test_lsp.c: below
# checkout its callees (/v1/callgraph, with apply_discounts' recursion and compute_tax's ValueError
# caught in checkout as an exception edge), above it its caller view_cart (the figures of its calls).
> {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"processId": null, "workspaceFolders": [{"uri": "file://${MARKET}", "name": "market"}], "capabilities": {}, "initializationOptions": {"url": "${URL}", "key": "${KEY}", "service": "panels"}}}
< {"id":1,"result":{}}
> {"jsonrpc":"2.0","method":"initialized","params":{}}
> {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {"uri": "file://${MARKET}/app/shop/cart.py", "languageId": "python", "version": 1, "text": "import billing.tax\nfrom shop.pricing import apply_discounts\n\n\ndef checkout(cart):\n    total = apply_discounts(cart)\n    return total + billing.tax.compute_tax(total)\n"}}}
< {"method":"hud/status","params":{"state":"ok","modules":1}}
> {"jsonrpc": "2.0", "id": 2, "method": "hud/callGraph", "params": {"functionId": "${ID_CHECKOUT}"}}
< {"id":2,"result":{"window":{},"root":"${ID_CHECKOUT}","truncated":false,"nodes":[{"functionId":"${ID_CHECKOUT}","name":"checkout","modulePath":"shop/cart.py","location":{"uri":"file://${MARKET}/app/shop/cart.py","range":{"start":{"line":4,"character":4},"end":{"line":4,"character":12}}},"calls":600,"errors":0,"totalMs":9000,"selfMs":4500},{"functionId":"${ID_COMPUTE_TAX}","name":"compute_tax","modulePath":"billing/tax.py","calls":600,"errors":30,"totalMs":4800,"selfMs":2400},{"functionId":"${ID_APPLY_DISCOUNTS}","name":"apply_discounts","modulePath":"shop/pricing.py","location":{"uri":"file://${MARKET}/app/shop/pricing.py","range":{"start":{"line":0,"character":4},"end":{"line":0,"character":19}}},"calls":1500,"errors":0,"totalMs":3300,"selfMs":1650},{"functionId":"${ID_VIEW_CART}","name":"view_cart","modulePath":"shop/views.py","location":{"uri":"file://${MARKET}/app/shop/views.py","range":{"start":{"line":3,"character":4},"end":{"line":3,"character":13}}},"calls":600,"errors":0,"totalMs":9000,"selfMs":0}],"edges":[{"from":"${ID_CHECKOUT}","to":"${ID_COMPUTE_TAX}","kind":"call","calls":600,"totalMs":4800},{"from":"${ID_CHECKOUT}","to":"${ID_APPLY_DISCOUNTS}","kind":"call","calls":1200,"totalMs":3000},{"from":"${ID_APPLY_DISCOUNTS}","to":"${ID_APPLY_DISCOUNTS}","kind":"call","calls":300,"totalMs":300},{"from":"${ID_COMPUTE_TAX}","to":"${ID_CHECKOUT}","kind":"exception","calls":30,"exceptionType":"ValueError"},{"from":"${ID_VIEW_CART}","to":"${ID_CHECKOUT}","kind":"call","calls":600,"totalMs":9000}]}}
# depth 1 and 2 nodes: cut (truncated); by position; no function; out of range
> {"jsonrpc": "2.0", "id": 3, "method": "hud/callGraph", "params": {"textDocument": {"uri": "file://${MARKET}/app/shop/cart.py"}, "position": {"line": 4, "character": 6}, "depth": 1, "maxNodes": 2}}
< {"id":3,"result":{"window":{},"root":"${ID_CHECKOUT}","truncated":true}}
> {"jsonrpc": "2.0", "id": 4, "method": "hud/callGraph", "params": {"textDocument": {"uri": "file://${MARKET}/app/shop/cart.py"}, "position": {"line": 1, "character": 0}}}
< {"id":4,"result":{"error":{"reason":"no_function"}}}
> {"jsonrpc": "2.0", "id": 5, "method": "hud/callGraph", "params": {"functionId": "${ID_CHECKOUT}", "depth": 17}}
< {"id":5,"error":{"code":-32602,"message":"invalid params: 'depth' must be an integer from 1 to 16"}}
> {"jsonrpc": "2.0", "id": 6, "method": "hud/callGraph", "params": {"functionId": "${ID_CHECKOUT}", "maxNodes": 0}}
< {"id":6,"error":{"code":-32602,"message":"invalid params: 'maxNodes' must be an integer from 1 to 500"}}
> {"jsonrpc":"2.0","id":99,"method":"shutdown"}
< {"id":99,"result":null}
> {"jsonrpc":"2.0","method":"exit"}
exit 0
