# Requests before initialize: ServerNotInitialized; notifications before it are dropped; exit is
# always accepted. Unknown methods: MethodNotFound for requests, ignored for notifications.
> {"jsonrpc":"2.0","id":1,"method":"textDocument/hover","params":{"textDocument":{"uri":"file:///a.py"},"position":{"line":0,"character":0}}}
< {"jsonrpc":"2.0","id":1,"error":{"code":-32002,"message":"server not initialized: send initialize first"}}
> {"jsonrpc":"2.0","id":2,"method":"shutdown"}
< {"id":2,"error":{"code":-32002}}
> {"jsonrpc":"2.0","method":"textDocument/didOpen","params":{"textDocument":{"uri":"file:///a.py","languageId":"python","version":1,"text":""}}}
> {"jsonrpc":"2.0","id":3,"method":"initialize","params":{"capabilities":{"general":{"positionEncodings":["utf-8","utf-16"]}}}}
< {"id":3,"result":{"capabilities":{"positionEncoding":"utf-8"}}}
> {"jsonrpc":"2.0","method":"initialized","params":{}}
# the didOpen before initialize was dropped: the document is unknown
> {"jsonrpc":"2.0","id":4,"method":"textDocument/codeLens","params":{"textDocument":{"uri":"file:///a.py"}}}
< {"id":4,"error":{"code":-32602,"message":"codeLens: file:///a.py is not open (send didOpen first)"}}
> {"jsonrpc":"2.0","id":5,"method":"workspace/willRenameFiles","params":{"files":[]}}
< {"id":5,"error":{"code":-32601,"message":"method not found: workspace/willRenameFiles"}}
> {"jsonrpc":"2.0","method":"$/progress","params":{"token":1,"value":{}}}
> {"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":5}}
> {"jsonrpc":"2.0","method":"$/setTrace","params":{"value":"verbose"}}
> {"jsonrpc":"2.0","id":6,"method":"shutdown"}
< {"id":6,"result":null}
# nothing but the answers above: unknown notifications produced no frame
<count 0 {"id":null}
> {"jsonrpc":"2.0","method":"exit"}
exit 0
