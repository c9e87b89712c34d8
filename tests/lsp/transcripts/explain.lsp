# workspace/executeCommand: hud.explain says why a file has no lenses (answered and shown), hud.refresh
# asks the backend again at once, hud.copyDeepLink gives a function's URL in the query API.
> {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"processId": null, "workspaceFolders": [{"uri": "file://${ROOT}", "name": "ws"}], "capabilities": {"workspace": {"codeLens": {"refreshSupport": true}}}, "initializationOptions": {"url": "${URL}", "key": "${KEY}", "service": "shop"}}}
< {"id":1,"result":{"capabilities":{"executeCommandProvider":{"commands":["hud.explain","hud.refresh","hud.copyDeepLink","hud.showDetail","hud.showCallers","hud.showCallees","hud.issueStatus"]}}}}
> {"jsonrpc":"2.0","method":"initialized","params":{}}
> {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {"uri": "file://${ROOT}/app/shop/db.py", "languageId": "python", "version": 1, "text": "def fetch_order(order_id):\n    return {\"id\": order_id}\n\n\ndef save_order(order):\n    pass\n"}}}
> {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {"uri": "file://${ROOT}/app/shop/idle.py", "languageId": "python", "version": 1, "text": "def nap():\n    pass\n"}}}
> {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {"uri": "file://${ROOT}/app/shop/nothing_here.py", "languageId": "python", "version": 1, "text": "def fetch_order():\n    pass\n"}}}
> {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {"uri": "file://${ROOT}/app/README.txt", "languageId": "plaintext", "version": 1, "text": "hello\n"}}}
< {"method":"hud/status","params":{"state":"ok"}}
# a file with lenses
> {"jsonrpc": "2.0", "id": 2, "method": "workspace/executeCommand", "params": {"command": "hud.explain", "arguments": ["file://${ROOT}/app/shop/db.py"]}}
< {"id":2,"result":{"reason":"ok","message":"1 of 2 functions have figures (module shop/db.py, last 1h)"}}
< {"method":"window/showMessage","params":{"type":3,"message":"hud: 1 of 2 functions have figures (module shop/db.py, last 1h)"}}
# a module production knows, none of whose functions ran in the window
> {"jsonrpc": "2.0", "id": 3, "method": "workspace/executeCommand", "params": {"command": "hud.explain", "arguments": [{"uri": "file://${ROOT}/app/shop/idle.py"}]}}
< {"id":3,"result":{"reason":"no_calls","message":"no calls in the window: shop/idle.py is a module of shop but none of its functions ran in the last 1h"}}
> {"jsonrpc": "2.0", "id": 31, "method": "textDocument/hover", "params": {"textDocument": {"uri": "file://${ROOT}/app/shop/idle.py"}, "position": {"line": 0, "character": 5}}}
< {"id":31,"result":{"contents":{"kind":"markdown","value":"**nap** — no production figures: no calls in the window: shop/idle.py is a module of shop but none of its functions ran in the last 1h\n"}}}
# no suffix of the path is a module of the service
> {"jsonrpc": "2.0", "id": 4, "method": "workspace/executeCommand", "params": {"command": "hud.explain", "arguments": ["file://${ROOT}/app/shop/nothing_here.py"]}}
< {"id":4,"result":{"reason":"module_not_found","message":"module path not found among the modules of shop: no suffix of app/shop/nothing_here.py is one (the module paths the sensor reported differ)"}}
# a language the index does not know, and a file that is not open
> {"jsonrpc": "2.0", "id": 5, "method": "workspace/executeCommand", "params": {"command": "hud.explain", "arguments": ["file://${ROOT}/app/README.txt"]}}
< {"id":5,"result":{"reason":"not_indexed","message":"app/README.txt: not a language hud indexes"}}
> {"jsonrpc": "2.0", "id": 6, "method": "workspace/executeCommand", "params": {"command": "hud.explain", "arguments": ["file://${ROOT}/app/closed.py"]}}
< {"id":6,"result":{"reason":"not_open"}}
# hud.refresh: the figures are asked for again now; their answer makes the client ask for lenses again
> {"jsonrpc": "2.0", "id": 7, "method": "textDocument/codeLens", "params": {"textDocument": {"uri": "file://${ROOT}/app/shop/db.py"}}}
< {"id":7,"result":[{"command":{"title":"⚡ 1.2k/min · p95 38 ms · 0.4% err","arguments":["4b1d67f8-5cf2-536c-8de3-e16aefab923f"]}}]}
<count 0 {"method":"workspace/codeLens/refresh"}
> {"jsonrpc": "2.0", "id": 8, "method": "workspace/executeCommand", "params": {"command": "hud.refresh"}}
< {"id":8,"result":null}
< {"method":"workspace/codeLens/refresh"}
# hud.copyDeepLink: the lens's argument
> {"jsonrpc": "2.0", "id": 9, "method": "workspace/executeCommand", "params": {"command": "hud.copyDeepLink", "arguments": ["4b1d67f8-5cf2-536c-8de3-e16aefab923f"]}}
< {"id":9,"result":{"url":"${URL}/v1/functions/4b1d67f8-5cf2-536c-8de3-e16aefab923f?service=shop"}}
# wrong arguments and unknown commands: InvalidParams
> {"jsonrpc": "2.0", "id": 10, "method": "workspace/executeCommand", "params": {"command": "hud.copyDeepLink", "arguments": ["../etc"]}}
< {"id":10,"error":{"code":-32602}}
> {"jsonrpc": "2.0", "id": 11, "method": "workspace/executeCommand", "params": {"command": "hud.explain"}}
< {"id":11,"error":{"code":-32602}}
> {"jsonrpc": "2.0", "id": 12, "method": "workspace/executeCommand", "params": {"command": "rm -rf"}}
< {"id":12,"error":{"code":-32602}}
> {"jsonrpc": "2.0", "id": 13, "method": "workspace/executeCommand", "params": {"arguments": []}}
< {"id":13,"error":{"code":-32602}}
> {"jsonrpc":"2.0","id":99,"method":"shutdown"}
< {"id":99,"result":null}
> {"jsonrpc":"2.0","method":"exit"}
exit 0
