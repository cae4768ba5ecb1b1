import { z } from 'zod';
import { Detection } from '../detect/schema.ts';
import { FactDeclarations } from '../facts/schema.ts';
import { Lifecycle, Paths } from '../lifecycle/schema.ts';
import { TrafficDeclaration } from '../traffic/schema.ts';

/** The named groups a vendor pack's file name pattern must have; `date`, `keyword` and `level` may be. */
const vendorPackGroups = ['release', 'update', 'from', 'platform', 'build'] as const;

/** The named groups of a pattern (all of them, matched or not). */
function groupsOf(pattern: RegExp): string[] {
  return Object.keys(new RegExp(`${pattern.source}|`).exec('')?.groups ?? {});
}

function compiles(source: string): RegExp | undefined {
  try {
    return new RegExp(source, 'i');
  } catch {
    return undefined;
  }
}

/**
 * `vendorPacks`: how the vendor names its own upgrade packs (docs/vendor-packs.md), so that
 * `uplift vendor-pack verify` and `uplift pack verify` recognise a downloaded zip by its name and
 * find the catalog release it installs.
 */
export const VendorPacks = z
  .strictObject({
    /**
     * The file name pattern: a JavaScript regular expression matched case-insensitively against
     * the base name, with the named groups `release` (the dotted release), `update` (the vendor's
     * pack number), `from` (the version it upgrades from), `platform` (the catalog's platform id)
     * and `build`, and optionally `date` (a dated update) or `keyword` and `level` (a numbered level).
     */
    name: z.string().min(1),
    /** A file name the pattern matches, quoted in hints and help. */
    example: z.string().min(1),
    /**
     * How the catalog spells the release a name installs, from the groups: `{release}`, `{date}`,
     * `{level}`. `base` is used without date and keyword (default `{release}`), `dated` with a
     * date (default `{release}-{date}`), and `levels` by keyword, written in lower case
     * (`patch: '{release} Patch {level}'`); a keyword it does not list is not a pack name.
     */
    release: z
      .strictObject({
        base: z.string().min(1).default('{release}'),
        dated: z.string().min(1).default('{release}-{date}'),
        levels: z.record(z.string().regex(/^[a-z0-9 ]+$/), z.string().min(1)).default({}),
      })
      .prefault({}),
    /**
     * Platform ids (a regular expression) whose packs upgrade from the version of the appliance
     * platform they run on rather than from a release of the product: their `from` is not the
     * catalog's.
     */
    appliancePlatforms: z.string().min(1).optional(),
  })
  .superRefine((v, ctx) => {
    const name = compiles(v.name);
    if (!name) {
      ctx.addIssue({ code: 'custom', path: ['name'], message: 'not a regular expression' });
      return;
    }
    const missing = vendorPackGroups.filter((g) => !groupsOf(name).includes(g));
    if (missing.length > 0)
      ctx.addIssue({
        code: 'custom',
        path: ['name'],
        message: `the pattern has no named group ${missing.map((g) => `(?<${g}>…)`).join(', ')}`,
      });
    else if (!name.test(v.example))
      ctx.addIssue({
        code: 'custom',
        path: ['example'],
        message: 'the name pattern does not match it',
      });
    if (v.appliancePlatforms !== undefined && !compiles(v.appliancePlatforms))
      ctx.addIssue({
        code: 'custom',
        path: ['appliancePlatforms'],
        message: 'not a regular expression',
      });
  });
export type VendorPacks = z.infer<typeof VendorPacks>;

