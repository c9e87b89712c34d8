; TypeScript and TSX definitions: the JavaScript rules plus TypeScript's class forms.
; Declarations without a body (overload signatures, abstract methods, `declare function`)
; are not functions.
(function_declaration name: (_) @name body: (_)) @function
(generator_function_declaration name: (_) @name body: (_)) @function
(function_expression name: (_) @name) @function
(generator_function name: (_) @name) @function
(method_definition name: (_) @name body: (_)) @function

(export_statement "default" @name value: [(function_expression) (arrow_function) (generator_function)] @function)
(export_statement "default" @name declaration: [(function_declaration) (generator_function_declaration)] @function)
(export_statement "default" @name value: (class body: (class_body) @body) @class)

(variable_declarator name: (identifier) @name
  value: [(function_expression) (arrow_function) (generator_function)] @function)
(assignment_expression left: [(identifier) (member_expression)] @name
  right: [(function_expression) (arrow_function) (generator_function)] @function)
(pair key: (_) @name value: [(function_expression) (arrow_function) (generator_function)] @function)
(public_field_definition name: (_) @name value: [(function_expression) (arrow_function) (generator_function)] @function)

(class_declaration name: (_) @name body: (class_body) @body) @class
(abstract_class_declaration name: (_) @name body: (class_body) @body) @class
(class name: (_) @name body: (class_body) @body) @class
(variable_declarator name: (identifier) @name value: (class body: (class_body) @body) @class)
(assignment_expression left: [(identifier) (member_expression)] @name right: (class body: (class_body) @body) @class)
(class body: (class_body) @body) @class
(internal_module name: (_) @name body: (statement_block) @body) @class
(variable_declarator name: (identifier) @name value: (object) @object)
(assignment_expression left: [(identifier) (member_expression)] @name right: (object) @object)
(pair key: (_) @name value: (object) @object)

[(function_expression) (arrow_function) (generator_function)] @lambda
