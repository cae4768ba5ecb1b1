import { z } from 'zod';

/**
 * The plan document: the stable interface `uplift plan --format json` prints and `apply` consumes.
 * Its JSON Schema is generated into schemas/plan.schema.json; additive changes only within a
 * `planFormat` version.
 */

const Seconds = z.number().nonnegative();

export const Verdict = z.enum([
  'recommended',
  'possible-with-actions',
  'not-recommended',
  'blocked',
  'up-to-date',
]);
export type Verdict = z.infer<typeof Verdict>;

const Reason = z.object({
  code: z.string(),
  text: z.string(),
  /** Facts that were missing when the reason is an unknown outcome. */
  missingFacts: z.array(z.string()).optional(),
});
export type Reason = z.infer<typeof Reason>;

const PhaseSeconds = z.object({
  download: Seconds,
  stop: Seconds,
  apply: Seconds,
  migrate: Seconds,
  start: Seconds,
  manual: Seconds,
});
export type PhaseSeconds = z.infer<typeof PhaseSeconds>;

export const PlanStep = z.object({
  index: z.number().int().positive(),
  kind: z.enum(['pack', 'manual', 'install']),
  /** `prerequisite` for the "latest patch first" hop, `upgrade` for the rest. */
  stage: z.enum(['prerequisite', 'upgrade']),
  from: z.string().nullable(),
  /** The version the step reaches, spelled as the catalog spells it; null for a removal. */
  to: z.string().nullable(),
  title: z.string(),
  reason: z.object({ code: z.string(), text: z.string() }),
  pack: z
    .object({
      platform: z.string(),
      file: z.string(),
      size: z.number().int().nonnegative(),
      sha256: z.string().optional(),
      md5: z.string().optional(),
      url: z.string().optional(),
    })
    .nullable(),
  /** Why there is no pack, when the step needs one. */
  packProblem: z.string().optional(),
  manual: z
    .object({ id: z.string(), detail: z.string().optional(), link: z.string().optional() })
    .optional(),
  estimate: z.object({ phases: PhaseSeconds, downtimeSeconds: Seconds }),
  /**
   * How the step is carried out when it is not an uplift pack: the catalog's declared method for
   * the platform (a command, a package, a vendor installer or an image), with its inputs.
   */
  method: z
    .object({
      kind: z.enum(['command', 'package', 'installer', 'image']),
      platform: z.string().optional(),
      command: z.object({ argv: z.array(z.string()) }).optional(),
      package: z.object({ manager: z.string(), name: z.string(), version: z.string() }).optional(),
      installer: z
        .object({
          file: z.string(),
          sha256: z.string(),
          url: z.string().optional(),
          args: z.array(z.string()).optional(),
        })
        .optional(),
      image: z.object({ ref: z.string(), digest: z.string() }).optional(),
    })
    .optional(),
  /**
   * What must settle at the version this step reaches before the next step starts: apply runs the
   * profile's settle check until it passes, up to the timeout. Absent on the last step.
   */
  settle: z
    .object({
      check: z.string(),
      timeoutSeconds: Seconds,
      intervalSeconds: Seconds,
      reason: z.string().optional(),
    })
    .optional(),
});
export type PlanStep = z.infer<typeof PlanStep>;

const Evidence = z.record(z.string(), z.unknown());

export const Outcome = z.enum(['applies', 'does-not-apply', 'unknown']);

const PlanIncompatibility = z.object({
  id: z.string(),
  title: z.string(),
  introducedIn: z.string(),
  severity: z.enum(['blocking', 'action', 'info']),
  outcome: Outcome,
  action: z.string(),
  detail: z.string().optional(),
  link: z.string().optional(),
  evidence: Evidence,
  missingFacts: z.array(z.string()),
  /** For an incompatibility of some hops only: the hop of this path it concerns. */
  hop: z.object({ from: z.string(), to: z.string() }).optional(),
});
export type PlanIncompatibility = z.infer<typeof PlanIncompatibility>;

const PlanPrerequisite = z.object({
  id: z.string(),
  title: z.string(),
  system: z.string(),
  severity: z.enum(['blocking', 'action', 'info']),
  status: z.enum(['satisfied', 'violated', 'unknown', 'not-applicable']),
  action: z.string(),
  link: z.string().optional(),
  evidence: Evidence,
  missingFacts: z.array(z.string()),
});
export type PlanPrerequisite = z.infer<typeof PlanPrerequisite>;

const PlanTask = z.object({
  id: z.string(),
  title: z.string(),
  detail: z.string().optional(),
  /** The automated check that covers the task; absent = the operator does it by hand. */
  check: z.string().optional(),
});
export type PlanTask = z.infer<typeof PlanTask>;

export const NoteStatus = z.enum(['applies', 'unknown', 'general', 'does-not-apply']);
export type NoteStatus = z.infer<typeof NoteStatus>;

