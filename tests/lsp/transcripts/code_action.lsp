# textDocument/codeAction, for clients without lenses or call hierarchy: on a function with figures,
# commands that show its production detail, callers and callees (workspace/executeCommand: answered
# and shown); on one without, hud.explain.
> {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"processId": null, "workspaceFolders": [{"uri": "file://${MARKET}", "name": "market"}], "capabilities": {}, "initializationOptions": {"url": "${URL}", "key": "${KEY}", "service": "market"}}}
< {"id":1,"result":{"capabilities":{"codeActionProvider":true,"executeCommandProvider":{"commands":["hud.explain","hud.refresh","hud.copyDeepLink","hud.showDetail","hud.showCallers","hud.showCallees","hud.issueStatus"]}}}}
> {"jsonrpc":"2.0","method":"initialized","params":{}}
> {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {"uri": "file://${MARKET}/app/shop/cart.py", "languageId": "python", "version": 1, "text": "import billing.tax\nfrom shop.pricing import apply_discounts\n\n\ndef checkout(cart):\n    total = apply_discounts(cart)\n    return total + billing.tax.compute_tax(total)\n\n\ndef unused():\n    pass\n"}}}
< {"method":"hud/status","params":{"state":"ok","modules":1}}
# in checkout's body
> {"jsonrpc": "2.0", "id": 2, "method": "textDocument/codeAction", "params": {"textDocument": {"uri": "file://${MARKET}/app/shop/cart.py"}, "range": {"start": {"line": 5, "character": 8}, "end": {"line": 5, "character": 8}}, "context": {"diagnostics": []}}}
< {"id":2,"result":[{"title":"hud: production detail of checkout","command":"hud.showDetail","arguments":["${ID_CHECKOUT}"]},{"title":"hud: production callers of checkout","command":"hud.showCallers","arguments":["${ID_CHECKOUT}"]},{"title":"hud: production callees of checkout","command":"hud.showCallees","arguments":["${ID_CHECKOUT}"]}]}
> {"jsonrpc": "2.0", "id": 3, "method": "workspace/executeCommand", "params": {"command": "hud.showDetail", "arguments": ["${ID_CHECKOUT}"]}}
< {"id":3,"result":{"message":"checkout (shop/cart.py), last 1h: 200 calls/min · p95 15 ms"}}
< {"method":"window/showMessage","params":{"type":3,"message":"hud: checkout (shop/cart.py), last 1h: 200 calls/min · p95 15 ms"}}
> {"jsonrpc": "2.0", "id": 4, "method": "workspace/executeCommand", "params": {"command": "hud.showCallers", "arguments": ["${ID_CHECKOUT}"]}}
< {"id":4,"result":{"message":"checkout (shop/cart.py), last 1h: 200 calls/min · p95 15 ms\ncallers\nview_cart (shop/views.py:5) 200 calls/min · mean 12 ms"}}
> {"jsonrpc": "2.0", "id": 5, "method": "workspace/executeCommand", "params": {"command": "hud.showCallees", "arguments": ["${ID_CHECKOUT}"]}}
< {"id":5,"result":{"message":"checkout (shop/cart.py), last 1h: 200 calls/min · p95 15 ms\ncallees\napply_discounts (shop/pricing.py:6) 200 calls/min · mean 8.5 ms\ncompute_tax (billing/tax.py:7) 200 calls/min · mean 1 ms"}}
# a function without figures: why; outside every function: nothing
> {"jsonrpc": "2.0", "id": 6, "method": "textDocument/codeAction", "params": {"textDocument": {"uri": "file://${MARKET}/app/shop/cart.py"}, "range": {"start": {"line": 9, "character": 5}, "end": {"line": 9, "character": 5}}, "context": {"diagnostics": []}}}
< {"id":6,"result":[{"title":"hud: why no production figures for unused","command":"hud.explain","arguments":["file://${MARKET}/app/shop/cart.py"]}]}
> {"jsonrpc": "2.0", "id": 7, "method": "textDocument/codeAction", "params": {"textDocument": {"uri": "file://${MARKET}/app/shop/cart.py"}, "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}, "context": {"diagnostics": []}}}
< {"id":7,"result":[]}
# an unknown function: the backend's answer
> {"jsonrpc": "2.0", "id": 8, "method": "workspace/executeCommand", "params": {"command": "hud.showCallers", "arguments": ["00000000-0000-5000-8000-000000000000"]}}
< {"id":8,"error":{"code":-32603}}
> {"jsonrpc": "2.0", "id": 9, "method": "textDocument/codeAction", "params": {"textDocument": {"uri": "file://${MARKET}/app/shop/other.py"}, "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}}}
< {"id":9,"error":{"code":-32602}}
> {"jsonrpc":"2.0","id":99,"method":"shutdown"}
< {"id":99,"result":null}
> {"jsonrpc":"2.0","method":"exit"}
exit 0
