import { z } from 'zod';
import { factOperators, type Rule as RuleType } from './types.ts';

const Scalar = z.union([z.string(), z.number(), z.boolean()]);

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

/** The zod schema of a rule; shares its name with the type, as the house style has it. */
export const Rule: z.ZodType<RuleType> = z.lazy(() =>
  z.union([
    z.strictObject({ all: z.array(Rule).min(1) }),
    z.strictObject({ any: z.array(Rule).min(1) }),
    z.strictObject({ not: Rule }),
    FactTest,
  ]),
);

export type Rule = RuleType;
