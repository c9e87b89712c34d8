# Incremental edits in UTF-16 positions (the default) on a line with é (1 unit), 中 (1) and 😀
# (2 units, 4 bytes) before a function: each lens range shows where the index now sees render().
> {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"processId": null, "capabilities": {}, "initializationOptions": {"url": "${URL}", "key": "${KEY}", "service": "shop"}, "workspaceFolders": [{"uri": "file://${ROOT}", "name": "ws"}]}}
< {"id":1,"result":{"capabilities":{"positionEncoding":"utf-16"}}}
> {"jsonrpc":"2.0","method":"initialized","params":{}}
> {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {"uri": "file://${ROOT}/services/backend/shop/ui.js", "languageId": "javascript", "version": 1, "text": "const s = \"é中😀\"; function render() { return s; }\n"}}}
< {"method":"hud/status","params":{"state":"ok"}}
> {"jsonrpc": "2.0", "id": 2, "method": "textDocument/codeLens", "params": {"textDocument": {"uri": "file://${ROOT}/services/backend/shop/ui.js"}}}
< {"id": 2, "result": [{"range": {"start": {"line": 0, "character": 27}, "end": {"line": 0, "character": 33}}, "command": {"title": "⚡ 2/min · p95 4 ms · 0% err · ≠ prod (1.0.0)"}}]}
# ü after the emoji (unit 15): render moves one unit right
> {"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {"textDocument": {"uri": "file://${ROOT}/services/backend/shop/ui.js", "version": 2}, "contentChanges": [{"range": {"start": {"line": 0, "character": 15}, "end": {"line": 0, "character": 15}}, "text": "ü"}]}}
> {"jsonrpc": "2.0", "id": 3, "method": "textDocument/codeLens", "params": {"textDocument": {"uri": "file://${ROOT}/services/backend/shop/ui.js"}}}
< {"id": 3, "result": [{"range": {"start": {"line": 0, "character": 28}, "end": {"line": 0, "character": 34}}, "command": {"title": "⚡ 2/min · p95 4 ms · 0% err · ≠ prod (1.0.0)"}}]}
# a new first line: render moves down
> {"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {"textDocument": {"uri": "file://${ROOT}/services/backend/shop/ui.js", "version": 3}, "contentChanges": [{"range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}, "text": "// 😀 héllo\n"}]}}
> {"jsonrpc": "2.0", "id": 4, "method": "textDocument/codeLens", "params": {"textDocument": {"uri": "file://${ROOT}/services/backend/shop/ui.js"}}}
< {"id": 4, "result": [{"range": {"start": {"line": 1, "character": 28}, "end": {"line": 1, "character": 34}}, "command": {"title": "⚡ 2/min · p95 4 ms · 0% err · ≠ prod (1.0.0)"}}]}
# é (unit 11..12) replaced by three letters
> {"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {"textDocument": {"uri": "file://${ROOT}/services/backend/shop/ui.js", "version": 4}, "contentChanges": [{"range": {"start": {"line": 1, "character": 11}, "end": {"line": 1, "character": 12}}, "rangeLength": 1, "text": "eee"}]}}
> {"jsonrpc": "2.0", "id": 5, "method": "textDocument/codeLens", "params": {"textDocument": {"uri": "file://${ROOT}/services/backend/shop/ui.js"}}}
< {"id": 5, "result": [{"range": {"start": {"line": 1, "character": 30}, "end": {"line": 1, "character": 36}}, "command": {"title": "⚡ 2/min · p95 4 ms · 0% err · ≠ prod (1.0.0)"}}]}
# a character past the line's end clamps to it (the specification's rule): appended to line 0
> {"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {"textDocument": {"uri": "file://${ROOT}/services/backend/shop/ui.js", "version": 5}, "contentChanges": [{"range": {"start": {"line": 0, "character": 999}, "end": {"line": 0, "character": 999}}, "text": " ✓"}]}}
> {"jsonrpc": "2.0", "id": 6, "method": "textDocument/codeLens", "params": {"textDocument": {"uri": "file://${ROOT}/services/backend/shop/ui.js"}}}
< {"id": 6, "result": [{"range": {"start": {"line": 1, "character": 30}, "end": {"line": 1, "character": 36}}, "command": {"title": "⚡ 2/min · p95 4 ms · 0% err · ≠ prod (1.0.0)"}}]}
# two changes in one notification, applied in order: line 0 removed, then 'x' inserted
> {"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {"textDocument": {"uri": "file://${ROOT}/services/backend/shop/ui.js", "version": 6}, "contentChanges": [{"range": {"start": {"line": 0, "character": 0}, "end": {"line": 1, "character": 0}}, "text": ""}, {"range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}, "text": "x"}]}}
> {"jsonrpc": "2.0", "id": 7, "method": "textDocument/codeLens", "params": {"textDocument": {"uri": "file://${ROOT}/services/backend/shop/ui.js"}}}
< {"id": 7, "result": [{"range": {"start": {"line": 0, "character": 31}, "end": {"line": 0, "character": 37}}, "command": {"title": "⚡ 2/min · p95 4 ms · 0% err · ≠ prod (1.0.0)"}}]}
# hover inside the name, UTF-16 column
> {"jsonrpc": "2.0", "id": 8, "method": "textDocument/hover", "params": {"textDocument": {"uri": "file://${ROOT}/services/backend/shop/ui.js"}, "position": {"line": 0, "character": 33}}}
< {"id":8,"result":{"range":{"start":{"line":0,"character":31},"end":{"line":0,"character":37}}}}
# a range past the last line: logged, the document unchanged
> {"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {"textDocument": {"uri": "file://${ROOT}/services/backend/shop/ui.js", "version": 7}, "contentChanges": [{"range": {"start": {"line": 50, "character": 0}, "end": {"line": 50, "character": 1}}, "text": "zzz"}]}}
< {"method":"window/logMessage","params":{"type":2,"message":"textDocument/didChange: didChange file://${ROOT}/services/backend/shop/ui.js (version 7), change 0: range 50:0-50:1 is outside the document (2 lines) or reversed; the document may now differ from the editor's: close and reopen it"}}
# a reversed range, negative numbers: the same
> {"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {"textDocument": {"uri": "file://${ROOT}/services/backend/shop/ui.js", "version": 8}, "contentChanges": [{"range": {"start": {"line": 0, "character": 5}, "end": {"line": 0, "character": 2}}, "text": "q"}]}}
< {"method":"window/logMessage","params":{"type":2}}
> {"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {"textDocument": {"uri": "file://${ROOT}/services/backend/shop/ui.js", "version": 9}, "contentChanges": [{"range": {"start": {"line": -1, "character": 0}, "end": {"line": 0, "character": 0}}, "text": "q"}]}}
< {"method":"window/logMessage","params":{"type":2}}
> {"jsonrpc": "2.0", "id": 9, "method": "textDocument/codeLens", "params": {"textDocument": {"uri": "file://${ROOT}/services/backend/shop/ui.js"}}}
< {"id": 9, "result": [{"range": {"start": {"line": 0, "character": 31}, "end": {"line": 0, "character": 37}}, "command": {"title": "⚡ 2/min · p95 4 ms · 0% err · ≠ prod (1.0.0)"}}]}
# an edit of a document that is not open: logged and ignored
> {"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {"textDocument": {"uri": "file://${ROOT}/nope.js", "version": 2}, "contentChanges": [{"range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}, "text": "x"}]}}
< {"method":"window/logMessage","params":{"type":2,"message":"textDocument/didChange: didChange for file://${ROOT}/nope.js, which is not open: ignored"}}
# the whole text replaced (no range)
> {"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {"textDocument": {"uri": "file://${ROOT}/services/backend/shop/ui.js", "version": 10}, "contentChanges": [{"text": "function render() {}\n"}]}}
> {"jsonrpc": "2.0", "id": 10, "method": "textDocument/codeLens", "params": {"textDocument": {"uri": "file://${ROOT}/services/backend/shop/ui.js"}}}
< {"id": 10, "result": [{"range": {"start": {"line": 0, "character": 9}, "end": {"line": 0, "character": 15}}, "command": {"title": "⚡ 2/min · p95 4 ms · 0% err · ≠ prod (1.0.0)"}}]}
# closed: lenses are refused, didClose again is logged
> {"jsonrpc": "2.0", "method": "textDocument/didClose", "params": {"textDocument": {"uri": "file://${ROOT}/services/backend/shop/ui.js"}}}
> {"jsonrpc": "2.0", "id": 11, "method": "textDocument/codeLens", "params": {"textDocument": {"uri": "file://${ROOT}/services/backend/shop/ui.js"}}}
< {"id":11,"error":{"code":-32602}}
> {"jsonrpc": "2.0", "method": "textDocument/didClose", "params": {"textDocument": {"uri": "file://${ROOT}/services/backend/shop/ui.js"}}}
< {"method":"window/logMessage","params":{"type":2}}
> {"jsonrpc":"2.0","id":99,"method":"shutdown"}
< {"id":99,"result":null}
> {"jsonrpc":"2.0","method":"exit"}
exit 0
