// The OrgOS language: syntax.
// The parse tree is turned into the project's own AST (compiler/syntax/ast_builder.cpp); nothing past the
// syntax stage sees ANTLR types. Alternatives are labelled so the builder gets one visit method each.
// Newlines are not significant: every construct starts with a keyword, so statements need no separator.
parser grammar OrgParser;

options { tokenVocab = OrgLexer; }

// ---------------------------------------------------------------- files, packages, imports
file: packageDecl? importDecl* declaration* EOF;

packageDecl: PACKAGE qualifiedName (VERSION STRING)?;

// import std.finance                     (names used as finance.X)
// import std.finance as fin              (names used as fin.X)
// import std.finance.{Budget, ledger as l}
// import std.hr.Employee
importDecl: IMPORT qualifiedName (DOT LBRACE importItem (COMMA importItem)* COMMA? RBRACE)? (AS ident)?;
importItem: ident (AS ident)?;

declaration
  : orgDecl
  | roleDecl
  | recordDecl
  | enumDecl
  | eventDecl
  | processDecl
  | lifecycleDecl
  | ruleDecl
  | tableDecl
  | policyDecl
  | metricDecl
  | templateDecl
  | connectorDecl
  | peerDecl
  | agreementDecl
  | functionDecl
  ;

// ---------------------------------------------------------------- org
orgDecl: ORG ident (FROM typeRef argList?)? LBRACE orgItem* RBRACE;

orgItem
  : PURPOSE ident                                                   # orgPurpose
  | LEGAL_FORM ident                                                # orgLegalForm
  | JURISDICTION STRING                                             # orgJurisdiction
  | CURRENCY ident                                                  # orgCurrency
  | UNITS LBRACE unitDecl* RBRACE                                   # orgUnits
  | POSITION ident COLON typeRef (IN qualifiedName)? (HELD BY STRING (COMMA STRING)*)?  # orgPosition
  | OWNS typeRef PERCENT                                            # orgOwns
  | CONTROLS typeRef                                                # orgControls
  | MANAGES typeRef                                                 # orgManages
  | LICENSES IP TO typeRef                                          # orgLicenses
  | LIFECYCLE typeRef                                               # orgLifecycle
  ;

// division Engineering { department Platform { team Infra } }
unitDecl: kind=ident name=ident (LBRACE unitDecl* RBRACE)?;

// ---------------------------------------------------------------- roles
roleDecl: ROLE ident (EXTENDS typeRef (COMMA typeRef)*)? (LBRACE roleItem* RBRACE)?;

roleItem
  : MAY action=actionName typeRef? (WHERE expr)?                    # roleGrant
  | SCOPE ident                                                     # roleScope
  ;

// ---------------------------------------------------------------- records, enums, events
recordDecl: RECORD ident LBRACE recordItem* RBRACE;

recordItem
  : fieldDecl                                                       # recordField
  | CHECK expr (COLON STRING)?                                      # recordCheck
  ;

fieldDecl: ident COLON type (ASSIGN expr)? COMMA?;

enumDecl: ENUM ident LBRACE ident (COMMA ident)* COMMA? RBRACE;

eventDecl: EVENT qualifiedName (LBRACE fieldDecl* RBRACE)?;

// Money, Money<USD>, List<Employee>, Date?
type: typeRef (LT type (COMMA type)* GT)? QUESTION?;

// ---------------------------------------------------------------- processes
processDecl: PROCESS ident paramList? LBRACE processItem* RBRACE;

paramList: LPAREN (param (COMMA param)*)? COMMA? RPAREN;
param: ident COLON type (ASSIGN expr)?;

processItem
  : TIMEOUT expr                                                    # processTimeout
  | ON FAILURE block                                                # processOnFailure
  | ON TIMEOUT block                                                # processOnTimeout
  | step                                                            # processStep
  ;

block: LBRACE step* RBRACE;

// A step may carry its own compensation, run in reverse order when the process fails after it.
step: stmt (COMPENSATE block)?;