/** `profiles/<name>/profile.yaml`: what uplift knows about one product. */
export const ProfileManifest = z
  .strictObject({
    profile: z.literal(1),
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/),
    title: z.string().min(1),
    /** Path of the catalog, relative to the profile folder. */
    catalog: z.string().min(1),
    /** A sample set of facts, relative to the profile folder, for demos and `npm start`. */
    sampleFacts: z.string().optional(),
    /**
     * How `uplift sample` makes a sample installation to try uplift on: commands (argv, no shell)
     * whose strings may use `${profile}` (this folder), `${node}` (uplift's Node.js), `${uplift}` (the
     * script of the running uplift: `${node} ${uplift} …` runs uplift commands) and `${dir}` (the
     * sample's working folder); `--version` arrives as UPLIFT_SAMPLE_VERSION, `--reset` as
     * UPLIFT_SAMPLE_RESET=1 (after `stop`: make the sample anew). `create` makes, starts
     * or reuses the sample and prints JSON `{ install, url, version, status }` (status created,
     * started or reused); `stop` stops it and prints `{ install, stopped }`. On failure they print
     * `{ error: { code?, message, hint? } }` and exit 2 for bad input (nothing changed), else 1.
     */
    sample: z
      .strictObject({
        create: z.strictObject({ argv: z.array(z.string().min(1)).min(1) }),
        stop: z.strictObject({ argv: z.array(z.string().min(1)).min(1) }).optional(),
        timeoutSeconds: z.number().positive().optional(),
      })
      .optional(),
    /**
     * The facts of this product: name → type, allowed values, unit, description, where the value
     * comes from (docs/profiles.md, "Facts"). With it, `--fact`, `--facts` and detection are checked
     * against it; without it, any fact is taken as given.
     */
    facts: FactDeclarations.optional(),
    /** How to read an installation's facts (docs/detection.md); without it, facts come from files and flags. */
    detection: Detection.optional(),
    /** How the product starts, stops, proves it is ready and works (docs/profiles.md). */
    lifecycle: Lifecycle.optional(),
    /** What an upgrade does with each part of an installation: data, config, generated. */
    paths: Paths.optional(),
    /** How `uplift apply` carries out a hop (docs/apply.md); default `uplift-pack`. */
    apply: z
      .strictObject({
        method: z.enum(['uplift-pack', 'vendor-installer']),
        /** For `vendor-installer`: where the vendor's update script is and how to call it. */
        vendorInstaller: z
          .strictObject({
            /** The installer directory, relative to the installation (or absolute). */
            installerDir: z.string().min(1),
            updateScript: z.string().min(1).optional(),
            /** `-javaargument` for the product update (the guide's Oracle case). */
            javaArgument: z.string().min(1).optional(),
            stepTimeoutSeconds: z.number().positive().optional(),
          })
          .optional(),
        /**
         * For `uplift-pack`: a command (argv, no shell; `${node}`, `${profile}`, `${version}`,
         * `${out}`) that writes the release tree of `${version}` (`${out}/tree`,
         * `${out}/manifest.json`). A first apply on an installation uplift never upgraded takes the
         * old vendor files, the merge base, from it; only files whose hashes the installation's
         * vendor manifest records are used.
         */
        releaseTree: z
          .strictObject({
            argv: z.array(z.string().min(1)).min(1),
            timeoutSeconds: z.number().positive().optional(),
          })
          .optional(),
        /**
         * For `uplift-pack`: the profile promises that nobody writes the product's program files
         * (every vendor file outside `paths.config`) in place, so staging hard-links the ones
         * neither the vendor nor the customer changed from the current installation instead of
         * copying them (docs/apply.md, "Staging: writes, links and durability"). The old generation
         * then shares those files: an in-place edit after the upgrade would reach it too. Needs
         * `paths.config`. Default false.
         */
        linkUnchangedProgramFiles: z.boolean().optional(),
      })
      .refine((a) => a.method !== 'vendor-installer' || a.vendorInstaller !== undefined, {
        message: 'the vendor-installer method needs vendorInstaller.installerDir',
      })
      .optional(),
    /** How the vendor names its own upgrade packs, for the `vendor-installer` method (docs/vendor-packs.md). */
    vendorPacks: VendorPacks.optional(),
    /** Where an installation keeps its transfer logs and how they are written (docs/profiles.md, "Traffic"). */
    traffic: TrafficDeclaration.optional(),
  })
  .superRefine((p, ctx) => {
    if (p.apply?.linkUnchangedProgramFiles === true && (p.paths?.config ?? []).length === 0)
      ctx.addIssue({
        code: 'custom',
        path: ['apply', 'linkUnchangedProgramFiles'],
        message:
          'links program files, but paths.config is empty: list the configuration files (they are copied and merged, never linked), or drop linkUnchangedProgramFiles',
      });
  });
export type ProfileManifest = z.infer<typeof ProfileManifest>;