const DigestEntry = z.object({
  type: z.enum(['feature', 'fixed', 'limitation']),
  id: z.string(),
  title: z.string(),
  component: z.string().optional(),
  security: z.boolean(),
  /** The first release on the path that carries the entry. */
  release: z.string(),
  /** Every release on the path that lists it. */
  releases: z.array(z.string()),
  status: NoteStatus,
  missingFacts: z.array(z.string()).optional(),
  /** True when the entry rests on illustrative data (its own mark, or its release's). */
  illustrative: z.boolean().optional(),
  /** Why it is illustrative, when it is. */
  reason: z.string().optional(),
  /** The document and section that state the entry, when it is sourced. */
  source: z.object({ doc: z.string(), section: z.string() }).optional(),
});
export type DigestEntry = z.infer<typeof DigestEntry>;

export const NotesDigest = z.object({
  /** Releases whose notes were read: every release after `from` up to and including `to`. */
  releases: z.array(z.string()),
  counts: z.object({
    feature: z.number().int(),
    fixed: z.number().int(),
    limitation: z.number().int(),
    security: z.number().int(),
    applies: z.number().int(),
  }),
  entries: z.array(DigestEntry),
});
export type NotesDigest = z.infer<typeof NotesDigest>;

/** One catalog entry a part of the plan rests on that the vendor's sources do not state. */
const Resting = z.object({ entry: z.string(), reason: z.string() });
const RestingById = z.object({ id: z.string(), reason: z.string() });

/**
 * What of the plan rests on illustrative catalog data (docs/output.md). A part with an empty list
 * is fully sourced; the views show a banner for each non-empty part and mark the lines.
 */
export const PlanProvenance = z.object({
  target: z.array(Resting),
  path: z.array(Resting),
  estimate: z.array(Resting),
  verdict: z.array(Resting),
  /** Steps with an illustrative release, pack or durations; other steps are sourced. */
  steps: z.array(
    z.object({
      index: z.number().int().positive(),
      release: z.array(Resting),
      pack: z.array(Resting),
      durations: z.array(Resting),
      /** The upgrade rule (stop, edge, manual step, latest-patch target) that put the step there. */
      rule: z.array(Resting).optional(),
    }),
  ),
  /**
   * Facts the plan used that detection read or derived through an illustrative profile entry
   * (facts.detection.illustrative); absent in plans made before it was assessed.
   */
  facts: z.array(z.object({ fact: z.string(), reason: z.string() })).optional(),
  incompatibilities: z.array(RestingById),
  externalPrerequisites: z.array(RestingById),
  tasks: z.array(RestingById),
});
export type PlanProvenance = z.infer<typeof PlanProvenance>;

export const Plan = z.object({
  planFormat: z.literal(1),
  profile: z.string(),
  product: z.string(),
  catalog: z.object({ file: z.string(), digest: z.string() }),
  facts: z.object({ digest: z.string(), platform: z.string().nullable() }),
  from: z.string(),
  to: z.string(),
  target: z.object({ requested: z.string(), resolved: z.string() }),
  /**
   * Present when the installed version is not in the catalog and was planned from its place in
   * the version scheme: the listed versions just below and above it (null at either end).
   */
  installedNotInCatalog: z
    .object({ after: z.string().nullable(), before: z.string().nullable() })
    .optional(),
  /** The release channel planned in (`--channel`, or the catalog's default); absent without channels. */
  channel: z.string().optional(),
  /** Releases above the installed one that the vendor announced but has not published: never a target or stop. */
  announced: z.array(z.object({ version: z.string(), date: z.string().optional() })).optional(),
  verdict: Verdict,
  reasons: z.array(Reason),
  /** The "latest patch first" hop, when the installed version needs one. */
  prerequisite: z.object({ to: z.string(), reason: z.string() }).nullable(),
  steps: z.array(PlanStep),
  blockedBy: z.array(
    z.object({ from: z.string(), reason: z.string(), link: z.string().optional() }),
  ),
  conditionalStops: z.array(
    z.object({
      version: z.string(),
      reason: z.string().optional(),
      outcome: Outcome,
      missingFacts: z.array(z.string()),
    }),
  ),
  incompatibilities: z.array(PlanIncompatibility),
  externalPrerequisites: z.array(PlanPrerequisite),
  tasks: z.array(PlanTask),
  /** Everything the operator must do by hand: manual steps, actions of incompatibilities and prerequisites, manual tasks. */
  manualActions: z.array(z.object({ source: z.string(), id: z.string(), text: z.string() })),
  /**
   * Files the customer changed, added or removed against the vendor's files of the installed
   * version (from the facts, when known): what the upgrade must carry forward or back up.
   */
  customizedFiles: z
    .object({
      changed: z.array(z.string()),
      added: z.array(z.string()),
      removed: z.array(z.string()),
    })
    .optional(),
  estimate: z.object({
    packHops: z.number().int(),
    manualSteps: z.number().int(),
    downloadSeconds: Seconds,
    backupSeconds: Seconds,
    downtimeSeconds: Seconds,
    validationSeconds: Seconds,
    rollbackSeconds: Seconds,
    /** Downtime + validation + rollback: the window to book. */
    windowSeconds: Seconds,
    downloadBytes: z.number().int().nonnegative(),
    /** Facts a duration scales with that were missing (counted as zero). */
    assumptions: z.array(z.string()),
  }),
  notes: NotesDigest,
  /** Optional only so that plans saved before it existed still read. */
  provenance: PlanProvenance.optional(),
  /** `sha256:<hex>` over the canonical JSON of every other field. */
  hash: z.string(),
});
export type Plan = z.infer<typeof Plan>;
