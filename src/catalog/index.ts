// The light entry: no zod or YAML parser at import time (see open.ts). Schemas: ./schema.ts.
export { type CacheOutcome, catalogValidatorSources, loadCatalogCached } from './cache.ts';
export { loadCatalog, parseCatalog, restoreCatalog } from './open.ts';
export {
  catalogProvenance,
  illustrativeReason,
  isIllustrative,
  type Provenance,
  type ProvenanceFields,
  provenanceOf,
  upgradeProvenance,
} from './provenance.ts';
export type { CatalogEdge, HopIncompatibility, LoadedCatalog, ResolvedStop } from './resolve.ts';
export type {
  Catalog,
  CatalogInput,
  Duration,
  Durations,
  ExternalPrerequisite,
  Facts,
  Incompatibility,
  NoteEntry,
  NoteType,
  Pack,
  Release,
  RequiredStop,
  Severity,
  Source,
  StepMethod,
  StepPhase,
  Task,
} from './schema.ts';
export { taskCheckIds } from './task-checks.ts';
export { compilePattern, type VersionPattern } from './version-pattern.ts';
