; Java: Outer.Inner.method; constructors are <init> (the JVM's name).
(class_declaration name: (identifier) @name body: (_) @body) @class
(interface_declaration name: (identifier) @name body: (_) @body) @class
(enum_declaration name: (identifier) @name body: (_) @body) @class
(record_declaration name: (identifier) @name body: (_) @body) @class
(annotation_type_declaration name: (identifier) @name body: (_) @body) @class
(object_creation_expression (class_body) @body) @class
(enum_constant name: (identifier) @name body: (class_body) @body) @class
(method_declaration name: (identifier) @name body: (block)) @function
(constructor_declaration name: (identifier) @name) @function
(compact_constructor_declaration name: (identifier) @name) @function
