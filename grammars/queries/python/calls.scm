(call function: (_) @callee) @call
