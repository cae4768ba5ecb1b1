/**
 * The phases of an upgrade step that `durations` times, in order. A module of its own, without
 * zod, so that the light path (open.ts, resolve.ts on a cache hit) can use the list too.
 */
export const stepPhases = [
  'backup',
  'stop',
  'apply',
  'migrate',
  'start',
  'validate',
  'rollback',
] as const;
export type StepPhase = (typeof stepPhases)[number];
