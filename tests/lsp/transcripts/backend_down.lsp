# The backend is unreachable: hud/status says so, one window/showMessage (not one per refresh),
# and no lens rather than zeros; the hover of a function and hud.explain say why.
> {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"processId": null, "capabilities": {}, "initializationOptions": {"url": "${DOWN_URL}", "key": "${KEY}", "service": "shop", "refreshSeconds": 1}, "workspaceFolders": [{"uri": "file://${ROOT}", "name": "ws"}]}}
< {"id":1,"result":{}}
> {"jsonrpc":"2.0","method":"initialized","params":{}}
> {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {"uri": "file://${ROOT}/services/backend/shop/db.py", "languageId": "python", "version": 1, "text": "def fetch_order(order_id):\n    return order_id\n"}}}
< {"method":"hud/status","params":{"state":"connecting"}}
< {"method":"hud/status","params":{"state":"unreachable","url":"${DOWN_URL}"}}
< {"method":"window/showMessage","params":{"type":2}}
# two more refreshes fail quietly
wait 2200
<count 1 {"method":"window/showMessage"}
<count 1 {"method":"hud/status","params":{"state":"unreachable"}}
> {"jsonrpc": "2.0", "id": 2, "method": "textDocument/codeLens", "params": {"textDocument": {"uri": "file://${ROOT}/services/backend/shop/db.py"}}}
< {"id":2,"result":[]}
> {"jsonrpc": "2.0", "id": 3, "method": "textDocument/hover", "params": {"textDocument": {"uri": "file://${ROOT}/services/backend/shop/db.py"}, "position": {"line": 0, "character": 5}}}
< {"id":3,"result":{"range":{"start":{"line":0,"character":4},"end":{"line":0,"character":15}}}}
# hud.explain names the failure
> {"jsonrpc": "2.0", "id": 4, "method": "workspace/executeCommand", "params": {"command": "hud.explain", "arguments": ["file://${ROOT}/services/backend/shop/db.py"]}}
< {"id":4,"result":{"reason":"unreachable"}}
> {"jsonrpc":"2.0","id":99,"method":"shutdown"}
< {"id":99,"result":null}
> {"jsonrpc":"2.0","method":"exit"}
exit 0
