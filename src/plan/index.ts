export { assemblePlan, type PlanRequest } from './assemble-plan.ts';
export { availabilityOf } from './availability.ts';
export { type DigestFilter, digestNotes } from './digest-notes.ts';
export { findPath, type PathResult, type PathStep } from './find-path.ts';
export { getPlan, type PlanOptions, readFacts, resolveProfile } from './get-plan.ts';
export { contentHash, isPlanIntact } from './hash.ts';
// Types only: the zod schemas (./schema.ts) are for schema generation and tests, not start-up.
export type {
  DigestEntry,
  NotesDigest,
  Plan,
  PlanIncompatibility,
  PlanPrerequisite,
  PlanProvenance,
  PlanStep,
  Reason,
  Verdict,
} from './schema.ts';
export { describeMethod } from './step-method.ts';
