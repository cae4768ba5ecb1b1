export { compareDotted, evaluateRule, type RuleOutcome, type Truth } from './evaluate.ts';
export { type FactLookup, lookupFact } from './facts.ts';
export { factOperators, type Rule } from './types.ts';
