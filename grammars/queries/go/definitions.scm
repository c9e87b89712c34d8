; Go: names as the runtime prints them without the package path.
(function_declaration name: (identifier) @name body: (block)) @function
(method_declaration
  receiver: (parameter_list (parameter_declaration type: (_) @receiver))
  name: (field_identifier) @name body: (block)) @function
(func_literal) @lambda
