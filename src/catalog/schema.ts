import { z } from 'zod';
import { Rule } from '../rules/schema.ts';

/**
 * The catalog format: a vendor's release data, as YAML. Every object is strict so that a misspelt
 * field is an error with its position, not a silently ignored line. `docs/catalog.md` explains each
 * field with a worked example; keep the two in step.
 */

const Id = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]*$/i, 'use letters, digits, dots, dashes or underscores');

/** A version spelled in the catalog's version scheme (checked by the loader, which knows the scheme). */
const Version = z.string().min(1);

/**
 * A pattern over versions: `*`, an exact version, `release:5.3.0` (every level of that release),
 * or comparisons `>=5.3.0 GA, <5.4` (comma = and); alternatives are joined by `||`.
 */
const VersionPattern = z.string().min(1);

/** Where an entry's data is stated: a document of the catalog's `sources` and the section in it. */
export const Source = z.strictObject({ doc: z.string().min(1), section: z.string().min(1) });
export type Source = z.infer<typeof Source>;

/**
 * Provenance of an entry: `source`, or `illustrative: true` with a `reason` when the vendor's
 * sources do not state it. Notes, packs and a release's durations inherit their release's;
 * resolve.ts refuses an entry that neither carries nor inherits one (docs/catalog.md).
 */
const provenance = {
  source: Source.optional(),
  illustrative: z.boolean().optional(),
  reason: z.string().min(1).optional(),
};

/**
 * Provenance of an upgrade rule. Stops, prerequisites and blocked hops already have a `reason` (why
 * the rule exists, shown in the plan), so the reason a rule is illustrative is `illustrativeReason`.
 */
const ruleProvenance = {
  source: Source.optional(),
  illustrative: z.boolean().optional(),
  illustrativeReason: z.string().min(1).optional(),
};

const NoteEntry = z.strictObject({
  ...provenance,
  id: z.string().min(1),
  title: z.string().min(1),
  component: z.string().optional(),
  security: z.boolean().optional(),
  /** When the entry concerns only some installations (a limitation that hits Oracle users). */
  when: Rule.optional(),
});
export type NoteEntry = z.infer<typeof NoteEntry>;

export const NoteType = z.enum(['feature', 'fixed', 'limitation']);
export type NoteType = z.infer<typeof NoteType>;

const ReleaseNotes = z.strictObject({
  features: z.array(NoteEntry).optional(),
  fixed: z.array(NoteEntry).optional(),
  limitations: z.array(NoteEntry).optional(),
});

const Pack = z.strictObject({
  ...provenance,
  platform: z.string().min(1),
  file: z.string().min(1),
  /** Bytes. */
  size: z.number().int().nonnegative(),
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
  /** Some vendors publish only MD5; uplift records it but never trusts it alone. */
  md5: z
    .string()
    .regex(/^[0-9a-f]{32}$/)
    .optional(),
  /** Versions this pack upgrades from; default: any version the path allows. */
  from: VersionPattern.optional(),
  url: z.string().optional(),
});
export type Pack = z.infer<typeof Pack>;

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'write 64 lower-case hex digits');

/**
 * A way to reach a release that is not an uplift pack, with every input it needs declared, so a
 * plan can stand on it: a command, a package manager's package, a vendor installer, an image.
 */
const StepMethod = z
  .strictObject({
    /** The platform id it is for; absent = every platform. */
    platform: z.string().min(1).optional(),
    command: z.strictObject({ argv: z.array(z.string().min(1)).min(1) }).optional(),
    package: z
      .strictObject({
        /** apt, dnf, yum, zypper, apk, npm, pip, … */
        manager: z.string().min(1),
        name: z.string().min(1),
        version: z.string().min(1),
      })
      .optional(),
    installer: z
      .strictObject({
        file: z.string().min(1),
        sha256: Sha256,
        url: z.string().optional(),
        args: z.array(z.string()).optional(),
      })
      .optional(),
    image: z
      .strictObject({
        ref: z.string().min(1),
        /** The image's content digest, so the step names exactly one image. */
        digest: z
          .string()
          .regex(/^sha256:[0-9a-f]{64}$/, 'write sha256: and 64 lower-case hex digits'),
      })
      .optional(),
  })
  .refine(
    (m) => [m.command, m.package, m.installer, m.image].filter((x) => x !== undefined).length === 1,
    { message: 'give exactly one of command, package, installer or image' },
  );
export type StepMethod = z.infer<typeof StepMethod>;

/**
 * Time for one step: a fixed part, parts that scale with facts (rows, bytes, files), and a formula
 * over facts for what is not linear in one fact (`ceil(nodes / max_unavailable) * 10m`).
 */
