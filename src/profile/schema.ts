import { z } from 'zod';
import { Detection } from '../detect/schema.ts';

/** `profiles/<name>/profile.yaml`: what uplift knows about one product. */
export const ProfileManifest = z.strictObject({
  profile: z.literal(1),
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/),
  title: z.string().min(1),
  /** Path of the catalog, relative to the profile folder. */
  catalog: z.string().min(1),
  /** A sample set of facts, relative to the profile folder, for demos and `npm start`. */
  sampleFacts: z.string().optional(),
  /** How to read an installation's facts (docs/detection.md); without it, facts come from files and flags. */
  detection: Detection.optional(),
});
export type ProfileManifest = z.infer<typeof ProfileManifest>;
