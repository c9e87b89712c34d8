# Acknowledge / mute an issue from the editor: code actions on the root-cause function of an active issue
# (service "market": 1.1.0 slowed shop/pricing.py:apply_discounts) run hud.issueStatus, which posts
# /v1/issues/{id}/status. Wrong arguments are refused before anything is sent; the server's refusal
# (here: an unknown issue) is the command's error.
> {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"processId": null, "workspaceFolders": [{"uri": "file://${MARKET}", "name": "market"}], "capabilities": {}, "initializationOptions": {"url": "${URL}", "key": "${KEY}", "service": "market"}}}
< {"id":1,"result":{}}
> {"jsonrpc":"2.0","method":"initialized","params":{}}
> {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {"uri": "file://${MARKET}/app/shop/pricing.py", "languageId": "python", "version": 1, "text": "def apply_discounts(cart):\n    return sum(cart)\n"}}}
# the issues are in once the diagnostics are
< {"method":"textDocument/publishDiagnostics","params":{"uri":"file://${MARKET}/app/shop/pricing.py","version":1}}
> {"jsonrpc": "2.0", "id": 2, "method": "textDocument/codeAction", "params": {"textDocument": {"uri": "file://${MARKET}/app/shop/pricing.py"}, "range": {"start": {"line": 1, "character": 8}, "end": {"line": 1, "character": 8}}, "context": {"diagnostics": []}}}
< {"id":2,"result":[{"command":"hud.showDetail"},{"command":"hud.showCallers"},{"command":"hud.showCallees"},{"title":"hud: acknowledge apply_discounts mean duration +140% (1.0.0 → 1.1.0)","command":"hud.issueStatus"},{"title":"hud: mute apply_discounts mean duration +140% (1.0.0 → 1.1.0)","command":"hud.issueStatus"}]}
> {"jsonrpc": "2.0", "id": 3, "method": "workspace/executeCommand", "params": {"command": "hud.issueStatus", "arguments": ["00000000-0000-5000-8000-000000000000", "resolved"]}}
< {"id":3,"error":{"code":-32602,"message":"hud.issueStatus: arguments are an issue_id, then acknowledged, muted or open (and a note)"}}
> {"jsonrpc": "2.0", "id": 4, "method": "workspace/executeCommand", "params": {"command": "hud.issueStatus", "arguments": ["00000000-0000-5000-8000-000000000000"]}}
< {"id":4,"error":{"code":-32602}}
> {"jsonrpc": "2.0", "id": 5, "method": "workspace/executeCommand", "params": {"command": "hud.issueStatus", "arguments": ["00000000-0000-5000-8000-000000000000", "muted", "known"]}}
< {"id":5,"error":{"code":-32603}}
> {"jsonrpc":"2.0","id":99,"method":"shutdown"}
< {"id":99,"result":null}
> {"jsonrpc":"2.0","method":"exit"}
exit 0
