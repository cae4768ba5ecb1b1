import { z } from 'zod';
import { Detection } from '../detect/schema.ts';
import { Lifecycle, Paths } from '../lifecycle/schema.ts';

/** `profiles/<name>/profile.yaml`: what uplift knows about one product. */
export const ProfileManifest = z.strictObject({
  profile: z.literal(1),
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/),
  title: z.string().min(1),
  /** Path of the catalog, relative to the profile folder. */
  catalog: z.string().min(1),
  /** A sample set of facts, relative to the profile folder, for demos and `npm start`. */
  sampleFacts: z.string().optional(),
  /**
   * How `uplift sample` makes a sample installation to try uplift on: commands (argv, no shell)
   * whose strings may use `${profile}` (this folder), `${node}` (uplift's Node.js) and `${dir}` (the
   * sample's working folder); `--version` arrives as UPLIFT_SAMPLE_VERSION. `create` makes, starts
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
    })
    .refine((a) => a.method !== 'vendor-installer' || a.vendorInstaller !== undefined, {
      message: 'the vendor-installer method needs vendorInstaller.installerDir',
    })
    .optional(),
});
export type ProfileManifest = z.infer<typeof ProfileManifest>;