const Duration = z
  .strictObject({
    /** The fixed part; default 0 when a formula is given. */
    seconds: z.number().nonnegative().optional(),
    /** Seconds from facts with +, -, *, /, ceil, floor, round, min, max (docs/catalog.md). */
    formula: z.string().min(1).optional(),
    per: z
      .array(
        z.strictObject({
          fact: z.string().min(1),
          /** The amount of the fact that costs `seconds` (e.g. 1000000 rows). */
          unit: z.number().positive(),
          seconds: z.number().nonnegative(),
        }),
      )
      .optional(),
  })
  .refine((d) => d.seconds !== undefined || d.formula !== undefined, {
    message: 'give seconds, a formula, or both',
  });
export type Duration = z.infer<typeof Duration>;

export { type StepPhase, stepPhases } from './step-phases.ts';

const DurationsOverride = z.strictObject({
  ...provenance,
  backup: Duration.optional(),
  stop: Duration.optional(),
  apply: Duration.optional(),
  migrate: Duration.optional(),
  start: Duration.optional(),
  validate: Duration.optional(),
  rollback: Duration.optional(),
});

const Durations = z.strictObject({
  ...provenance,
  /** Download speed assumed for pack sizes, in bytes per second. */
  downloadBytesPerSecond: z.number().positive(),
  /** True when the vendor requires services stopped during backup, so backup counts as downtime. */
  backupNeedsStop: z.boolean().default(false),
  backup: Duration,
  stop: Duration,
  apply: Duration,
  migrate: Duration,
  start: Duration,
  validate: Duration,
  rollback: Duration,
});
export type Durations = z.infer<typeof Durations>;

export const ReleaseKind = z.enum(['ga', 'ra', 'patch', 'service-pack', 'dated-update']);

const Release = z.strictObject({
  version: Version,
  date: z.iso.date().optional(),
  kind: ReleaseKind,
  platforms: z.array(z.string().min(1)).optional(),
  ...provenance,
  notes: ReleaseNotes.optional(),
  packs: z.array(Pack).optional(),
  /** Overrides of the catalog's durations for a hop that reaches this release. */
  durations: DurationsOverride.optional(),
  /** Ways to reach this release that are not uplift packs; used for a hop with no fitting pack. */
  methods: z.array(StepMethod).optional(),
  /** Announced by the vendor, not yet published: listed, never a target or a stop (`date`: expected). */
  announced: z.boolean().optional(),
  /** The channels that carry this release; absent = every channel of the catalog. */
  channels: z.array(Id).optional(),
  /**
   * Something that must settle at this release before the next hop (background data migrations):
   * apply waits on the profile's settle check of this name, up to the timeout.
   */
  settle: z
    .strictObject({
      /** The name of a check in the profile's `lifecycle.settleChecks`. */
      check: Id,
      timeoutMinutes: z.number().positive().default(60),
      /** Between two attempts of the check (default 10). */
      intervalSeconds: z.number().positive().default(10),
      reason: z.string().min(1).optional(),
    })
    .optional(),
});
export type Release = z.infer<typeof Release>;

const RequiredStop = z.strictObject({
  ...ruleProvenance,
  /** Any version of the release (`5.3.0`); the stop is that release's GA, latest patch, or `version`. */
  release: Version,
  /** `any-patch`: any level of the release meets the stop; the planner prefers the latest. */
  take: z.enum(['ga', 'latest-patch', 'exact', 'any-patch']).default('ga'),
  version: Version.optional(),
  /** A conditional stop: required only when this holds for the installation. */
  when: Rule.optional(),
  reason: z.string().optional(),
});
export type RequiredStop = z.infer<typeof RequiredStop>;

/** Upgrade rules carry provenance too; each inherits the section's, then the catalog's. */
const Upgrade = z.strictObject({
  ...ruleProvenance,
  /** "Be on the latest patch of your current release first." */
  latestPatchFirst: z.boolean().default(false),
  /** Where "latest patch first" means another level for some release (5.2.1 → SP8, not SP9). */
  prerequisites: z
    .array(
      z.strictObject({
        ...ruleProvenance,
        release: Version,
        target: Version,
        reason: z.string().optional(),
      }),
    )
    .optional(),
  requiredStops: z.array(RequiredStop).optional(),
  /** An explicit graph: from any version matching `from`, a single hop may reach `to`. */
  edges: z
    .array(
      z.strictObject({
        ...ruleProvenance,
        from: VersionPattern,
        to: Version,
        /** Overrides the estimated downtime of this hop, in minutes. */
        downtimeMinutes: z.number().nonnegative().optional(),
        /** A conditional edge: offered only when this holds; unknown = offered as a risky hop. */
        when: Rule.optional(),
      }),
    )
    .optional(),
  /** The tie-break among paths with as few hops (docs/catalog.md, "How the planner finds the path"). */
  prefer: z.enum(['least-downtime', 'highest-stops', 'lowest-stops']).default('least-downtime'),
  /** Hops that must never be taken, and why. */
  blocked: z
    .array(
      z.strictObject({
        ...ruleProvenance,
        from: VersionPattern,
        to: VersionPattern.optional(),
        reason: z.string().min(1),
        link: z.string().optional(),
      }),
    )
    .optional(),
  /** Steps an operator performs by hand instead of applying a pack (remove, reinstall). */
  manualSteps: z
    .array(
      z.strictObject({
        ...ruleProvenance,
        id: Id,
        title: z.string().min(1),
        detail: z.string().optional(),
        from: VersionPattern,
        /** After the manual step, the path continues by installing this version. */
        continueAt: Version,
        minutes: z.number().nonnegative().default(60),
        /**
         * Where `minutes` comes from, when not from the step's own source (a guide that names the
         * step but not how long it takes): `source`, or `illustrative: true` with a `reason`.
         */
        minutesProvenance: z.strictObject(provenance).optional(),
        link: z.string().optional(),
      }),
    )
    .optional(),
});
export type Upgrade = z.infer<typeof Upgrade>;

