import { z } from 'zod';

const Scalar = z.union([z.string(), z.number(), z.boolean()]);

/** A condition over the installation's facts. Three-valued: true, false, or unknown (a fact is missing). */
export type Rule =
  | { all: Rule[] }
  | { any: Rule[] }
  | { not: Rule }
  | {
      fact: string;
      equals?: string | number | boolean;
      notEquals?: string | number | boolean;
      in?: (string | number | boolean)[];
      exists?: boolean;
      gt?: number;
      gte?: number;
      lt?: number;
      lte?: number;
      versionAtLeast?: string;
      versionBelow?: string;
      matches?: string;
      contains?: string | number | boolean;
    };

export const factOperators = [
  'equals',
  'notEquals',
  'in',
  'exists',
  'gt',
  'gte',
  'lt',
  'lte',
  'versionAtLeast',
  'versionBelow',
  'matches',
  'contains',
] as const;

const FactTest = z
  .strictObject({
    fact: z.string().min(1),
    equals: Scalar.optional(),
    notEquals: Scalar.optional(),
    in: z.array(Scalar).optional(),
    exists: z.boolean().optional(),
    gt: z.number().optional(),
    gte: z.number().optional(),
    lt: z.number().optional(),
    lte: z.number().optional(),
    versionAtLeast: z.string().optional(),
    versionBelow: z.string().optional(),
    matches: z.string().optional(),
    contains: Scalar.optional(),
  })
  .refine((r) => factOperators.filter((op) => r[op] !== undefined).length === 1, {
    message: `give exactly one operator: ${factOperators.join(', ')}`,
  });

export const Rule: z.ZodType<Rule> = z.lazy(() =>
  z.union([
    z.strictObject({ all: z.array(Rule).min(1) }),
    z.strictObject({ any: z.array(Rule).min(1) }),
    z.strictObject({ not: Rule }),
    FactTest,
  ]),
);

