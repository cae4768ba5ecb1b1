export {
  builtInFacts,
  type Coverage,
  coverageOf,
  coveringGroup,
  type DeclaredFact,
  type DeclaredFacts,
  type DetectedBy,
  declaredFacts,
  detectedFactPaths,
  factNames,
  nameProfileAs,
} from './declared.ts';
export { factsJsonSchema } from './json-schema.ts';
export { applyFactFlags, type FactFlag, loadFacts, parseFactFlag } from './load.ts';
export type { FactDeclaration, FactDeclarations, FactType } from './schema.ts';
export { closest, editDistance } from './suggest.ts';
export {
  checkFactFlags,
  checkFacts,
  type FactCheck,
  type FactOrigin,
  factWarnings,
} from './validate.ts';
