# Live issues as diagnostics (service "market" of test_lsp.c: 1.1.0 made shop/pricing.py:apply_discounts
# 5 ms -> 12 ms, which slowed down checkout and view_cart). One issue per root cause: apply_discounts's,
# shown on the function's name with its headline, severity Information; its callers have no issue. Its
# code did not change (same source_code_hash), so the message says the time is in what it calls.
> {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"processId": null, "workspaceFolders": [{"uri": "file://${MARKET}", "name": "market"}], "capabilities": {}, "initializationOptions": {"url": "${URL}", "key": "${KEY}", "service": "market"}}}
< {"id":1,"result":{}}
> {"jsonrpc":"2.0","method":"initialized","params":{}}
# the root cause: its issue
> {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {"uri": "file://${MARKET}/app/shop/pricing.py", "languageId": "python", "version": 3, "text": "def apply_discounts(cart):\n    return sum(cart)\n"}}}
< {"method":"textDocument/publishDiagnostics","params":{"uri":"file://${MARKET}/app/shop/pricing.py","version":3,"diagnostics":[{"range":{"start":{"line":0,"character":4},"end":{"line":0,"character":19}},"severity":3,"source":"hud","message":"apply_discounts self time +7 ms per call (1.0.0 → 1.1.0)\nits self time includes calls that are not instrumented\np = 2.7e-09"}]}}
# a caller: no issue of its own
> {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {"uri": "file://${MARKET}/app/shop/cart.py", "languageId": "python", "version": 1, "text": "import billing.tax\nfrom shop.pricing import apply_discounts\n\n\ndef checkout(cart):\n    total = apply_discounts(cart)\n    return total + billing.tax.compute_tax(total)\n"}}}
# an edit that moves the function: the diagnostic moves with it
> {"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {"textDocument": {"uri": "file://${MARKET}/app/shop/pricing.py", "version": 4}, "contentChanges": [{"range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}, "text": "\n\n"}]}}
< {"method":"textDocument/publishDiagnostics","params":{"uri":"file://${MARKET}/app/shop/pricing.py","version":4,"diagnostics":[{"range":{"start":{"line":2,"character":4},"end":{"line":2,"character":19}}}]}}
# unchanged diagnostics are not sent again (an edit that changes nothing they say)
> {"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {"textDocument": {"uri": "file://${MARKET}/app/shop/pricing.py", "version": 5}, "contentChanges": [{"range": {"start": {"line": 3, "character": 15}, "end": {"line": 3, "character": 15}}, "text": " "}]}}
> {"jsonrpc": "2.0", "id": 2, "method": "textDocument/hover", "params": {"textDocument": {"uri": "file://${MARKET}/app/shop/pricing.py"}, "position": {"line": 2, "character": 6}}}
< {"id":2}
wait 500
<count 2 {"method":"textDocument/publishDiagnostics","params":{"uri":"file://${MARKET}/app/shop/pricing.py"}}
<count 0 {"method":"textDocument/publishDiagnostics","params":{"uri":"file://${MARKET}/app/shop/cart.py","diagnostics":[{}]}}
# renamed: no function of the file has an issue any more, the diagnostics are cleared
> {"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {"textDocument": {"uri": "file://${MARKET}/app/shop/pricing.py", "version": 6}, "contentChanges": [{"range": {"start": {"line": 2, "character": 4}, "end": {"line": 2, "character": 19}}, "text": "apply_discounts_v2"}]}}
< {"method":"textDocument/publishDiagnostics","params":{"uri":"file://${MARKET}/app/shop/pricing.py","version":6,"diagnostics":[]}}
> {"jsonrpc":"2.0","id":99,"method":"shutdown"}
< {"id":99,"result":null}
> {"jsonrpc":"2.0","method":"exit"}
exit 0
