# initialize answers the capabilities (UTF-16 when the client offers nothing else), shutdown answers
# null, then only exit is accepted and exit after shutdown ends with code 0.
> {"jsonrpc":"2.0","id":1,"method":"initialize","params":{"processId":null,"rootUri":"file://${ROOT}","capabilities":{},"initializationOptions":{"url":"${URL}","key":"${KEY}","service":"shop"}}}
< {"jsonrpc":"2.0","id":1,"result":{"capabilities":{"positionEncoding":"utf-16","textDocumentSync":{"openClose":true,"change":2},"codeLensProvider":{"resolveProvider":false},"hoverProvider":true},"serverInfo":{"name":"hud-lsp"}}}
> {"jsonrpc":"2.0","method":"initialized","params":{}}
# initialize twice is refused
> {"jsonrpc":"2.0","id":2,"method":"initialize","params":{"capabilities":{}}}
< {"id":2,"error":{"code":-32600,"message":"initialize was already received"}}
> {"jsonrpc":"2.0","id":"s-3","method":"shutdown"}
< {"jsonrpc":"2.0","id":"s-3","result":null}
# after shutdown: requests are invalid, notifications dropped
> {"jsonrpc":"2.0","id":4,"method":"textDocument/codeLens","params":{"textDocument":{"uri":"file://${ROOT}/x.py"}}}
< {"id":4,"error":{"code":-32600}}
> {"jsonrpc":"2.0","method":"textDocument/didOpen","params":{"textDocument":{"uri":"file://${ROOT}/x.py","languageId":"python","version":1,"text":"def f():\n    pass\n"}}}
> {"jsonrpc":"2.0","method":"exit"}
exit 0
