; JavaScript definitions; naming rules: docs/protocol.md "Function naming for JavaScript and TypeScript".
; Own names first: `const a = function b() {}` is `b`, as V8 names it.
(function_declaration name: (_) @name) @function
(generator_function_declaration name: (_) @name) @function
(function_expression name: (_) @name) @function
(generator_function name: (_) @name) @function
(method_definition name: (_) @name) @function

; Default exports are named `default`.
(export_statement "default" @name value: [(function_expression) (arrow_function) (generator_function)] @function)
(export_statement "default" @name declaration: [(function_declaration) (generator_function_declaration)] @function)
(export_statement "default" @name value: (class body: (class_body) @body) @class)

; Functions bound to a name.
(variable_declarator name: (identifier) @name
  value: [(function_expression) (arrow_function) (generator_function)] @function)
(assignment_expression left: [(identifier) (member_expression)] @name
  right: [(function_expression) (arrow_function) (generator_function)] @function)
(pair key: (_) @name value: [(function_expression) (arrow_function) (generator_function)] @function)
(field_definition property: (_) @name value: [(function_expression) (arrow_function) (generator_function)] @function)

; Naming scopes.
(class_declaration name: (_) @name body: (class_body) @body) @class
(class name: (_) @name body: (class_body) @body) @class
(variable_declarator name: (identifier) @name value: (class body: (class_body) @body) @class)
(assignment_expression left: [(identifier) (member_expression)] @name right: (class body: (class_body) @body) @class)
(class body: (class_body) @body) @class
(variable_declarator name: (identifier) @name value: (object) @object)
(assignment_expression left: [(identifier) (member_expression)] @name right: (object) @object)
(pair key: (_) @name value: (object) @object)

; Everything else that runs is an anonymous function.
[(function_expression) (arrow_function) (generator_function)] @lambda
