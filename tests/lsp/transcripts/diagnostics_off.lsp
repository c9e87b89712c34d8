# "diagnostics": false and "inlayHints": false (docs/lsp.md "Settings"): the market service has an issue on
# apply_discounts (diagnostics.lsp) and call edges (inlay_hints.lsp), yet nothing is published and the
# inlay hints are empty; the lenses still come.
> {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"processId": null, "workspaceFolders": [{"uri": "file://${MARKET}", "name": "market"}], "capabilities": {"textDocument": {"inlayHint": {"dynamicRegistration": false}}}, "initializationOptions": {"url": "${URL}", "key": "${KEY}", "service": "market", "diagnostics": false, "inlayHints": false}}}
< {"id":1,"result":{}}
> {"jsonrpc":"2.0","method":"initialized","params":{}}
> {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {"uri": "file://${MARKET}/app/shop/cart.py", "languageId": "python", "version": 1, "text": "import billing.tax\nfrom shop.pricing import apply_discounts\n\n\ndef checkout(cart):\n    total = apply_discounts(cart)\n    return total + billing.tax.compute_tax(total)\n"}}}
< {"method":"hud/status","params":{"state":"ok","modules":1}}
> {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {"uri": "file://${MARKET}/app/shop/pricing.py", "languageId": "python", "version": 1, "text": "def apply_discounts(cart):\n    return sum(cart)\n"}}}
> {"jsonrpc": "2.0", "id": 2, "method": "textDocument/codeLens", "params": {"textDocument": {"uri": "file://${MARKET}/app/shop/cart.py"}}}
< {"id":2,"result":[{"range":{"start":{"line":4,"character":4}}}]}
> {"jsonrpc": "2.0", "id": 3, "method": "textDocument/inlayHint", "params": {"textDocument": {"uri": "file://${MARKET}/app/shop/cart.py"}, "range": {"start": {"line": 0, "character": 0}, "end": {"line": 7, "character": 0}}}}
< {"id":3,"result":[]}
wait 700
<count 0 {"method":"textDocument/publishDiagnostics"}
# turned on again: the issues' diagnostics come
> {"jsonrpc": "2.0", "method": "workspace/didChangeConfiguration", "params": {"settings": {"hud": {"inlayHints": true}}}}
< {"method":"hud/status","params":{"state":"ok","modules":2}}
< {"method":"textDocument/publishDiagnostics","params":{"uri":"file://${MARKET}/app/shop/pricing.py","diagnostics":[{"range":{"start":{"line":0,"character":4}},"message":"apply_discounts self time +7 ms per call (1.0.0 → 1.1.0)\nits self time includes calls that are not instrumented\np = 2.7e-09"}]}}
# (cart.py's figures come with the refresh the setting starts: give it a moment)
wait 1000
> {"jsonrpc": "2.0", "id": 4, "method": "textDocument/inlayHint", "params": {"textDocument": {"uri": "file://${MARKET}/app/shop/cart.py"}, "range": {"start": {"line": 0, "character": 0}, "end": {"line": 7, "character": 0}}}}
< {"id":4,"result":[{"label":"×200/min"},{"label":"×200/min"}]}
> {"jsonrpc":"2.0","id":99,"method":"shutdown"}
< {"id":99,"result":null}
> {"jsonrpc":"2.0","method":"exit"}
exit 0
