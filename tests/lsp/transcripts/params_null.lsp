# "params": null counts as no params (Emacs's jsonrpc.el sends shutdown and exit so); other scalars
# are still an invalid request.
> {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"processId": null, "capabilities": {}}}
< {"id":1,"result":{}}
> {"jsonrpc":"2.0","method":"initialized","params":null}
> {"jsonrpc":"2.0","id":2,"method":"shutdown","params":7}
< {"id":2,"error":{"code":-32600}}
> {"jsonrpc":"2.0","id":3,"method":"shutdown","params":null}
< {"id":3,"result":null}
> {"jsonrpc":"2.0","method":"exit","params":null}
exit 0
