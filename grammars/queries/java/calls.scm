(method_invocation object: (_)? @callee.object name: (identifier) @callee) @call
(object_creation_expression type: (_) @callee) @call
