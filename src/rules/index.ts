export { compareDotted, evaluateRule, type RuleOutcome, type Truth } from './evaluate.ts';
export { type FactLookup, lookupFact } from './facts.ts';
export { factOperators, Rule } from './schema.ts';
