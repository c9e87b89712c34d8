# A file of the synthetic shop service under a deeper workspace path: services/backend/shop/db.py asks
# for every suffix and is mapped to shop/db.py (the longest with data; db.py also has data and loses).
# One lens per function with calls in the window, on its name; none for save_order (declared, zero
# calls) nor _row_to_dict (unknown to the backend). Figures: the fixed batch of test_lsp.c (percentiles
# come from the sketch, alpha 0.005: Pool.acquire's 850 µs reads 848 µs).
> {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"processId": null, "workspaceFolders": [{"uri": "file://${ROOT}", "name": "ws"}], "capabilities": {}, "initializationOptions": {"url": "${URL}", "key": "${KEY}", "service": "shop"}}}
< {"id":1,"result":{"capabilities":{"positionEncoding":"utf-16"}}}
> {"jsonrpc":"2.0","method":"initialized","params":{}}
> {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {"uri": "file://${ROOT}/services/backend/shop/db.py", "languageId": "python", "version": 1, "text": "# Données: é 中文 😀\nimport time\n\n\nclass Pool:\n    def acquire(self):\n        return 1\n\n\ndef fetch_order(order_id):\n    return {\"id\": order_id}\n\n\ndef fetch_items(order_id):\n    return []\n\n\ndef save_order(order):\n    pass\n\n\ndef _row_to_dict(row):\n    return dict(row)\n"}}}
< {"method":"hud/status","params":{"state":"connecting","url":"${URL}","service":"shop"}}
< {"method":"hud/status","params":{"state":"ok","modules":1}}
> {"jsonrpc": "2.0", "id": 2, "method": "textDocument/codeLens", "params": {"textDocument": {"uri": "file://${ROOT}/services/backend/shop/db.py"}}}
< {"id": 2, "result": [{"range": {"start": {"line": 5, "character": 8}, "end": {"line": 5, "character": 15}}, "command": {"title": "⚡ 0.5/min · p95 848 µs · 10% err · ≠ prod (1.0.0)"}}, {"range": {"start": {"line": 9, "character": 4}, "end": {"line": 9, "character": 15}}, "command": {"title": "⚡ 1.2k/min · p95 38 ms · 0.4% err"}}, {"range": {"start": {"line": 13, "character": 4}, "end": {"line": 13, "character": 15}}, "command": {"title": "⚡ 10/min · p95 2.5 ms · 0% err · ≠ prod (1.0.0)"}}]}
# hover on a name: the figures in markdown (p50 and p95 from the 90% / 10% split at 10 ms / 38 ms);
# the deployed code's hash equals the buffer's, so no 'edited' line
> {"jsonrpc": "2.0", "id": 3, "method": "textDocument/hover", "params": {"textDocument": {"uri": "file://${ROOT}/services/backend/shop/db.py"}, "position": {"line": 9, "character": 6}}}
< {"id":3,"result":{"contents":{"kind":"markdown","value":"**fetch_order** — production, last 1h (shop)\n\n| | |\n|---|---|\n| calls | 1.2k/min (72k in the window) |\n| latency | p50 10 ms · p95 38 ms · p99 38 ms · mean 13 ms |\n| errors | 0.4% (288 calls) |\n"},"range":{"start":{"line":9,"character":4},"end":{"line":9,"character":15}}}}
# hover on a method whose deployed code differs from the buffer (source_code_hash): said at the end
> {"jsonrpc": "2.0", "id": 31, "method": "textDocument/hover", "params": {"textDocument": {"uri": "file://${ROOT}/services/backend/shop/db.py"}, "position": {"line": 5, "character": 10}}}
< {"id":31,"result":{"contents":{"kind":"markdown","value":"**Pool.acquire** — production, last 1h (shop)\n\n| | |\n|---|---|\n| calls | 0.5/min (30 in the window) |\n| latency | p50 848 µs · p95 848 µs · p99 848 µs · mean 850 µs |\n| errors | 10% (3 calls) |\n\n_Edited since deployed: the figures describe the deployed code._\n"}}}
# hover on a function without data says why: save_order is declared with no calls in the window,
# _row_to_dict unknown to production; on a line without a function: null
> {"jsonrpc": "2.0", "id": 4, "method": "textDocument/hover", "params": {"textDocument": {"uri": "file://${ROOT}/services/backend/shop/db.py"}, "position": {"line": 17, "character": 5}}}
< {"id":4,"result":{"contents":{"kind":"markdown","value":"**save_order** — no production figures: no calls in the last 1h (save_order is declared in shop/db.py)\n"},"range":{"start":{"line":17,"character":4},"end":{"line":17,"character":14}}}}
> {"jsonrpc": "2.0", "id": 41, "method": "textDocument/hover", "params": {"textDocument": {"uri": "file://${ROOT}/services/backend/shop/db.py"}, "position": {"line": 21, "character": 5}}}
< {"id":41,"result":{"contents":{"kind":"markdown","value":"**_row_to_dict** — no production figures: _row_to_dict is not among the functions production reported for shop/db.py (not instrumented, or renamed since deployed)\n"}}}
> {"jsonrpc": "2.0", "id": 5, "method": "textDocument/hover", "params": {"textDocument": {"uri": "file://${ROOT}/services/backend/shop/db.py"}, "position": {"line": 1, "character": 2}}}
< {"id":5,"result":null}
# a file whose paths have no data: no lens at all
> {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {"uri": "file://${ROOT}/services/backend/shop/nothing_here.py", "languageId": "python", "version": 1, "text": "def fetch_order():\n    pass\n"}}}
> {"jsonrpc": "2.0", "id": 6, "method": "textDocument/codeLens", "params": {"textDocument": {"uri": "file://${ROOT}/services/backend/shop/nothing_here.py"}}}
< {"id":6,"result":[]}
> {"jsonrpc":"2.0","id":7,"method":"shutdown"}
< {"id":7,"result":null}
> {"jsonrpc":"2.0","method":"exit"}
exit 0
