// The .mir text: MLIR's generic operation form, plus the three custom forms that mlir-opt
// always prints (module, func.func, func.return), location aliases, and the resource trailer.
// See ../shared/design/ir-text.md. The C# parser is generated from this file at build time.
grammar Mir;

// ============================================================================ parser

mirFile : topLevelItem* EOF ;

topLevelItem
    : operation
    | aliasDefinition
    | fileMetadata
    ;

// `#loc3 = loc("x")` (what --mlir-print-debuginfo writes) and `!t = type`, `#a = attr`.
aliasDefinition
    : HASH_ID '=' location        # locationAlias
    | HASH_ID '=' attribute       # attributeAlias
    | BANG_ID '=' type            # typeAlias
    ;

// ---------------------------------------------------------------------------- operations

operation
    : moduleOp
    | funcOp
    | returnOp
    | opResultList? genericOp
    ;

opResultList : opResult (',' opResult)* '=' ;
opResult     : VALUE_ID (':' INTEGER)? ;

genericOp
    : STRING '(' valueUseList? ')' propertyDict? regionList? attributeDict? ':' functionType trailingLocation?
    ;

propertyDict : '<' attributeDict '>' ;
regionList   : '(' region (',' region)* ')' ;
region       : '{' operation* block* '}' ;
block        : blockLabel operation* ;
blockLabel   : CARET_ID ('(' blockArgument (',' blockArgument)* ')')? ':' ;
blockArgument: VALUE_ID ':' type trailingLocation? ;

valueUseList : valueUse (',' valueUse)* ;
valueUse     : VALUE_ID ;

// `module @name attributes {...} { ... }`
moduleOp
    : 'module' SYMBOL_ID? ('attributes' attributeDict)? '{' operation* '}' trailingLocation?
    ;

// `func.func [private] @main(%a: T {attrs}, ...) -> (T {attrs}, ...) attributes {...} { ... }`
funcOp
    : 'func.func' bareId? SYMBOL_ID '(' funcArguments? ')' funcResults? ('attributes' attributeDict)? funcBody? trailingLocation?
    ;
funcArguments : funcArgument (',' funcArgument)* ;
// A declaration (no body) lists bare types: `func.func private @f(tensor<2xf32>) -> tensor<2xf32>`.
funcArgument  : (VALUE_ID ':')? type attributeDict? trailingLocation? ;
funcResults
    : '->' '(' (funcResult (',' funcResult)*)? ')'
    | '->' nonFunctionType
    ;
funcResult : type attributeDict? ;
funcBody   : '{' operation* block* '}' ;

// `return %a, %b : T, T` (the pretty form of func.return)
returnOp
    : ('return' | 'func.return') (valueUseList ':' typeList)? trailingLocation?
    ;

// ---------------------------------------------------------------------------- locations

trailingLocation : 'loc' '(' locationBody ')' ;
location         : 'loc' '(' locationBody ')' ;

locationBody
    : 'unknown'                                                              # unknownLoc
    | STRING ':' INTEGER ':' INTEGER                                         # fileLineColLoc
    | STRING ('(' locationBody ')')?                                         # nameLoc
    | 'fused' ('<' attribute '>')? '[' (locationBody (',' locationBody)*)? ']' # fusedLoc
    | 'callsite' '(' locationBody 'at' locationBody ')'                      # callSiteLoc
    | HASH_ID                                                                # aliasLoc
    ;

// ---------------------------------------------------------------------------- attributes

attributeDict : '{' (namedAttribute (',' namedAttribute)*)? '}' ;
namedAttribute: (bareId | STRING) ('=' attribute)? ;

attribute
    : literal (':' type)?                                                    # literalAttr
    | 'true'                                                                 # trueAttr
    | 'false'                                                                # falseAttr
    | 'unit'                                                                 # unitAttr
    | '[' (attribute (',' attribute)*)? ']'                                  # arrayAttr
    | 'array' '<' elementTypeName (':' arrayElement (',' arrayElement)*)? '>' # denseArrayAttr
    | 'dense' '<' denseLiteral? '>' ':' type                                 # denseAttr
    | 'dense_resource' '<' (bareId | STRING) '>' ':' type                    # denseResourceAttr
    | attributeDict                                                          # dictAttr
    | SYMBOL_ID ('::' SYMBOL_ID)*                                            # symbolRefAttr
    | type                                                                   # typeAttr
    | HASH_ID                                                                # aliasAttr
    ;

