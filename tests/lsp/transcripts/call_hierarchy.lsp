# Call hierarchy from production data (service "market" of test_lsp.c: 6000 calls per function in each of
# 1.0.0 and 1.1.0, a window of 1 h: 200 calls/min; edge means over both versions). The workspace holds market/app/shop/*.py: production's shop/views.py is found
# as app/shop/views.py (the prefix app/ that maps the open cart.py) and read from disk, not opened;
# billing/tax.py is not in the workspace and is listed with its module path.
# Neovim 0.7.2 sends no textDocument.callHierarchy capability: it is served without one.
> {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"processId": null, "workspaceFolders": [{"uri": "file://${MARKET}", "name": "market"}], "capabilities": {}, "initializationOptions": {"url": "${URL}", "key": "${KEY}", "service": "market"}}}
< {"id":1,"result":{"capabilities":{"callHierarchyProvider":true}}}
> {"jsonrpc":"2.0","method":"initialized","params":{}}
> {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {"uri": "file://${MARKET}/app/shop/cart.py", "languageId": "python", "version": 1, "text": "import billing.tax\nfrom shop.pricing import apply_discounts\n\n\ndef checkout(cart):\n    total = apply_discounts(cart)\n    return total + billing.tax.compute_tax(total)\n"}}}
< {"method":"hud/status","params":{"state":"ok","modules":1}}
# on the name: the item, its figures in detail, its identity in data
> {"jsonrpc": "2.0", "id": 2, "method": "textDocument/prepareCallHierarchy", "params": {"textDocument": {"uri": "file://${MARKET}/app/shop/cart.py"}, "position": {"line": 4, "character": 6}}}
< {"id":2,"result":[{"name":"checkout","kind":12,"detail":"200 calls/min · p95 15 ms","uri":"file://${MARKET}/app/shop/cart.py","range":{"start":{"line":4,"character":0},"end":{"line":6,"character":49}},"selectionRange":{"start":{"line":4,"character":4},"end":{"line":4,"character":12}},"data":{"function_id":"${ID_CHECKOUT}","module":"shop/cart.py"}}]}
# in the body: the enclosing function; outside every function: null
> {"jsonrpc": "2.0", "id": 21, "method": "textDocument/prepareCallHierarchy", "params": {"textDocument": {"uri": "file://${MARKET}/app/shop/cart.py"}, "position": {"line": 6, "character": 10}}}
< {"id":21,"result":[{"name":"checkout","data":{"function_id":"${ID_CHECKOUT}"}}]}
> {"jsonrpc": "2.0", "id": 22, "method": "textDocument/prepareCallHierarchy", "params": {"textDocument": {"uri": "file://${MARKET}/app/shop/cart.py"}, "position": {"line": 0, "character": 3}}}
< {"id":22,"result":null}
# callers: view_cart, in a workspace file that is not open; fromRanges = its call site (views.py:5)
> {"jsonrpc": "2.0", "id": 3, "method": "callHierarchy/incomingCalls", "params": {"item": {"name":"checkout","kind":12,"uri":"file://${MARKET}/app/shop/cart.py","range":{"start":{"line":4,"character":0},"end":{"line":6,"character":49}},"selectionRange":{"start":{"line":4,"character":4},"end":{"line":4,"character":12}},"data":{"function_id":"${ID_CHECKOUT}","module":"shop/cart.py"}}}}
< {"id":3,"result":[{"from":{"name":"view_cart","kind":12,"detail":"200 calls/min · mean 12 ms","uri":"file://${MARKET}/app/shop/views.py","range":{"start":{"line":3,"character":0},"end":{"line":4,"character":33}},"selectionRange":{"start":{"line":3,"character":4},"end":{"line":3,"character":13}},"data":{"function_id":"${ID_VIEW_CART}","module":"shop/views.py"}},"fromRanges":[{"start":{"line":4,"character":4},"end":{"line":4,"character":33}}]}]}
# callees: apply_discounts located in app/shop/pricing.py, compute_tax outside the workspace (a hud:
# URI, its module path in detail); fromRanges = the call sites in cart.py (lines 6 and 7)
> {"jsonrpc": "2.0", "id": 4, "method": "callHierarchy/outgoingCalls", "params": {"item": {"name":"checkout","kind":12,"uri":"file://${MARKET}/app/shop/cart.py","range":{"start":{"line":4,"character":0},"end":{"line":6,"character":49}},"selectionRange":{"start":{"line":4,"character":4},"end":{"line":4,"character":12}},"data":{"function_id":"${ID_CHECKOUT}","module":"shop/cart.py"}}}}
< {"id":4,"result":[{"to":{"name":"apply_discounts","kind":12,"detail":"200 calls/min · mean 8.5 ms","uri":"file://${MARKET}/app/shop/pricing.py","range":{"start":{"line":0,"character":0},"end":{"line":1,"character":20}},"selectionRange":{"start":{"line":0,"character":4},"end":{"line":0,"character":19}},"data":{"function_id":"${ID_APPLY_DISCOUNTS}","module":"shop/pricing.py"}},"fromRanges":[{"start":{"line":5,"character":4},"end":{"line":5,"character":33}}]},{"to":{"name":"compute_tax","kind":12,"detail":"billing/tax.py · 200 calls/min · mean 1 ms","uri":"hud:///billing/tax.py","data":{"function_id":"${ID_COMPUTE_TAX}","module":"billing/tax.py"}},"fromRanges":[{"start":{"line":6,"character":4},"end":{"line":6,"character":49}}]}]}
# the root of the tree is called from code that is not instrumented (the framework); a function the
# backend does not know has no calls
> {"jsonrpc": "2.0", "id": 5, "method": "callHierarchy/incomingCalls", "params": {"item": {"name":"view_cart","kind":12,"uri":"file://${MARKET}/app/shop/views.py","range":{"start":{"line":3,"character":0},"end":{"line":4,"character":33}},"selectionRange":{"start":{"line":3,"character":4},"end":{"line":3,"character":13}},"data":{"function_id":"${ID_VIEW_CART}"}}}}
< {"id":5,"result":[{"from":{"name":"<uninstrumented caller>","kind":12,"detail":"not instrumented · 200 calls/min · mean 12 ms","uri":"hud:///uninstrumented","data":{"function_id":""}},"fromRanges":[]}]}
> {"jsonrpc": "2.0", "id": 6, "method": "callHierarchy/outgoingCalls", "params": {"item": {"name":"nope","kind":12,"uri":"file://${MARKET}/app/shop/views.py","range":{"start":{"line":0,"character":0},"end":{"line":0,"character":0}},"selectionRange":{"start":{"line":0,"character":0},"end":{"line":0,"character":0}},"data":{"function_id":"00000000-0000-5000-8000-000000000000"}}}}
< {"id":6,"result":[]}
# an item without data.function_id is not ours
> {"jsonrpc": "2.0", "id": 7, "method": "callHierarchy/incomingCalls", "params": {"item": {"name":"x","kind":12,"uri":"file:///x.py","range":{"start":{"line":0,"character":0},"end":{"line":0,"character":0}},"selectionRange":{"start":{"line":0,"character":0},"end":{"line":0,"character":0}}}}}
< {"id":7,"error":{"code":-32602,"message":"invalid params: missing or invalid 'item.data.function_id'"}}
> {"jsonrpc":"2.0","id":99,"method":"shutdown"}
< {"id":99,"result":null}
> {"jsonrpc":"2.0","method":"exit"}
exit 0
