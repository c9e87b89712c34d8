# hud/errorFlows (docs/lsp.md) on the service "market" of test_lsp.c, whose batches carry two exception
# paths per version: compute_tax's TaxError through checkout, caught in view_cart (3 + 4), and
# apply_discounts' KeyError through checkout and view_cart, escaped (2 + 2). Functions found in the
# workspace get a location (views.py and pricing.py are read from disk); billing/tax.py is not in it.
> {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"processId": null, "workspaceFolders": [{"uri": "file://${MARKET}", "name": "market"}], "capabilities": {}, "initializationOptions": {"url": "${URL}", "key": "${KEY}", "service": "market"}}}
< {"id":1,"result":{"capabilities":{"callHierarchyProvider":true}}}
> {"jsonrpc":"2.0","method":"initialized","params":{}}
> {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {"uri": "file://${MARKET}/app/shop/cart.py", "languageId": "python", "version": 1, "text": "import billing.tax\nfrom shop.pricing import apply_discounts\n\n\ndef checkout(cart):\n    total = apply_discounts(cart)\n    return total + billing.tax.compute_tax(total)\n"}}}
< {"method":"hud/status","params":{"state":"ok","modules":1}}
# by position, in checkout's body: both paths pass it, the most frequent first
> {"jsonrpc": "2.0", "id": 2, "method": "hud/errorFlows", "params": {"textDocument": {"uri": "file://${MARKET}/app/shop/cart.py"}, "position": {"line": 5, "character": 10}}}
< {"id":2,"result":{"function":{"functionId":"${ID_CHECKOUT}","name":"checkout","modulePath":"shop/cart.py","location":{"uri":"file://${MARKET}/app/shop/cart.py","range":{"start":{"line":4,"character":0},"end":{"line":6,"character":49}}}},"flows":[{"exceptionType":"TaxError","count":7,"origin":{"functionId":"${ID_COMPUTE_TAX}","name":"compute_tax","modulePath":"billing/tax.py"},"through":[{"functionId":"${ID_CHECKOUT}","name":"checkout","location":{"uri":"file://${MARKET}/app/shop/cart.py"}}],"caughtIn":{"functionId":"${ID_VIEW_CART}","name":"view_cart","modulePath":"shop/views.py","location":{"uri":"file://${MARKET}/app/shop/views.py","range":{"start":{"line":3,"character":0},"end":{"line":4,"character":33}}}},"escaped":false},{"exceptionType":"KeyError","count":4,"origin":{"functionId":"${ID_APPLY_DISCOUNTS}","name":"apply_discounts","location":{"uri":"file://${MARKET}/app/shop/pricing.py","range":{"start":{"line":0,"character":0},"end":{"line":1,"character":20}}}},"through":[{"functionId":"${ID_CHECKOUT}"},{"functionId":"${ID_VIEW_CART}"}],"caughtIn":null,"escaped":true}]}}
# the window of the answer is there
<count 1 {"id":2,"result":{"window":{}}}
# by id: only the paths apply_discounts is on; the function's name comes from them
> {"jsonrpc": "2.0", "id": 3, "method": "hud/errorFlows", "params": {"functionId": "${ID_APPLY_DISCOUNTS}"}}
< {"id":3,"result":{"function":{"functionId":"${ID_APPLY_DISCOUNTS}","name":"apply_discounts","modulePath":"shop/pricing.py"},"flows":[{"exceptionType":"KeyError","count":4,"escaped":true}]}}
# outside every function: no_function; an id the backend does not know: function_not_found (both results, not errors)
> {"jsonrpc": "2.0", "id": 4, "method": "hud/errorFlows", "params": {"textDocument": {"uri": "file://${MARKET}/app/shop/cart.py"}, "position": {"line": 0, "character": 3}}}
< {"id":4,"result":{"error":{"reason":"no_function","message":"no function at line 1 of app/shop/cart.py"}}}
> {"jsonrpc": "2.0", "id": 5, "method": "hud/errorFlows", "params": {"functionId": "00000000-0000-5000-8000-000000000000"}}
< {"id":5,"result":{"error":{"reason":"function_not_found"}}}
# neither a function nor a document: InvalidParams
> {"jsonrpc": "2.0", "id": 6, "method": "hud/errorFlows", "params": {"position": {"line": 0, "character": 0}}}
< {"id":6,"error":{"code":-32602,"message":"invalid params: missing or invalid 'functionId or textDocument.uri'"}}
> {"jsonrpc":"2.0","id":99,"method":"shutdown"}
< {"id":99,"result":null}
> {"jsonrpc":"2.0","method":"exit"}
exit 0
