# Lens layout, threshold and warnings (docs/lsp.md "Settings"): the template's placeholders, no lens
# under minCallsPerMinute (the hover says why), a leading warning sign over p95WarnMs or errorRateWarn.
# Figures of test_lsp.c's shop service: Pool.acquire 0.5/min, 10% err; fetch_order 1.2k/min, p95 38 ms;
# fetch_items 10/min, p95 2.5 ms.
> {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"processId": null, "workspaceFolders": [{"uri": "file://${ROOT}", "name": "ws"}], "capabilities": {}, "initializationOptions": {"url": "${URL}", "key": "${KEY}", "service": "shop", "lensLayout": "{calls} in window · p50 {p50} · mean {mean} · {rate}", "minCallsPerMinute": 5, "p95WarnMs": 30, "errorRateWarn": 0.2}}}
< {"id":1,"result":{}}
> {"jsonrpc":"2.0","method":"initialized","params":{}}
> {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {"uri": "file://${ROOT}/layout/shop/db.py", "languageId": "python", "version": 1, "text": "class Pool:\n    def acquire(self):\n        return 1\n\n\ndef fetch_order(order_id):\n    return {\"id\": order_id}\n\n\ndef fetch_items(order_id):\n    return []\n"}}}
< {"method":"hud/status","params":{"state":"ok","modules":1}}
# Pool.acquire (0.5/min) is under the threshold; fetch_order's p95 (38 ms) is over 30 ms
> {"jsonrpc": "2.0", "id": 2, "method": "textDocument/codeLens", "params": {"textDocument": {"uri": "file://${ROOT}/layout/shop/db.py"}}}
< {"id":2,"result":[{"range":{"start":{"line":5,"character":4}},"command":{"title":"⚠ 72k in window · p50 10 ms · mean 13 ms · 1.2k/min"}},{"range":{"start":{"line":9,"character":4}},"command":{"title":"600 in window · p50 2.5 ms · mean 2.5 ms · 10/min · ≠ prod (1.0.0)"}}]}
> {"jsonrpc": "2.0", "id": 3, "method": "textDocument/hover", "params": {"textDocument": {"uri": "file://${ROOT}/layout/shop/db.py"}, "position": {"line": 1, "character": 10}}}
< {"id":3,"result":{"contents":{"kind":"markdown","value":"**Pool.acquire** — production, last 1h (shop)\n\n| | |\n|---|---|\n| calls | 0.5/min (30 in the window) |\n| latency | p50 848 µs · p95 848 µs · p99 848 µs · mean 850 µs |\n| errors | 10% (3 calls) |\n\n_Edited since deployed: the figures describe the deployed code._\n\n_No lens: 0.5 calls/min is below the threshold (minCallsPerMinute 5)._\n"}}}
# an unknown placeholder is named once and the default layout is used; errorRateWarn 0.05 marks Pool.acquire
> {"jsonrpc": "2.0", "method": "workspace/didChangeConfiguration", "params": {"settings": {"hud": {"lensLayout": "{rate} {nope}", "errorRateWarn": 0.05}}}}
< {"method":"window/showMessage","params":{"type":1,"message":"hud: initializationOptions.lensLayout: unknown placeholder {nope} (known: {rate} {calls} {p50} {p95} {p99} {mean} {errors} {trend}); the default layout is used"}}
< {"method":"hud/status","params":{"state":"ok","modules":1}}
> {"jsonrpc": "2.0", "id": 4, "method": "textDocument/codeLens", "params": {"textDocument": {"uri": "file://${ROOT}/layout/shop/db.py"}}}
< {"id":4,"result":[{"command":{"title":"⚠ ⚡ 0.5/min · p95 848 µs · 10% err · ≠ prod (1.0.0)"}},{"command":{"title":"⚡ 1.2k/min · p95 38 ms · 0.4% err"}},{"command":{"title":"⚡ 10/min · p95 2.5 ms · 0% err · ≠ prod (1.0.0)"}}]}
# lenses and hovers turned off: empty answers while the figures are there
> {"jsonrpc": "2.0", "method": "workspace/didChangeConfiguration", "params": {"settings": {"hud": {"lens": false, "hover": false}}}}
< {"method":"hud/status","params":{"state":"ok","modules":1}}
> {"jsonrpc": "2.0", "id": 5, "method": "textDocument/codeLens", "params": {"textDocument": {"uri": "file://${ROOT}/layout/shop/db.py"}}}
< {"id":5,"result":[]}
> {"jsonrpc": "2.0", "id": 6, "method": "textDocument/hover", "params": {"textDocument": {"uri": "file://${ROOT}/layout/shop/db.py"}, "position": {"line": 5, "character": 6}}}
< {"id":6,"result":null}
<count 1 {"method":"window/showMessage"}
> {"jsonrpc":"2.0","id":7,"method":"shutdown"}
< {"id":7,"result":null}
> {"jsonrpc":"2.0","method":"exit"}
exit 0
