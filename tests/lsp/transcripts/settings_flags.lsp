# hud-lsp's own command-line flags win over the editor's initializationOptions (which point at a
# backend that is down here): the figures come from the flags' backend.
args --url ${URL} --key ${KEY}
> {"jsonrpc":"2.0","id":1,"method":"initialize","params":{"capabilities":{},"rootUri":"file://${ROOT}","initializationOptions":{"url":"${DOWN_URL}","key":"wrong","service":"shop","window":"2h"}}}
< {"id":1,"result":{}}
> {"jsonrpc":"2.0","method":"initialized","params":{}}
> {"jsonrpc":"2.0","method":"textDocument/didOpen","params":{"textDocument":{"uri":"file://${ROOT}/shop/db.py","languageId":"python","version":1,"text":"def fetch_order(order_id):\n    return order_id\n"}}}
< {"method":"hud/status","params":{"state":"ok","url":"${URL}","modules":1}}
# the window option still applies (2 h): 72000 calls over 120 minutes
> {"jsonrpc":"2.0","id":2,"method":"textDocument/codeLens","params":{"textDocument":{"uri":"file://${ROOT}/shop/db.py"}}}
< {"id":2,"result":[{"range":{"start":{"line":0,"character":4}},"command":{"title":"⚡ 600/min · p95 38 ms · 0.4% err · ≠ prod (1.0.0)"}}]}
> {"jsonrpc":"2.0","id":3,"method":"shutdown"}
< {"id":3,"result":null}
> {"jsonrpc":"2.0","method":"exit"}
exit 0