export const Severity = z.enum(['blocking', 'action', 'info']);
export type Severity = z.infer<typeof Severity>;

const Incompatibility = z.strictObject({
  ...provenance,
  id: Id,
  title: z.string().min(1),
  /** The first version with the change; it applies to a path that crosses it. */
  introducedIn: Version.optional(),
  /**
   * Instead of `introducedIn`: the hops it concerns, from versions matching `from` to versions
   * matching `to` (which bounds it above). The planner routes around such a hop when it can.
   */
  hops: z.strictObject({ from: VersionPattern, to: VersionPattern }).optional(),
  /** When it hits an installation; absent = every installation crossing `introducedIn`. */
  when: Rule.optional(),
  severity: Severity,
  action: z.string().min(1),
  detail: z.string().optional(),
  link: z.string().optional(),
});
export type Incompatibility = z.infer<typeof Incompatibility>;

const ExternalPrerequisite = z.strictObject({
  ...provenance,
  id: Id,
  title: z.string().min(1),
  /** The outside system concerned: `database`, `ldap`, `os`. */
  system: z.string().min(1),
  /** Which installations it concerns (an Oracle database); absent = all. */
  appliesWhen: Rule.optional(),
  /** What must hold of the outside system. */
  require: Rule,
  /** Applies to targets at or above this version; absent = every target. */
  introducedIn: Version.optional(),
  severity: Severity.default('blocking'),
  action: z.string().min(1),
  link: z.string().optional(),
});
export type ExternalPrerequisite = z.infer<typeof ExternalPrerequisite>;

const Task = z.strictObject({
  ...provenance,
  id: Id,
  title: z.string().min(1),
  detail: z.string().optional(),
  /** The id of the automated check that covers this task, when there is one. */
  check: z.string().optional(),
  /** Only for installations where this holds (an AIX host, a Windows host). */
  when: Rule.optional(),
  /** Only on chained upgrades (more than one pack hop). */
  chainedOnly: z.boolean().optional(),
});
export type Task = z.infer<typeof Task>;

export const Catalog = z.strictObject({
  /** Format version of this file. */
  catalog: z.literal(1),
  product: Id,
  title: z.string().min(1),
  versionScheme: z.string().min(1),
  /** The whole catalog is illustrative (a test or demo catalog): every entry inherits it. */
  illustrative: z.boolean().optional(),
  reason: z.string().min(1).optional(),
  /** Where the data comes from; each entry names one in its `source`, or is illustrative. */
  sources: z.array(z.strictObject({ title: z.string(), url: z.string().optional() })).optional(),
  /** Release channels (stable, fast, extended-support); `--channel` picks one, else the default. */
  channels: z
    .array(
      z.strictObject({
        id: Id,
        title: z.string().min(1).optional(),
        /** The channel used without `--channel`; default the first listed. */
        default: z.boolean().optional(),
      }),
    )
    .optional(),
  releases: z.array(Release).min(1),
  upgrade: Upgrade,
  incompatibilities: z.array(Incompatibility).default([]),
  externalPrerequisites: z.array(ExternalPrerequisite).default([]),
  tasks: z.array(Task).default([]),
  durations: Durations,
});
export type Catalog = z.infer<typeof Catalog>;
export type CatalogInput = z.input<typeof Catalog>;

/** The installation's facts. Open by design: rules may name any fact a profile detects. */
export const Facts = z.looseObject({
  product: z.string().optional(),
  version: z.string().optional(),
  platform: z
    .looseObject({
      os: z.string().optional(),
      arch: z.string().optional(),
      id: z.string().optional(),
    })
    .optional(),
});
export type Facts = z.infer<typeof Facts>;