stmt
  : TASK ident BY assignee taskClause*                              # taskStmt
  | APPROVAL ident? BY assignee approvalClause*                     # approvalStmt
  | EMIT qualifiedName recordLit?                                   # emitStmt
  | CREATE typeRef recordLit (AS ident)?                            # createStmt
  | UPDATE expr recordLit                                           # updateStmt
  | SET expr ASSIGN expr                                            # setStmt
  | CALL qualifiedName argList (AS ident)?                          # callStmt
  | RUN typeRef argList (AS ident)?                                 # runStmt
  | NOTIFY expr expr                                                # notifyStmt
  | WAIT FOR qualifiedName (AS ident)? (WHERE expr)? (WITHIN expr (ON TIMEOUT block)?)?  # waitEventStmt
  | WAIT UNTIL expr                                                 # waitUntilStmt
  | WAIT expr                                                       # waitTimerStmt
  | ifStmt                                                          # ifStep
  | SWITCH expr LBRACE switchCase* (ELSE FATARROW? block)? RBRACE   # switchStmt
  | PARALLEL (JOIN joinKind)? LBRACE parallelBranch* RBRACE         # parallelStmt
  | FOR EACH ident IN expr (IN PARALLEL)? (MAX INT)? block          # forEachStmt
  | LET ident (COLON type)? ASSIGN expr                             # letStmt
  | FAIL expr?                                                      # failStmt
  | COMPLETE                                                        # completeStmt
  | INSERT typeRef recordLit                                        # insertStmt
  | DERIVE typeRef recordLit                                        # deriveStmt
  | MODIFY expr recordLit                                           # modifyStmt
  | RETRACT expr                                                    # retractStmt
  | START typeRef argList                                           # startStmt
  | SIGNAL typeRef (WHERE expr)? WITH qualifiedName recordLit?      # signalStmt
  | qualifiedName argList (AS ident)?                               # bareCallStmt
  ;

// Manager, Manager of x.unit
assignee: typeRef (OF expr)?;

taskClause
  : WITHIN expr                                                     # taskWithin
  | ESCALATE TO assignee                                            # taskEscalate
  | OUTCOMES ident (COMMA ident)*                                   # taskOutcomes
  | RETURNS LBRACE fieldDecl* RBRACE                                # taskReturns
  | ON TIMEOUT block                                                # taskOnTimeout
  ;

approvalClause
  : QUORUM quorum                                                   # approvalQuorum
  | WITHIN expr                                                     # approvalWithin
  | ESCALATE TO assignee                                            # approvalEscalate
  | ON TIMEOUT block                                                # approvalOnTimeout
  ;

// majority, unanimous, 2 of 3, 2, 60%
quorum
  : MAJORITY                                                        # quorumMajority
  | UNANIMOUS                                                       # quorumUnanimous
  | INT (OF INT)?                                                   # quorumCount
  | PERCENT                                                         # quorumPercent
  ;

ifStmt: IF expr block (ELSE (ifStmt | block))?;

switchCase: CASE expr (COMMA expr)* FATARROW? block;

// join all (default), join any, join 2 (= 2 of the branches)
joinKind: ALL | ANY | INT;

parallelBranch
  : BRANCH ident? block                                             # namedBranch
  | step                                                            # stepBranch
  ;

recordLit: LBRACE (fieldInit (COMMA fieldInit)* COMMA?)? RBRACE;
fieldInit: ident COLON expr;

argList: LPAREN (arg (COMMA arg)*)? COMMA? RPAREN;
arg: (ident COLON)? expr;

// ---------------------------------------------------------------- lifecycles
lifecycleDecl: LIFECYCLE ident FOR (ORG | typeRef) LBRACE lifecycleItem* RBRACE;

lifecycleItem
  : INITIAL ident                                                   # lifecycleInitial
  | STATE ident (COMMA ident)*                                      # lifecycleStates
  | FINAL ident (COMMA ident)*                                      # lifecycleFinal
  | TRANSITION ident COLON ident (COMMA ident)* ARROW ident (WHEN expr)? block?  # lifecycleTransition
  ;

// ---------------------------------------------------------------- rules
ruleDecl: RULE ident (SALIENCE signedInt)? WHEN patterns THEN ruleActions;

patterns
  : LBRACE pattern* RBRACE
  | pattern (COMMA pattern)*
  ;

pattern
  : name=ident ASSIGN expr                                          # accumulatePattern
  | (NOT | EXISTS)? qualifiedName ident? (WHERE expr)?              # factPattern
  ;

ruleActions
  : LBRACE step* RBRACE
  | step
  ;

signedInt: MINUS? INT;

// ---------------------------------------------------------------- decision tables
tableDecl: TABLE ident (HIT hitPolicy)? LBRACE tableInputs tableOutputs tableRow* RBRACE;

hitPolicy: UNIQUE | FIRST | PRIORITY | ANY | COLLECT ident?;

tableInputs: INPUT param (COMMA param)*;
tableOutputs: OUTPUT param (COMMA param)*;

// | < 1000 USD | travel, meals || "manager" | 2d |
tableRow: PIPE inputEntry (PIPE inputEntry)* PIPE2 expr (PIPE expr)* PIPE;

