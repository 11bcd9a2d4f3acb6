/**
 * The condition language shared by processors: a subset of OTTL conditions over log records, compiled
 * once into closures. See README.md in this folder for the language.
 */
export { compileCondition, conditionError, type Condition, type LogContext } from './compile.js';
export { ParseError, EvaluationError } from './errors.js';
export { parseCondition, type BoolNode, type ValueNode, type CompareOp } from './parser.js';
export { compileRegex, regexProblem, RegexError, type SafeRegex } from './regex.js';
export { parseSeverityBound, severityEnumValue } from './severity.js';
export { ottlCondition, regexPattern, severityBound, errorMode, type ErrorMode } from './schema.js';
export { compareValues, valueOf, stringLike, type Value, type ValueType } from './values.js';
export { guardCondition } from './error-mode.js';
export { allOf, anyOf, attributeEquals, categoryIn, severityBetween, CATEGORY_ATTRIBUTE } from './matchers.js';
