export { type CatalogEdge, type LoadedCatalog, loadCatalog, parseCatalog, type ResolvedStop } from './load.ts';
export { describeIssues, formatPath, locate, type PositionedYaml, parseYaml } from './positions.ts';
export {
  Catalog,
  type CatalogInput,
  type Duration,
  type Durations,
  type ExternalPrerequisite,
  Facts,
  type Incompatibility,
  type NoteEntry,
  NoteType,
  type Pack,
  type Release,
  type RequiredStop,
  Severity,
  type StepPhase,
  stepPhases,
  type Task,
} from './schema.ts';
export { compilePattern, type VersionPattern } from './version-pattern.ts';