inputEntry
  : MINUS                                                           # anyEntry
  | cmpOp expr                                                      # compareEntry
  | expr DOTDOT expr                                                # rangeEntry
  | NOT? expr (COMMA expr)*                                         # valuesEntry
  ;

// ---------------------------------------------------------------- policies, metrics
policyDecl: POLICY ident COLON? effect=(PERMIT | FORBID) (ANY | action=actionName) typeRef? (WHEN expr)?;

// What a command does, in grants and policies: any name, including the words that are step keywords
// (`may start Intake`, `forbid update Contract`).
actionName
  : ident | START | CREATE | UPDATE | COMPLETE | EMIT | RUN | CALL | NOTIFY | SET | INSERT | MODIFY | RETRACT
  | SIGNAL | SEND | RECEIVE | SHARE | APPROVAL | TASK
  ;

metricDecl: METRIC ident (COLON type)? ASSIGN expr metricClause*;

metricClause
  : OVER expr                                                       # metricWindow
  | TARGET cmpOp expr                                               # metricTarget
  | WARN cmpOp expr                                                 # metricWarn
  | ALERT cmpOp expr (EMIT qualifiedName)?                          # metricAlert
  ;

// ---------------------------------------------------------------- templates, connectors, federation, functions
templateDecl: TEMPLATE ident paramList? LBRACE declaration* RBRACE;

connectorDecl: CONNECTOR ident LBRACE connectorOp* RBRACE;
connectorOp: OP ident paramList (ARROW LBRACE fieldDecl* RBRACE)?;

peerDecl: PEER ident (AT STRING)? (KEY STRING)?;

agreementDecl: AGREEMENT ident WITH typeRef LBRACE agreementItem* RBRACE;
agreementItem
  : SEND qualifiedName                                              # agreementSend
  | RECEIVE qualifiedName                                           # agreementReceive
  | SHARE RECORD typeRef                                            # agreementShareRecord
  | SHARE PROCESS typeRef                                           # agreementShareProcess
  ;

functionDecl: FN ident paramList ARROW type ASSIGN expr;

// ---------------------------------------------------------------- expressions
expr
  : primary                                                         # primaryExpr
  | expr DOT ident                                                  # fieldExpr
  | expr QDOT ident                                                 # optFieldExpr
  | expr argList                                                    # callExpr
  | expr LBRACK expr RBRACK                                         # indexExpr
  | MINUS expr                                                      # negExpr
  | expr op=(STAR | SLASH | PERCENT_SIGN) expr                      # mulExpr
  | expr op=(PLUS | MINUS) expr                                     # addExpr
  | expr COALESCE expr                                              # coalesceExpr
  | expr cmpOp expr                                                 # cmpExpr
  | expr NOT? IN expr                                               # inExpr
  | expr IS NOT? NONE                                               # isNoneExpr
  | NOT expr                                                        # notExpr
  | expr AND expr                                                   # andExpr
  | expr OR expr                                                    # orExpr
  ;

cmpOp: EQ | NE | LT | LE | GT | GE;

primary
  : literal                                                         # literalPrimary
  | LPAREN expr RPAREN                                              # parenPrimary
  | LBRACK (expr (COMMA expr)*)? COMMA? RBRACK                      # listPrimary
  // sum(l.amount for l in order.lines where l.taxable), count(x in Expense where x.open)
  | aggregate=aggName LPAREN (expr FOR)? ident IN expr (WHERE expr)? RPAREN  # comprehensionPrimary
  | ident                                                           # namePrimary
  ;

aggName: ident | ALL | ANY;

literal: INT | DECIMAL | MONEY | DURATION | PERCENT | DATE | STRING | TRUE | FALSE | NONE;

qualifiedName: ident (DOT ident)*;
typeRef: qualifiedName;

// Words that are keywords in one place but ordinary names elsewhere (a record may have a field `state`,
// `key` or `priority`). Only words that never start a statement or an expression are listed.
ident
  : ID | VERSION | PURPOSE | CURRENCY | UNITS | POSITION | SCOPE | STATE | KEY | TARGET | INPUT | OUTPUT
  | PRIORITY | FIRST | MAX | INITIAL | FINAL | FAILURE | TIMEOUT | IP | OP | AT | EACH | ALERT | WARN
  | UNIQUE | COLLECT | MAJORITY | UNANIMOUS | OUTCOMES | RETURNS | HIT | SALIENCE | HELD | LEGAL_FORM
  | JURISDICTION | BRANCH | OVER | QUORUM | ESCALATE | FROM | TO
  ;
