import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { Catalog, Facts } from '../src/catalog/schema.ts';
import { declaredFacts, factsJsonSchema } from '../src/facts/index.ts';
import { Plan } from '../src/plan/schema.ts';
import { ProfileManifest } from '../src/profile/schema.ts';
import { apiSchemas } from '../src/serve/schema.ts';
import { TopologyFile } from '../src/topology/schema.ts';

const profilesDir = join(import.meta.dirname, '../profiles');

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
    'topology.schema.json': {
      $id: 'https://uplift.invalid/schemas/topology.schema.json',
      title: 'uplift topology (uplift.yaml)',
      ...z.toJSONSchema(TopologyFile, { ...draft, io: 'input' }),
    },
    'api.schema.json': apiSchema(),
    ...profileFactsSchemas(),
  };
}

/**
 * `uplift serve`'s JSON API (docs/api.md): every request and response body, query and path
 * parameter under `$defs`, by the name the document uses.
 */
function apiSchema(): Record<string, unknown> {
  const defs: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(apiSchemas)) {
    const { $schema: _, ...rest } = z.toJSONSchema(schema, {
      target: 'draft-2020-12',
      io: name.endsWith('Response') || name === 'AuditEntry' ? 'output' : 'input',
    });
    defs[name] = rest;
  }
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'https://uplift.invalid/schemas/api.schema.json',
    title: 'uplift serve API',
    $defs: defs,
  };
}

/**
 * `facts-<profile>.schema.json` for each shipped profile that declares its facts: what `uplift
 * profile schema NAME --facts` prints, committed so an editor finds it from a facts file.
 */
function profileFactsSchemas(): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of readdirSync(profilesDir).sort()) {
    const manifest = join(profilesDir, name, 'profile.yaml');
    if (!existsSync(manifest)) continue;
    const declared = declaredFacts(ProfileManifest.parse(parse(readFileSync(manifest, 'utf8'))));
    if (declared === undefined) continue;
    const file = `facts-${name}.schema.json`;
    const { $schema, ...rest } = factsJsonSchema(declared);
    out[file] = { $schema, $id: `https://uplift.invalid/schemas/${file}`, ...rest };
  }
  return out;
}

export function renderSchema(schema: unknown): string {
  return `${JSON.stringify(schema, null, 2)}\n`;
}
