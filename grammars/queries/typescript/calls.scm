(call_expression function: (_) @callee) @call
(new_expression constructor: (_) @callee) @call
