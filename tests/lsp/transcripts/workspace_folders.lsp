# workspace/didChangeWorkspaceFolders: folders added and removed while files are open. The call
# hierarchy finds files that are not open below the workspace folders: production's shop/views.py is
# found in market/app/ only while market is a folder; the open file moves between "outside every
# folder" and the folder, and keeps its figures.
> {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"processId": null, "workspaceFolders": [{"uri": "file://${ROOT}/elsewhere", "name": "ws"}], "capabilities": {}, "initializationOptions": {"url": "${URL}", "key": "${KEY}", "service": "market"}}}
< {"id":1,"result":{"capabilities":{"workspace":{"workspaceFolders":{"supported":true,"changeNotifications":true}}}}}
> {"jsonrpc":"2.0","method":"initialized","params":{}}
> {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {"uri": "file://${MARKET}/app/shop/cart.py", "languageId": "python", "version": 1, "text": "import billing.tax\nfrom shop.pricing import apply_discounts\n\n\ndef checkout(cart):\n    total = apply_discounts(cart)\n    return total + billing.tax.compute_tax(total)\n"}}}
< {"method":"hud/status","params":{"state":"ok","modules":1}}
> {"jsonrpc": "2.0", "id": 2, "method": "callHierarchy/incomingCalls", "params": {"item": {"name":"checkout","kind":12,"uri":"file://${MARKET}/app/shop/cart.py","range":{"start":{"line":4,"character":0},"end":{"line":6,"character":49}},"selectionRange":{"start":{"line":4,"character":4},"end":{"line":4,"character":12}},"data":{"function_id":"${ID_CHECKOUT}","module":"shop/cart.py"}}}}
< {"id":2,"result":[{"from":{"name":"view_cart","uri":"hud:///shop/views.py"}}]}
# market becomes a folder, the unrelated one goes
> {"jsonrpc": "2.0", "method": "workspace/didChangeWorkspaceFolders", "params": {"event": {"added": [{"uri": "file://${MARKET}", "name": "market"}], "removed": [{"uri": "file://${ROOT}/elsewhere", "name": "ws"}]}}}
< {"method":"hud/status","params":{"state":"connecting"}}
< {"method":"hud/status","params":{"state":"ok","modules":1}}
> {"jsonrpc": "2.0", "id": 3, "method": "callHierarchy/incomingCalls", "params": {"item": {"name":"checkout","kind":12,"uri":"file://${MARKET}/app/shop/cart.py","range":{"start":{"line":4,"character":0},"end":{"line":6,"character":49}},"selectionRange":{"start":{"line":4,"character":4},"end":{"line":4,"character":12}},"data":{"function_id":"${ID_CHECKOUT}","module":"shop/cart.py"}}}}
< {"id":3,"result":[{"from":{"name":"view_cart","uri":"file://${MARKET}/app/shop/views.py","range":{"start":{"line":3,"character":0},"end":{"line":4,"character":33}}}}]}
> {"jsonrpc": "2.0", "id": 4, "method": "textDocument/codeLens", "params": {"textDocument": {"uri": "file://${MARKET}/app/shop/cart.py"}}}
< {"id":4,"result":[{"command":{"title":"⚡ 200/min · p95 15 ms ▲88% · 0% err · ≠ prod (1.1.0)"}}]}
# removed again (twice: the second is a no-op), and an added folder given twice is one folder
> {"jsonrpc": "2.0", "method": "workspace/didChangeWorkspaceFolders", "params": {"event": {"added": [{"uri": "file://${ROOT}/a"}, {"uri": "file://${ROOT}/a/"}], "removed": [{"uri": "file://${MARKET}"}, {"uri": "file://${MARKET}"}]}}}
< {"method":"hud/status","params":{"state":"connecting"}}
< {"method":"hud/status","params":{"state":"ok","modules":1}}
> {"jsonrpc": "2.0", "id": 5, "method": "callHierarchy/incomingCalls", "params": {"item": {"name":"checkout","kind":12,"uri":"file://${MARKET}/app/shop/cart.py","range":{"start":{"line":4,"character":0},"end":{"line":6,"character":49}},"selectionRange":{"start":{"line":4,"character":4},"end":{"line":4,"character":12}},"data":{"function_id":"${ID_CHECKOUT}","module":"shop/cart.py"}}}}
< {"id":5,"result":[{"from":{"name":"view_cart","uri":"hud:///shop/views.py"}}]}
# bad params: logged, nothing changes
> {"jsonrpc": "2.0", "method": "workspace/didChangeWorkspaceFolders", "params": {"event": {"added": "x"}}}
< {"method":"window/logMessage","params":{"type":2}}
> {"jsonrpc":"2.0","id":99,"method":"shutdown"}
< {"id":99,"result":null}
> {"jsonrpc":"2.0","method":"exit"}
exit 0
