// Protocol Buffers' text format (what protobuf's TextFormat / text_format writes and reads: Caffe's .prototxt,
// TensorFlow's .pbtxt). The grammar knows no schema: field names and value kinds are checked against the message's
// descriptor by the reader (frontend/Protobuf). The C# parser is generated from this file at build time.
grammar ProtoText;

// ============================================================================ parser

textMessage : field* EOF ;

// `name: value`, `name { ... }`, `name: { ... }`, `name < ... >`, `name: [a, b]`, `name [{...}, {...}]`; each may end with `,` or `;`.
field
    : fieldName ( ':' value | block | list ) ( ',' | ';' )?
    ;

// A plain field name, or `[pkg.extension]` / `[type.googleapis.com/pkg.Message]` (extensions and Any: refused by the reader).
fieldName
    : IDENT                                       # plainName
    | '[' qualifiedName ( '/' qualifiedName )? ']' # bracketedName
    ;
qualifiedName : IDENT ( '.' IDENT )* ;

value : scalar | block | list ;

block
    : open='{' field* close='}'
    | open='<' field* close='>'
    ;

list     : '[' ( listItem ( ',' listItem )* )? ']' ;
listItem : scalar | block ;

// Adjacent strings concatenate ("ab" "cd" is "abcd"); a sign may precede a number or inf/nan.
scalar
    : STRING+                             # stringScalar
    | sign='-'? number=( INTEGER | FLOAT ) # numberScalar
    | sign='-'? IDENT                     # identScalar
    ;

// ============================================================================ lexer

IDENT : [a-zA-Z_] [a-zA-Z0-9_]* ;

// Decimal, octal (leading 0) and hex integers; the reader decides which the field takes.
INTEGER : '0' [xX] HEX_DIGIT+ | DIGIT+ ;

// 1.5, 1., .5, 1e5, 1.5e-3, each with an optional f/F; and 1f.
FLOAT
    : ( DIGIT+ '.' DIGIT* EXPONENT? | '.' DIGIT+ EXPONENT? | DIGIT+ EXPONENT ) [fF]?
    | DIGIT+ [fF]
    ;

// Escapes are checked by the reader, which reports a bad one at its own column.
STRING
    : '"' ( ~["\\\r\n] | '\\' ~[\r\n] )* '"'
    | '\'' ( ~['\\\r\n] | '\\' ~[\r\n] )* '\''
    ;

// A string the line ends before it closes: a token of its own, so the error says so.
UNTERMINATED_STRING
    : '"' ( ~["\\\r\n] | '\\' ~[\r\n] )* '\\'?
    | '\'' ( ~['\\\r\n] | '\\' ~[\r\n] )* '\\'?
    ;

COMMENT : '#' ~[\r\n]* -> skip ;
WS      : [ \t\r\n\f\u000B\uFEFF]+ -> skip ; // a byte-order mark too

fragment DIGIT     : [0-9] ;
fragment HEX_DIGIT : [0-9a-fA-F] ;
fragment EXPONENT  : [eE] [+-]? DIGIT+ ;

// Anything else: a token of its own, so the parser reports it with its position.
UNEXPECTED_CHAR : . ;
