; Python definitions: qualnames follow CPython 3.11 (compile.c compiler_set_qualname).
(decorated_definition
  definition: (function_definition name: (identifier) @name body: (block) @body) @function) @decorated
(function_definition name: (identifier) @name body: (block) @body) @function
(decorated_definition
  definition: (class_definition name: (identifier) @name body: (block) @body) @class) @decorated
(class_definition name: (identifier) @name body: (block) @body) @class
(lambda body: (_) @body) @lambda

; Error recovery can leave a definition without its block: the whole node is then its inside.
(function_definition name: (identifier) @name) @function
(class_definition name: (identifier) @name) @class

; A comprehension is its own scope in 3.11, except its first iterable.
(list_comprehension body: (_) . (for_in_clause) @hole) @comprehension
(set_comprehension body: (_) . (for_in_clause) @hole) @comprehension
(dictionary_comprehension body: (_) . (for_in_clause) @hole) @comprehension
(generator_expression body: (_) . (for_in_clause) @hole) @comprehension
(list_comprehension) @comprehension
(set_comprehension) @comprehension
(dictionary_comprehension) @comprehension
(generator_expression) @comprehension

(global_statement (identifier) @global)

; Error recovery: a class header left loose in an ERROR node still names its methods
; (the extent is taken from the indentation, see idx_orphan_class_end).
(ERROR "class" @orphan.class . (identifier) @name)
(ERROR "class" @orphan.class . (call function: (identifier) @name))
