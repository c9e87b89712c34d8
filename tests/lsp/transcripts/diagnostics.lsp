# Live issues as diagnostics (service "market" of test_lsp.c: 1.1.0 made shop/pricing.py:apply_discounts
# 5 ms -> 12 ms, which slowed down checkout and view_cart). Severity Information, on the function's name;
# the root cause's location, when it is in the workspace, in relatedInformation.
> {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"processId": null, "workspaceFolders": [{"uri": "file://${MARKET}", "name": "market"}], "capabilities": {}, "initializationOptions": {"url": "${URL}", "key": "${KEY}", "service": "market"}}}
< {"id":1,"result":{}}
> {"jsonrpc":"2.0","method":"initialized","params":{}}
> {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {"uri": "file://${MARKET}/app/shop/cart.py", "languageId": "python", "version": 1, "text": "import billing.tax\nfrom shop.pricing import apply_discounts\n\n\ndef checkout(cart):\n    total = apply_discounts(cart)\n    return total + billing.tax.compute_tax(total)\n"}}}
# the subject: its change and its root cause, located in app/shop/pricing.py (not open: read from disk)
< {"method":"textDocument/publishDiagnostics","params":{"uri":"file://${MARKET}/app/shop/cart.py","version":1,"diagnostics":[{"range":{"start":{"line":4,"character":4},"end":{"line":4,"character":12}},"severity":3,"source":"hud","message":"mean duration +88% since 1.1.0 (root cause: shop/pricing.py:apply_discounts)","relatedInformation":[{"location":{"uri":"file://${MARKET}/app/shop/pricing.py","range":{"start":{"line":0,"character":4},"end":{"line":0,"character":19}}},"message":"shop/pricing.py:apply_discounts"}]}]}}
# the root cause itself: its own issue, and one line per issue it causes
> {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {"uri": "file://${MARKET}/app/shop/pricing.py", "languageId": "python", "version": 3, "text": "def apply_discounts(cart):\n    return sum(cart)\n"}}}
< {"method":"textDocument/publishDiagnostics","params":{"uri":"file://${MARKET}/app/shop/pricing.py","version":3,"diagnostics":[{"range":{"start":{"line":0,"character":4},"end":{"line":0,"character":19}},"severity":3,"source":"hud","message":"mean duration +140% since 1.1.0 (root cause: shop/pricing.py:apply_discounts)"},{"severity":3,"message":"root cause of checkout: mean duration +88% since 1.1.0"},{"severity":3,"message":"root cause of view_cart: mean duration +78% since 1.1.0"}]}}
# an edit that moves the function: the diagnostic moves with it
> {"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {"textDocument": {"uri": "file://${MARKET}/app/shop/cart.py", "version": 2}, "contentChanges": [{"range": {"start": {"line": 3, "character": 0}, "end": {"line": 3, "character": 0}}, "text": "\n\n"}]}}
< {"method":"textDocument/publishDiagnostics","params":{"uri":"file://${MARKET}/app/shop/cart.py","version":2,"diagnostics":[{"range":{"start":{"line":6,"character":4},"end":{"line":6,"character":12}}}]}}
# renamed: no function of the file has an issue any more, the diagnostics are cleared
> {"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {"textDocument": {"uri": "file://${MARKET}/app/shop/cart.py", "version": 3}, "contentChanges": [{"range": {"start": {"line": 6, "character": 4}, "end": {"line": 6, "character": 12}}, "text": "checkout_v2"}]}}
< {"method":"textDocument/publishDiagnostics","params":{"uri":"file://${MARKET}/app/shop/cart.py","version":3,"diagnostics":[]}}
# unchanged diagnostics are not sent again (an edit that changes nothing they say)
> {"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {"textDocument": {"uri": "file://${MARKET}/app/shop/pricing.py", "version": 4}, "contentChanges": [{"range": {"start": {"line": 1, "character": 15}, "end": {"line": 1, "character": 15}}, "text": " "}]}}
> {"jsonrpc": "2.0", "id": 2, "method": "textDocument/hover", "params": {"textDocument": {"uri": "file://${MARKET}/app/shop/pricing.py"}, "position": {"line": 0, "character": 6}}}
< {"id":2}
wait 500
<count 1 {"method":"textDocument/publishDiagnostics","params":{"uri":"file://${MARKET}/app/shop/pricing.py"}}
> {"jsonrpc":"2.0","id":99,"method":"shutdown"}
< {"id":99,"result":null}
> {"jsonrpc":"2.0","method":"exit"}
exit 0
