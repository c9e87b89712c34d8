# hud/functionDetail (docs/lsp.md "Requests for editor panels") on service "panels" of test_lsp.c:
# checkout (shop/cart.py) called by view_cart (views.py:5), calling apply_discounts (line 6) and
# compute_tax (line 7, billing/tax.py: not in the workspace, listed without a location). A 1 h window:
# 600 calls are 10 calls/min.
> {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"processId": null, "workspaceFolders": [{"uri": "file://${MARKET}", "name": "market"}], "capabilities": {}, "initializationOptions": {"url": "${URL}", "key": "${KEY}", "service": "panels"}}}
< {"id":1,"result":{}}
> {"jsonrpc":"2.0","method":"initialized","params":{}}
> {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {"uri": "file://${MARKET}/app/shop/cart.py", "languageId": "python", "version": 1, "text": "import billing.tax\nfrom shop.pricing import apply_discounts\n\n\ndef checkout(cart):\n    total = apply_discounts(cart)\n    return total + billing.tax.compute_tax(total)\n"}}}
< {"method":"hud/status","params":{"state":"ok","modules":1}}
# by id
> {"jsonrpc": "2.0", "id": 2, "method": "hud/functionDetail", "params": {"functionId": "${ID_CHECKOUT}"}}
< {"id":2,"result":{"window":{},"function":{"functionId":"${ID_CHECKOUT}","name":"checkout","modulePath":"shop/cart.py","location":{"uri":"file://${MARKET}/app/shop/cart.py","range":{"start":{"line":4,"character":4},"end":{"line":4,"character":12}}}},"figures":{"calls":600,"callsPerMinute":10,"errors":0,"errorRate":0,"meanMs":15},"errorsByType":[],"versions":[{"version":"2.0.0","calls":600,"errorRate":0,"meanMs":15}],"callers":[{"functionId":"${ID_VIEW_CART}","name":"view_cart","modulePath":"shop/views.py","location":{"uri":"file://${MARKET}/app/shop/views.py","range":{"start":{"line":3,"character":4},"end":{"line":3,"character":13}}},"calls":600,"callsPerMinute":10,"errors":0,"meanMs":15,"line":5}],"callees":[{"functionId":"${ID_APPLY_DISCOUNTS}","name":"apply_discounts","modulePath":"shop/pricing.py","location":{"uri":"file://${MARKET}/app/shop/pricing.py","range":{"start":{"line":0,"character":4},"end":{"line":0,"character":19}}},"calls":1200,"callsPerMinute":20,"meanMs":2.5,"line":6},{"functionId":"${ID_COMPUTE_TAX}","name":"compute_tax","modulePath":"billing/tax.py","calls":600,"callsPerMinute":10,"errors":30,"meanMs":8,"line":7}]}}
# by position: in checkout's body; compute_tax's errors by type
> {"jsonrpc": "2.0", "id": 3, "method": "hud/functionDetail", "params": {"textDocument": {"uri": "file://${MARKET}/app/shop/cart.py"}, "position": {"line": 5, "character": 3}}}
< {"id":3,"result":{"window":{},"function":{"functionId":"${ID_CHECKOUT}","name":"checkout","location":{"uri":"file://${MARKET}/app/shop/cart.py","range":{"start":{"line":4,"character":4},"end":{"line":4,"character":12}}}},"figures":{"calls":600}}}
> {"jsonrpc": "2.0", "id": 4, "method": "hud/functionDetail", "params": {"functionId": "${ID_COMPUTE_TAX}"}}
< {"id":4,"result":{"window":{},"function":{"functionId":"${ID_COMPUTE_TAX}","name":"compute_tax","modulePath":"billing/tax.py"},"figures":{"calls":600,"errors":30,"errorRate":0.05,"meanMs":8},"errorsByType":[{"type":"ValueError","count":30}],"callees":[]}}
# no function there (the imports); the reason says why
> {"jsonrpc": "2.0", "id": 5, "method": "hud/functionDetail", "params": {"textDocument": {"uri": "file://${MARKET}/app/shop/cart.py"}, "position": {"line": 0, "character": 3}}}
< {"id":5,"result":{"error":{"reason":"no_function","message":"no function with production figures encloses line 1 of app/shop/cart.py (1 of 1 functions have figures (module shop/cart.py, last 1h))"}}}
# a function production does not know; a file that is not open; no target at all
> {"jsonrpc": "2.0", "id": 6, "method": "hud/functionDetail", "params": {"functionId": "00000000-0000-5000-8000-000000000000"}}
< {"id":6,"result":{"error":{"reason":"function_not_found"}}}
> {"jsonrpc": "2.0", "id": 7, "method": "hud/functionDetail", "params": {"textDocument": {"uri": "file://${MARKET}/app/shop/views.py"}, "position": {"line": 3, "character": 3}}}
< {"id":7,"result":{"error":{"reason":"not_open"}}}
> {"jsonrpc": "2.0", "id": 8, "method": "hud/functionDetail", "params": {}}
< {"id":8,"error":{"code":-32602,"message":"invalid params: give functionId or textDocument and position"}}
> {"jsonrpc": "2.0", "id": 9, "method": "hud/functionDetail", "params": {"textDocument": {"uri": "file://${MARKET}/app/shop/cart.py"}}}
< {"id":9,"error":{"code":-32602,"message":"invalid params: missing or invalid 'position'"}}
> {"jsonrpc":"2.0","id":99,"method":"shutdown"}
< {"id":99,"result":null}
> {"jsonrpc":"2.0","method":"exit"}
exit 0
