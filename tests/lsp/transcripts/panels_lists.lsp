# hud/flows on service "panels" (the endpoint GET /cart: 600 calls, 6 errors, view_cart on top), then
# hud/issues on service "market" (the regression of 1.1.0: apply_discounts, and its callers through it).
> {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"processId": null, "workspaceFolders": [{"uri": "file://${MARKET}", "name": "market"}], "capabilities": {}, "initializationOptions": {"url": "${URL}", "key": "${KEY}", "service": "panels"}}}
< {"id":1,"result":{}}
> {"jsonrpc":"2.0","method":"initialized","params":{}}
> {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {"uri": "file://${MARKET}/app/shop/cart.py", "languageId": "python", "version": 1, "text": "import billing.tax\nfrom shop.pricing import apply_discounts\n\n\ndef checkout(cart):\n    total = apply_discounts(cart)\n    return total + billing.tax.compute_tax(total)\n"}}}
< {"method":"hud/status","params":{"state":"ok","modules":1}}
> {"jsonrpc": "2.0", "id": 2, "method": "hud/flows", "params": {}}
< {"id":2,"result":{"window":{},"flows":[{"flowId":"${FLOW_CART}","kind":"endpoint","name":"GET /cart","calls":600,"callsPerMinute":10,"errorRate":0.01,"topFunction":{"functionId":"${ID_VIEW_CART}","name":"view_cart","modulePath":"shop/views.py","location":{"uri":"file://${MARKET}/app/shop/views.py","range":{"start":{"line":3,"character":4},"end":{"line":3,"character":13}}}}}]}}
> {"jsonrpc": "2.0", "id": 3, "method": "hud/flows", "params": {"limit": 0}}
< {"id":3,"error":{"code":-32602,"message":"invalid params: 'limit' must be an integer from 1 to 1000"}}
> {"jsonrpc": "2.0", "id": 4, "method": "hud/issues"}
< {"id":4,"result":{"window":{},"issues":[]}}
> {"jsonrpc": "2.0", "method": "workspace/didChangeConfiguration", "params": {"settings": {"hud": {"url": "${URL}", "key": "${KEY}", "service": "market"}}}}
> {"jsonrpc": "2.0", "id": 5, "method": "hud/issues", "params": {}}
< {"id":5,"result":{"window":{},"issues":[{"kind":"regression","subject":{"name":"apply_discounts","functionId":"${ID_APPLY_DISCOUNTS}"},"message":"apply_discounts self time +7 ms per call (1.0.0 → 1.1.0)","effectPct":140,"baselineVersion":"1.0.0","currentVersion":"1.1.0","rootCauses":[{"functionId":"${ID_APPLY_DISCOUNTS}","name":"apply_discounts","modulePath":"shop/pricing.py","location":{"uri":"file://${MARKET}/app/shop/pricing.py","range":{"start":{"line":0,"character":4},"end":{"line":0,"character":19}}}}]}]}}
> {"jsonrpc":"2.0","id":99,"method":"shutdown"}
< {"id":99,"result":null}
> {"jsonrpc":"2.0","method":"exit"}
exit 0
