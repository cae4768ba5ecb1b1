export { compareDotted, evaluateRule, type RuleOutcome, type Truth } from './evaluate.ts';
export { type FactLookup, lookupFact } from './facts.ts';
export {
  evaluateFormula,
  type Formula,
  type FormulaError,
  type FormulaValue,
  isFormulaError,
  parseFormula,
} from './formula.ts';
export { factOperators, type Rule } from './types.ts';
