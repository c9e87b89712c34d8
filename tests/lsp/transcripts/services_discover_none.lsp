# No service configured and none of the key's services has data for the open file: unconfigured, and
# hud.explain says that no service of the key has data for these files.
> {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"processId": null, "workspaceFolders": [{"uri": "file://${ROOT}/nodisc", "name": "nodisc"}], "capabilities": {}, "initializationOptions": {"url": "${URL}", "key": "${KEY}"}}}
< {"id":1,"result":{}}
> {"jsonrpc":"2.0","method":"initialized","params":{}}
< {"method":"hud/status","params":{"state":"unconfigured"}}
> {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {"uri": "file://${ROOT}/nodisc/zz/nothing_known.py", "languageId": "python", "version": 1, "text": "def nothing():\n    pass\n"}}}
< {"method":"hud/status","params":{"state":"unconfigured","message":"no service configured, and no service of the key has data for these files (6 asked); set `service` or `services` in initializationOptions"}}
> {"jsonrpc": "2.0", "id": 2, "method": "workspace/executeCommand", "params": {"command": "hud.explain", "arguments": ["file://${ROOT}/nodisc/zz/nothing_known.py"]}}
< {"id":2,"result":{"reason":"unconfigured","message":"no service configured, and no service of the key has data for the files of this folder (zz/nothing_known.py); set `service` or `services` in initializationOptions"}}
> {"jsonrpc":"2.0","id":7,"method":"shutdown"}
< {"id":7,"result":null}
> {"jsonrpc":"2.0","method":"exit"}
exit 0
