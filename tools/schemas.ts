import { z } from 'zod';
import { Catalog, Facts } from '../src/catalog/schema.ts';
import { Plan } from '../src/plan/schema.ts';

/** The published JSON Schemas: file name → schema. One list for the generator and its guard test. */
export function publishedSchemas(): Record<string, unknown> {
  const draft = { target: 'draft-2020-12' } as const;
  return {
    'catalog.schema.json': {
      $id: 'https://uplift.invalid/schemas/catalog.schema.json',
      title: 'uplift catalog',
      ...z.toJSONSchema(Catalog, { ...draft, io: 'input' }),
    },
    'facts.schema.json': {
      $id: 'https://uplift.invalid/schemas/facts.schema.json',
      title: 'uplift facts',
      ...z.toJSONSchema(Facts, { ...draft, io: 'input' }),
    },
    'plan.schema.json': {
      $id: 'https://uplift.invalid/schemas/plan.schema.json',
      title: 'uplift plan',
      ...z.toJSONSchema(Plan, { ...draft, io: 'output' }),
    },
  };
}

export function renderSchema(schema: unknown): string {
  return `${JSON.stringify(schema, null, 2)}\n`;
}
