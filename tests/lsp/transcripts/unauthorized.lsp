# A key the server does not know: 401, state unauthorized, one message naming the fix.
> {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"processId": null, "capabilities": {}, "initializationOptions": {"url": "${URL}", "key": "not-a-key", "service": "shop", "refreshSeconds": 1}, "workspaceFolders": [{"uri": "file://${ROOT}", "name": "ws"}]}}
< {"id":1,"result":{}}
> {"jsonrpc":"2.0","method":"initialized","params":{}}
> {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {"uri": "file://${ROOT}/services/backend/shop/db.py", "languageId": "python", "version": 1, "text": "def fetch_order(order_id):\n    return order_id\n"}}}
< {"method":"hud/status","params":{"state":"unauthorized"}}
< {"method":"window/showMessage","params":{"type":2}}
wait 2200
<count 1 {"method":"window/showMessage"}
> {"jsonrpc": "2.0", "id": 2, "method": "textDocument/codeLens", "params": {"textDocument": {"uri": "file://${ROOT}/services/backend/shop/db.py"}}}
< {"id":2,"result":[]}
> {"jsonrpc": "2.0", "id": 3, "method": "workspace/executeCommand", "params": {"command": "hud.explain", "arguments": ["file://${ROOT}/services/backend/shop/db.py"]}}
< {"id":3,"result":{"reason":"unauthorized"}}
> {"jsonrpc":"2.0","id":99,"method":"shutdown"}
< {"id":99,"result":null}
> {"jsonrpc":"2.0","method":"exit"}
exit 0
