import { z } from 'zod';
import { isUnsafeKey, unsafeKeys } from '../util/index.ts';

/**
 * The kinds of value a fact can hold. `version` is a version string (a number such as `14` is read
 * as one); `enum` is one of `values`; `list` is a list of strings (each one of `values` when
 * given); `map` is an open group whose keys are not declared one by one (a whole settings file);
 * `any` is a value uplift itself reads and checks (its own built-in facts only, in practice).
 */
export const factTypes = [
  'string',
  'number',
  'integer',
  'boolean',
  'version',
  'enum',
  'list',
  'map',
  'any',
] as const;
export type FactType = (typeof factTypes)[number];

const Scalar = z.union([z.string(), z.number(), z.boolean()]);

/** A dotted fact path, as rules and detection name facts (`database.type`). */
const FactName = z
  .string()
  .regex(/^[A-Za-z_][\w-]*(\.[^.\s]+)*$/, 'write a dotted fact path such as database.type')
  .refine((p) => !p.split('.').some(isUnsafeKey), {
    message: `no segment may be ${unsafeKeys.join(', ')}`,
  });

/** One declared fact of a profile (docs/profiles.md, "Facts"). */
export const FactDeclaration = z
  .strictObject({
    type: z.enum(factTypes),
    /** What the fact means, in the operator's words; shown in errors and in the JSON Schema. */
    description: z.string().min(1),
    /** `enum`: every allowed value. `list`: every allowed item (optional). */
    values: z.array(Scalar).min(1).optional(),
    /** What a number counts (`bytes`, `rows`, `files`); shown beside it. */
    unit: z.string().min(1).optional(),
    /** Inclusive bounds of a number. */
    min: z.number().optional(),
    max: z.number().optional(),
    /**
     * Where the value comes from: `detection` (the profile's detection section reads it; checked
     * when the profile loads) or `operator` (given with --fact or --facts). Default: `detection`
     * when the detection section produces it, else `operator`.
     */
    from: z.enum(['detection', 'operator']).optional(),
  })
  .superRefine((d, ctx) => {
    if (d.type === 'enum' && d.values === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['values'],
        message: 'an enum fact needs values: the list of allowed values',
      });
    if (d.values !== undefined && d.type !== 'enum' && d.type !== 'list')
      ctx.addIssue({
        code: 'custom',
        path: ['values'],
        message: 'values go with type enum or list',
      });
    const numeric = d.type === 'number' || d.type === 'integer';
    for (const field of ['min', 'max'] as const)
      if (d[field] !== undefined && !numeric)
        ctx.addIssue({
          code: 'custom',
          path: [field],
          message: `${field} goes with type number or integer`,
        });
  });
export type FactDeclaration = z.infer<typeof FactDeclaration>;

/** `facts` in profile.yaml: fact path → declaration. */
export const FactDeclarations = z.record(FactName, FactDeclaration);
export type FactDeclarations = z.infer<typeof FactDeclarations>;
