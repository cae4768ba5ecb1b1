import { z } from 'zod';

/** `profiles/<name>/profile.yaml`: what uplift knows about one product. Detection comes later. */
export const ProfileManifest = z.strictObject({
  profile: z.literal(1),
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/),
  title: z.string().min(1),
  /** Path of the catalog, relative to the profile folder. */
  catalog: z.string().min(1),
  /** A sample set of facts, relative to the profile folder, for demos and `npm start`. */
  sampleFacts: z.string().optional(),
});
export type ProfileManifest = z.infer<typeof ProfileManifest>;
