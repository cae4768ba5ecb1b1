export { assemblePlan, type PlanRequest } from './assemble-plan.ts';
export { type DigestFilter, digestNotes } from './digest-notes.ts';
export { findPath, type PathResult, type PathStep } from './find-path.ts';
export { getPlan, type PlanOptions, readFacts } from './get-plan.ts';
export { contentHash, isPlanIntact } from './hash.ts';
export {
  type DigestEntry,
  NotesDigest,
  Plan,
  type PlanIncompatibility,
  type PlanPrerequisite,
  PlanStep,
  type Reason,
  Verdict,
} from './schema.ts';
