# The client goes away (stdin closes) in the middle of a frame: an error frame, then exit code 1.
> {"jsonrpc":"2.0","id":1,"method":"initialize","params":{"capabilities":{}}}
< {"id":1,"result":{}}
>raw Content-Length: 100\r\n\r\n{"jsonrpc":
close
< {"id":null,"error":{"code":-32700,"message":"parse error: input ended inside a frame"}}
exit 1
