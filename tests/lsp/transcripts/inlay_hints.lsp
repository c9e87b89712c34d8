# textDocument/inlayHint, only for clients that advertise it: at each call site of a function that ran
# in production, how often production made that call, after the callee's name (checkout calls
# apply_discounts on line 6 and compute_tax on line 7, 12k times each in the hour).
> {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"processId": null, "workspaceFolders": [{"uri": "file://${MARKET}", "name": "market"}], "capabilities": {"textDocument": {"inlayHint": {"dynamicRegistration": false}}}, "initializationOptions": {"url": "${URL}", "key": "${KEY}", "service": "market"}}}
< {"id":1,"result":{"capabilities":{"inlayHintProvider":true}}}
> {"jsonrpc":"2.0","method":"initialized","params":{}}
> {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {"uri": "file://${MARKET}/app/shop/cart.py", "languageId": "python", "version": 1, "text": "import billing.tax\nfrom shop.pricing import apply_discounts\n\n\ndef checkout(cart):\n    total = apply_discounts(cart)\n    return total + billing.tax.compute_tax(total)\n"}}}
< {"method":"hud/status","params":{"state":"ok","modules":1}}
> {"jsonrpc": "2.0", "id": 2, "method": "textDocument/inlayHint", "params": {"textDocument": {"uri": "file://${MARKET}/app/shop/cart.py"}, "range": {"start": {"line": 0, "character": 0}, "end": {"line": 7, "character": 0}}}}
< {"id":2,"result":[{"position":{"line":5,"character":27},"label":"×200/min","paddingLeft":true},{"position":{"line":6,"character":42},"label":"×200/min","paddingLeft":true}]}
# only the call sites inside the range
> {"jsonrpc": "2.0", "id": 3, "method": "textDocument/inlayHint", "params": {"textDocument": {"uri": "file://${MARKET}/app/shop/cart.py"}, "range": {"start": {"line": 6, "character": 0}, "end": {"line": 6, "character": 10}}}}
< {"id":3,"result":[{"position":{"line":6,"character":42},"label":"×200/min"}]}
> {"jsonrpc": "2.0", "id": 4, "method": "textDocument/inlayHint", "params": {"textDocument": {"uri": "file://${MARKET}/app/shop/cart.py"}}}
< {"id":4,"error":{"code":-32602}}
> {"jsonrpc":"2.0","id":99,"method":"shutdown"}
< {"id":99,"result":null}
> {"jsonrpc":"2.0","method":"exit"}
exit 0
