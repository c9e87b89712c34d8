# Requests for editor panels when the backend fails: an answer with the reason (hud.explain's), not a
# JSON-RPC error; by position the file's own reason (its figures never came).
> {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"processId": null, "workspaceFolders": [{"uri": "file://${MARKET}", "name": "market"}], "capabilities": {}, "initializationOptions": {"url": "${DOWN_URL}", "key": "${KEY}", "service": "panels"}}}
< {"id":1,"result":{}}
> {"jsonrpc":"2.0","method":"initialized","params":{}}
> {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {"uri": "file://${MARKET}/app/shop/cart.py", "languageId": "python", "version": 1, "text": "def checkout(cart):\n    return cart\n"}}}
< {"method":"hud/status","params":{"state":"unreachable"}}
> {"jsonrpc": "2.0", "id": 2, "method": "hud/functionDetail", "params": {"functionId": "${ID_CHECKOUT}"}}
< {"id":2,"result":{"error":{"reason":"unreachable"}}}
> {"jsonrpc": "2.0", "id": 3, "method": "hud/callGraph", "params": {"functionId": "${ID_CHECKOUT}"}}
< {"id":3,"result":{"error":{"reason":"unreachable"}}}
> {"jsonrpc": "2.0", "id": 4, "method": "hud/hotPaths", "params": {"flowId": "${FLOW_CART}"}}
< {"id":4,"result":{"error":{"reason":"unreachable"}}}
> {"jsonrpc": "2.0", "id": 5, "method": "hud/issues"}
< {"id":5,"result":{"error":{"reason":"unreachable"}}}
> {"jsonrpc": "2.0", "id": 6, "method": "hud/flows"}
< {"id":6,"result":{"error":{"reason":"unreachable"}}}
> {"jsonrpc": "2.0", "id": 7, "method": "hud/functionDetail", "params": {"textDocument": {"uri": "file://${MARKET}/app/shop/cart.py"}, "position": {"line": 1, "character": 4}}}
< {"id":7,"result":{"error":{"reason":"unreachable"}}}
# without a service: unconfigured
> {"jsonrpc": "2.0", "method": "workspace/didChangeConfiguration", "params": {"settings": {"hud": {"url": "${URL}", "service": ""}}}}
> {"jsonrpc": "2.0", "id": 8, "method": "hud/flows"}
< {"id":8,"result":{"error":{"reason":"unconfigured"}}}
> {"jsonrpc":"2.0","id":99,"method":"shutdown"}
< {"id":99,"result":null}
> {"jsonrpc":"2.0","method":"exit"}
exit 0
