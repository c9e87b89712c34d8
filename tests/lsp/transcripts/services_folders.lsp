# `services` (docs/lsp.md "Settings"): a service per workspace folder, named by the folder's URI or its
# name or its path relative to the first folder (vendor/inv2, nested in it), over `service` (market, which has neither file). Each folder's by-module request asks its own service: shopws/shop/db.py gets shop's figures,
# stockws/inv/stock.py stock's (test_lsp.c's fixture).
> {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"processId": null, "workspaceFolders": [{"uri": "file://${ROOT}/sf/shopws", "name": "shopws"}, {"uri": "file://${ROOT}/sf/stockws", "name": "stockws"}, {"uri": "file://${ROOT}/sf/shopws/vendor/inv2", "name": "inv2"}], "capabilities": {}, "initializationOptions": {"url": "${URL}", "key": "${KEY}", "service": "market", "services": {"file://${ROOT}/sf/shopws": "shop", "stockws": "stock", "vendor/inv2": "stock"}}}}
< {"id":1,"result":{}}
> {"jsonrpc":"2.0","method":"initialized","params":{}}
> {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {"uri": "file://${ROOT}/sf/shopws/shop/db.py", "languageId": "python", "version": 1, "text": "def fetch_items(order_id):\n    return []\n"}}}
> {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {"uri": "file://${ROOT}/sf/stockws/inv/stock.py", "languageId": "python", "version": 1, "text": "def reserve(item):\n    return item\n"}}}
> {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {"uri": "file://${ROOT}/sf/shopws/vendor/inv2/inv/stock.py", "languageId": "python", "version": 1, "text": "def reserve(item):\n    return item\n"}}}
< {"method":"hud/status","params":{"state":"ok","service":"shop, stock","modules":3}}
> {"jsonrpc": "2.0", "id": 21, "method": "textDocument/codeLens", "params": {"textDocument": {"uri": "file://${ROOT}/sf/shopws/vendor/inv2/inv/stock.py"}}}
< {"id":21,"result":[{"command":{"title":"⚡ 20/min · p95 3 ms · 0% err · ≠ prod (3.0.0)"}}]}
> {"jsonrpc": "2.0", "id": 2, "method": "textDocument/codeLens", "params": {"textDocument": {"uri": "file://${ROOT}/sf/shopws/shop/db.py"}}}
< {"id":2,"result":[{"command":{"title":"⚡ 10/min · p95 2.5 ms · 0% err · ≠ prod (1.0.0)"}}]}
> {"jsonrpc": "2.0", "id": 3, "method": "textDocument/codeLens", "params": {"textDocument": {"uri": "file://${ROOT}/sf/stockws/inv/stock.py"}}}
< {"id":3,"result":[{"command":{"title":"⚡ 20/min · p95 3 ms · 0% err · ≠ prod (3.0.0)"}}]}
> {"jsonrpc": "2.0", "id": 4, "method": "textDocument/hover", "params": {"textDocument": {"uri": "file://${ROOT}/sf/stockws/inv/stock.py"}, "position": {"line": 0, "character": 6}}}
< {"id":4,"result":{"contents":{"kind":"markdown","value":"**reserve** — production, last 1h (stock)\n\n| | |\n|---|---|\n| calls | 20/min (1.2k in the window) |\n| latency | p50 3 ms · p95 3 ms · p99 3 ms · mean 3 ms |\n| errors | 0% (0 calls) |\n\n_Edited since deployed: the figures describe the deployed code._\n"}}}
# a request about one function goes to the service whose figures hold it (stock's reserve, not market)
> {"jsonrpc": "2.0", "id": 5, "method": "hud/functionDetail", "params": {"textDocument": {"uri": "file://${ROOT}/sf/stockws/inv/stock.py"}, "position": {"line": 0, "character": 6}}}
< {"id":5,"result":{"function":{"name":"reserve"},"figures":{"calls":1200}}}
> {"jsonrpc":"2.0","id":7,"method":"shutdown"}
< {"id":7,"result":null}
> {"jsonrpc":"2.0","method":"exit"}
exit 0