literal
    : STRING
    | signedNumber
    ;

signedNumber : '-'? (INTEGER | FLOAT | HEX_INTEGER) ;

arrayElement : signedNumber | 'true' | 'false' ;

// `dense<1.0>`, `dense<[[1, 2], [3, 4]]>`, `dense<"0x0A0B">`, `dense<true>`
denseLiteral
    : STRING
    | denseElement
    ;
denseElement
    : '[' (denseElement (',' denseElement)*)? ']'
    | signedNumber
    | 'true'
    | 'false'
    | '(' signedNumber ',' signedNumber ')'
    ;

// ---------------------------------------------------------------------------- types

type
    : nonFunctionType
    | functionType
    ;

nonFunctionType
    : tensorType
    | elementTypeName
    | BANG_ID ('<' opaqueBody* '>')?
    ;

// `tensor<1x3x?xf32>`, `tensor<*xf32>`, `tensor<f32>`, `tensor<0xf32>` (lexed as hex, split later)
tensorType
    : 'tensor' '<' shapePrefix? elementTypeName (',' attribute)? '>'
    | 'tensor' '<' HEX_INTEGER (',' attribute)? '>'
    ;
shapePrefix
    : DIMS
    | UNRANKED
    ;

elementTypeName : BARE_ID ;

functionType
    : '(' typeList? ')' '->' functionResultTypes
    ;
functionResultTypes
    : '(' typeList? ')'
    | nonFunctionType
    ;
typeList : type (',' type)* ;

// Anything balanced inside a dialect type's angle brackets (`!onnx.Seq<tensor<f32>>`).
opaqueBody
    : '<' opaqueBody* '>'
    | ~('<' | '>')
    ;

// Keywords are ordinary names wherever a name is expected.
bareId
    : BARE_ID
    | 'module' | 'attributes' | 'return' | 'loc' | 'unknown' | 'fused' | 'callsite' | 'at'
    | 'true' | 'false' | 'unit' | 'array' | 'dense' | 'dense_resource' | 'tensor'
    ;

// ---------------------------------------------------------------------------- resource trailer

// {-# dialect_resources: { builtin: { key: "0x<alignment><bytes>" } } #-}
fileMetadata : '{-#' (metadataSection (',' metadataSection)*)? '#-}' ;
metadataSection : bareId ':' '{' (resourceGroup (',' resourceGroup)*)? '}' ;
resourceGroup   : bareId ':' '{' (resourceEntry (',' resourceEntry)*)? '}' ;
resourceEntry   : (bareId | STRING) ':' resourceValue ;
resourceValue   : STRING | 'true' | 'false' ;

// ============================================================================ lexer

FILE_METADATA_BEGIN : '{-#' ;
FILE_METADATA_END   : '#-}' ;
ARROW               : '->' ;
DOUBLE_COLON        : '::' ;

// `1x3x?x`: the dimension list of a ranked tensor type, up to its element type.
DIMS     : (DIGIT+ | '?') 'x' ((DIGIT+ | '?') 'x')* ;
UNRANKED : '*x' ;

HEX_INTEGER : '0x' HEX_DIGIT+ ;
FLOAT       : DIGIT+ '.' DIGIT* ([eE] [+-]? DIGIT+)? ;
INTEGER     : DIGIT+ ;

// Strings are byte sequences; a blob's hex string is read by the lexer's fast path (MirLexer.cs).
STRING : '"' (~["\\\r\n] | '\\' .)* '"' ;

VALUE_ID  : '%' SUFFIX_ID ('#' DIGIT+)? ;
SYMBOL_ID : '@' (SUFFIX_ID | STRING) ;
CARET_ID  : '^' SUFFIX_ID ;
HASH_ID   : '#' SUFFIX_ID ;
BANG_ID   : '!' [a-zA-Z_] [a-zA-Z0-9_$.]* ;

BARE_ID : [a-zA-Z_] [a-zA-Z0-9_$.]* ;

LINE_COMMENT : '//' ~[\r\n]* -> channel(HIDDEN) ;
WS           : [ \t\r\n]+ -> channel(HIDDEN) ;

// Anything else is one character the parser will refuse with a clear message.
UNEXPECTED_CHAR : . ;

fragment DIGIT     : [0-9] ;
fragment HEX_DIGIT : [0-9a-fA-F] ;
fragment SUFFIX_ID : DIGIT+ | [a-zA-Z$._-] [a-zA-Z0-9$._-]* ;
