# The same line in UTF-8 positions, negotiated through general.positionEncodings: é is 2 bytes,
# 中 3, 😀 4, so render() starts at byte 32.
> {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"processId": null, "capabilities": {"general": {"positionEncodings": ["utf-8", "utf-16"]}}, "initializationOptions": {"url": "${URL}", "key": "${KEY}", "service": "shop"}, "workspaceFolders": [{"uri": "file://${ROOT}", "name": "ws"}]}}
< {"id":1,"result":{"capabilities":{"positionEncoding":"utf-8"}}}
> {"jsonrpc":"2.0","method":"initialized","params":{}}
> {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {"uri": "file://${ROOT}/services/backend/shop/ui.js", "languageId": "javascript", "version": 1, "text": "const s = \"é中😀\"; function render() { return s; }\n"}}}
< {"method":"hud/status","params":{"state":"ok"}}
> {"jsonrpc": "2.0", "id": 2, "method": "textDocument/codeLens", "params": {"textDocument": {"uri": "file://${ROOT}/services/backend/shop/ui.js"}}}
< {"id": 2, "result": [{"range": {"start": {"line": 0, "character": 32}, "end": {"line": 0, "character": 38}}, "command": {"title": "⚡ 2/min · p95 4 ms · 0% err · ≠ prod (1.0.0)"}}]}
# ü (2 bytes) after the emoji (byte 20)
> {"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {"textDocument": {"uri": "file://${ROOT}/services/backend/shop/ui.js", "version": 2}, "contentChanges": [{"range": {"start": {"line": 0, "character": 20}, "end": {"line": 0, "character": 20}}, "text": "ü"}]}}
> {"jsonrpc": "2.0", "id": 3, "method": "textDocument/codeLens", "params": {"textDocument": {"uri": "file://${ROOT}/services/backend/shop/ui.js"}}}
< {"id": 3, "result": [{"range": {"start": {"line": 0, "character": 34}, "end": {"line": 0, "character": 40}}, "command": {"title": "⚡ 2/min · p95 4 ms · 0% err · ≠ prod (1.0.0)"}}]}
> {"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {"textDocument": {"uri": "file://${ROOT}/services/backend/shop/ui.js", "version": 3}, "contentChanges": [{"range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}, "text": "// 😀 héllo\n"}]}}
# é (bytes 11..13) replaced by three letters
> {"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {"textDocument": {"uri": "file://${ROOT}/services/backend/shop/ui.js", "version": 4}, "contentChanges": [{"range": {"start": {"line": 1, "character": 11}, "end": {"line": 1, "character": 13}}, "text": "eee"}]}}
> {"jsonrpc": "2.0", "id": 4, "method": "textDocument/codeLens", "params": {"textDocument": {"uri": "file://${ROOT}/services/backend/shop/ui.js"}}}
< {"id": 4, "result": [{"range": {"start": {"line": 1, "character": 35}, "end": {"line": 1, "character": 41}}, "command": {"title": "⚡ 2/min · p95 4 ms · 0% err · ≠ prod (1.0.0)"}}]}
> {"jsonrpc":"2.0","id":99,"method":"shutdown"}
< {"id":99,"result":null}
> {"jsonrpc":"2.0","method":"exit"}
exit 0
