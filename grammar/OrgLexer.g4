// The OrgOS language: tokens.
// Comments go to the COMMENTS channel (not skipped) so that `orgctl fmt` can put them back where they were.
// Literal tokens that carry units (money, durations, percentages, dates) are lexed whole, so the parser
// never has to guess whether "10 USD" is a number followed by a name.
lexer grammar OrgLexer;

channels { COMMENTS }

// ---- keywords (words the parser needs to find structure; most can still be used as names, see
// `ident` in OrgParser.g4) ----
PACKAGE: 'package';
VERSION: 'version';
IMPORT: 'import';
AS: 'as';
ORG: 'org';
PURPOSE: 'purpose';
LEGAL_FORM: 'legal_form';
JURISDICTION: 'jurisdiction';
CURRENCY: 'currency';
UNITS: 'units';
POSITION: 'position';
HELD: 'held';
OWNS: 'owns';
CONTROLS: 'controls';
MANAGES: 'manages';
LICENSES: 'licenses';
IP: 'ip';
TO: 'to';
FROM: 'from';
ROLE: 'role';
EXTENDS: 'extends';
MAY: 'may';
SCOPE: 'scope';
RECORD: 'record';
ENUM: 'enum';
CHECK: 'check';
EVENT: 'event';
PROCESS: 'process';
TASK: 'task';
APPROVAL: 'approval';
BY: 'by';
OF: 'of';
QUORUM: 'quorum';
MAJORITY: 'majority';
UNANIMOUS: 'unanimous';
WITHIN: 'within';
ESCALATE: 'escalate';
OUTCOMES: 'outcomes';
RETURNS: 'returns';
EMIT: 'emit';
CREATE: 'create';
UPDATE: 'update';
SET: 'set';
CALL: 'call';
RUN: 'run';
NOTIFY: 'notify';
WAIT: 'wait';
FOR: 'for';
UNTIL: 'until';
IF: 'if';
ELSE: 'else';
SWITCH: 'switch';
CASE: 'case';
PARALLEL: 'parallel';
JOIN: 'join';
ALL: 'all';
ANY: 'any';
BRANCH: 'branch';
EACH: 'each';
IN: 'in';
MAX: 'max';
COMPENSATE: 'compensate';
ON: 'on';
FAILURE: 'failure';
TIMEOUT: 'timeout';
FAIL: 'fail';
COMPLETE: 'complete';
LET: 'let';
LIFECYCLE: 'lifecycle';
INITIAL: 'initial';
STATE: 'state';
FINAL: 'final';
TRANSITION: 'transition';
RULE: 'rule';
SALIENCE: 'salience';
WHEN: 'when';
THEN: 'then';
WHERE: 'where';
NOT: 'not';
EXISTS: 'exists';
INSERT: 'insert';
DERIVE: 'derive';
MODIFY: 'modify';
RETRACT: 'retract';
START: 'start';
SIGNAL: 'signal';
TABLE: 'table';
HIT: 'hit';
UNIQUE: 'unique';
FIRST: 'first';
PRIORITY: 'priority';
COLLECT: 'collect';
INPUT: 'input';
OUTPUT: 'output';
POLICY: 'policy';
PERMIT: 'permit';
FORBID: 'forbid';
METRIC: 'metric';
OVER: 'over';
TARGET: 'target';
WARN: 'warn';
ALERT: 'alert';
TEMPLATE: 'template';
CONNECTOR: 'connector';
OP: 'op';
PEER: 'peer';
AT: 'at';
KEY: 'key';
AGREEMENT: 'agreement';
WITH: 'with';
SEND: 'send';
RECEIVE: 'receive';
SHARE: 'share';
FN: 'fn';
AND: 'and';
OR: 'or';
IS: 'is';
TRUE: 'true';
FALSE: 'false';
NONE: 'none';

// ---- punctuation ----
LBRACE: '{';
RBRACE: '}';
LPAREN: '(';
RPAREN: ')';
LBRACK: '[';
RBRACK: ']';
LT: '<';
GT: '>';
LE: '<=';
GE: '>=';
EQ: '==';
NE: '!=';
ASSIGN: '=';
ARROW: '->';
FATARROW: '=>';
COALESCE: '??';
QDOT: '?.';
QUESTION: '?';
DOTDOT: '..';
DOT: '.';
COMMA: ',';
COLON: ':';
SEMI: ';';
PIPE2: '||';
PIPE: '|';
PLUS: '+';
MINUS: '-';
STAR: '*';
SLASH: '/';
PERCENT_SIGN: '%';

// ---- literals ----
// 2026-01-31
DATE: DIGIT DIGIT DIGIT DIGIT '-' DIGIT DIGIT '-' DIGIT DIGIT;
// 10_000 USD, 12.50 EUR — a number and an ISO 4217 code (checked against the known codes by sema)
MONEY: NUMBER_BODY [ \t]* [A-Z] [A-Z] [A-Z];
// 2d, 3h, 30m, 45s, 1w
DURATION: DIGITS ('w' | 'd' | 'h' | 'm' | 's');
// 60%
PERCENT: NUMBER_BODY '%';
DECIMAL: DIGITS '.' DIGITS;
INT: DIGITS;
STRING: '"' (~["\\\r\n] | '\\' .)* '"';
// A string without its closing quote: lexed as one token so the error can say so.
UNTERMINATED_STRING: '"' (~["\\\r\n] | '\\' .)*;

ID: [a-zA-Z_] [a-zA-Z0-9_]*;

LINE_COMMENT: '//' ~[\r\n]* -> channel(COMMENTS);
BLOCK_COMMENT: '/*' .*? '*/' -> channel(COMMENTS);
UNTERMINATED_COMMENT: '/*' (~'*' | '*'+ ~[*/])* '*'* EOF;
WS: [ \t\r\n]+ -> channel(HIDDEN);

// Anything else is one bad character: the parser reports it with its position instead of the lexer
// printing to stderr.
ERROR_CHAR: .;

fragment DIGIT: [0-9];
fragment DIGITS: DIGIT (DIGIT | '_')*;
fragment NUMBER_BODY: DIGITS ('.' DIGITS)?;
