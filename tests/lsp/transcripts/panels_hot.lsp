# hud/hotPaths (docs/lsp.md "Requests for editor panels") on service "panels" of test_lsp.c: the tree below
# view_cart, heaviest first; apply_discounts' call to itself is listed, not expanded again; compute_tax
# raised ValueError into checkout (exception, errors). Shares are of view_cart's 12 s.
> {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"processId": null, "workspaceFolders": [{"uri": "file://${MARKET}", "name": "market"}], "capabilities": {}, "initializationOptions": {"url": "${URL}", "key": "${KEY}", "service": "panels"}}}
< {"id":1,"result":{}}
> {"jsonrpc":"2.0","method":"initialized","params":{}}
> {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {"uri": "file://${MARKET}/app/shop/cart.py", "languageId": "python", "version": 1, "text": "import billing.tax\nfrom shop.pricing import apply_discounts\n\n\ndef checkout(cart):\n    total = apply_discounts(cart)\n    return total + billing.tax.compute_tax(total)\n"}}}
< {"method":"hud/status","params":{"state":"ok","modules":1}}
> {"jsonrpc": "2.0", "id": 2, "method": "hud/hotPaths", "params": {"functionId": "${ID_VIEW_CART}"}}
< {"id":2,"result":{"window":{},"by":"time","root":{"functionId":"${ID_VIEW_CART}","name":"view_cart","modulePath":"shop/views.py","location":{"uri":"file://${MARKET}/app/shop/views.py","range":{"start":{"line":3,"character":4},"end":{"line":3,"character":13}}},"calls":600,"totalMs":12000,"share":1,"errors":0,"exception":false,"children":[{"functionId":"${ID_CHECKOUT}","calls":600,"totalMs":9000,"share":0.75,"errors":0,"exception":false,"children":[{"functionId":"${ID_COMPUTE_TAX}","name":"compute_tax","modulePath":"billing/tax.py","calls":600,"totalMs":4800,"share":0.4,"errors":30,"exception":true,"children":[]},{"functionId":"${ID_APPLY_DISCOUNTS}","location":{"uri":"file://${MARKET}/app/shop/pricing.py","range":{"start":{"line":0,"character":4},"end":{"line":0,"character":19}}},"calls":1200,"totalMs":3000,"share":0.25,"exception":false,"children":[{"functionId":"${ID_APPLY_DISCOUNTS}","calls":300,"totalMs":300,"share":0.025,"children":[]}]}]}]}}}
# the flow GET /cart: its top function (view_cart) is the root; by calls apply_discounts comes first
> {"jsonrpc": "2.0", "id": 3, "method": "hud/hotPaths", "params": {"flowId": "${FLOW_CART}", "by": "calls"}}
< {"id":3,"result":{"window":{},"by":"calls","root":{"functionId":"${ID_VIEW_CART}","children":[{"functionId":"${ID_CHECKOUT}","children":[{"functionId":"${ID_APPLY_DISCOUNTS}","calls":1200,"share":0.25},{"functionId":"${ID_COMPUTE_TAX}","calls":600,"share":0.4}]}]}}}
# by position (apply_discounts' file is not open: checkout's), a flow without functions, no function
> {"jsonrpc": "2.0", "id": 4, "method": "hud/hotPaths", "params": {"textDocument": {"uri": "file://${MARKET}/app/shop/cart.py"}, "position": {"line": 6, "character": 10}}}
< {"id":4,"result":{"window":{},"by":"time","root":{"functionId":"${ID_CHECKOUT}","share":1,"children":[{"functionId":"${ID_COMPUTE_TAX}"},{"functionId":"${ID_APPLY_DISCOUNTS}"}]}}}
> {"jsonrpc": "2.0", "id": 5, "method": "hud/hotPaths", "params": {"flowId": "00000000-0000-5000-8000-000000000000"}}
< {"id":5,"result":{"error":{"reason":"no_function","message":"no function of flow 00000000-0000-5000-8000-000000000000 ran in the window"}}}
> {"jsonrpc": "2.0", "id": 6, "method": "hud/hotPaths", "params": {"textDocument": {"uri": "file://${MARKET}/app/shop/cart.py"}, "position": {"line": 2, "character": 0}}}
< {"id":6,"result":{"error":{"reason":"no_function"}}}
> {"jsonrpc": "2.0", "id": 7, "method": "hud/hotPaths", "params": {"functionId": "${ID_VIEW_CART}", "by": "heat"}}
< {"id":7,"error":{"code":-32602,"message":"invalid params: 'by' must be \"time\" or \"calls\""}}
> {"jsonrpc":"2.0","id":99,"method":"shutdown"}
< {"id":99,"result":null}
> {"jsonrpc":"2.0","method":"exit"}
exit 0
