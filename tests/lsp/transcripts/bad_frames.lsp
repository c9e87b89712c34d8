# Malformed input gets clear errors and never stops the server.
> {"jsonrpc":"2.0","id":1,"method":"initialize","params":{"capabilities":{}}}
< {"id":1,"result":{}}
# not JSON
>raw Content-Length: 9\r\n\r\n{not json
< {"jsonrpc":"2.0","id":null,"error":{"code":-32700}}
# JSON, but not a request object
>raw Content-Length: 7\r\n\r\n[1,2,3]
< {"id":null,"error":{"code":-32600,"message":"invalid request: a message must be a JSON object (batches are not used by LSP)"}}
>raw Content-Length: 34\r\n\r\n{"id":7,"method":"shutdown"}      
< {"id":7,"error":{"code":-32600,"message":"invalid request: \"jsonrpc\" must be \"2.0\""}}
> {"jsonrpc":"2.0","id":{"x":1},"method":"shutdown"}
< {"id":null,"error":{"code":-32600,"message":"invalid request: \"id\" must be an integer or a string"}}
> {"jsonrpc":"2.0","id":8,"method":"shutdown","params":"x"}
< {"id":8,"error":{"code":-32600}}
> {"jsonrpc":"2.0","id":9,"method":42}
< {"id":9,"error":{"code":-32600}}
# headers: no Content-Length, a bad one, a body over the 64 MiB limit (skipped without buffering)
>raw Content-Type: application/json\r\n\r\n
< {"id":null,"error":{"code":-32700,"message":"parse error: header block without Content-Length; frame skipped"}}
>raw Content-Length: -5\r\n\r\n
< {"id":null,"error":{"code":-32700,"message":"parse error: Content-Length is not a decimal number of at most 15 digits; frame skipped"}}
>raw garbage without a colon\r\n\r\n
< {"id":null,"error":{"code":-32700,"message":"parse error: malformed header line (no ':'); frame skipped"}}
>huge 70000000
< {"id":null,"error":{"code":-32700,"message":"parse error: frame of 70000000 bytes is over the limit of 67108864 bytes; skipped"}}
# invalid params: a request gets InvalidParams, a notification a log line
> {"jsonrpc":"2.0","id":10,"method":"textDocument/hover","params":{"textDocument":{"uri":"file:///a.py"}}}
< {"id":10,"error":{"code":-32602,"message":"invalid params: missing or invalid 'position'"}}
> {"jsonrpc":"2.0","method":"textDocument/didOpen","params":{"textDocument":{"uri":"file:///a.py"}}}
< {"method":"window/logMessage","params":{"type":2,"message":"textDocument/didOpen: invalid params: missing or invalid 'textDocument.text'"}}
# a response from the client to nothing we sent is ignored
> {"jsonrpc":"2.0","id":99,"result":null}
# a method name of 120 CJK characters: the error message is cut mid-character, still valid UTF-8
> {"jsonrpc": "2.0", "id": 12, "method": "中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中"}
< {"id":12,"error":{"code":-32601}}
# still serving
> {"jsonrpc":"2.0","id":11,"method":"shutdown"}
< {"id":11,"result":null}
> {"jsonrpc":"2.0","method":"exit"}
exit 0
