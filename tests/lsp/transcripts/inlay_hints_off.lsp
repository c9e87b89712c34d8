# A client that does not advertise inlay hints: no inlayHintProvider, and a request gets no hints.
> {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"processId": null, "workspaceFolders": [{"uri": "file://${MARKET}", "name": "market"}], "capabilities": {}, "initializationOptions": {"url": "${URL}", "key": "${KEY}", "service": "market"}}}
< {"id":1,"result":{"capabilities":{"hoverProvider":true}}}
<count 0 {"id":1,"result":{"capabilities":{"inlayHintProvider":true}}}
> {"jsonrpc":"2.0","method":"initialized","params":{}}
> {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {"uri": "file://${MARKET}/app/shop/cart.py", "languageId": "python", "version": 1, "text": "import billing.tax\nfrom shop.pricing import apply_discounts\n\n\ndef checkout(cart):\n    total = apply_discounts(cart)\n    return total + billing.tax.compute_tax(total)\n"}}}
< {"method":"hud/status","params":{"state":"ok","modules":1}}
> {"jsonrpc": "2.0", "id": 2, "method": "textDocument/inlayHint", "params": {"textDocument": {"uri": "file://${MARKET}/app/shop/cart.py"}, "range": {"start": {"line": 0, "character": 0}, "end": {"line": 7, "character": 0}}}}
< {"id":2,"result":[]}
> {"jsonrpc":"2.0","id":99,"method":"shutdown"}
< {"id":99,"result":null}
> {"jsonrpc":"2.0","method":"exit"}
exit 0
