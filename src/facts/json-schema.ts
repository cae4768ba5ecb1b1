import type { DeclaredFact, DeclaredFacts } from './declared.ts';

type JsonSchema = Record<string, unknown>;

/**
 * The JSON Schema (draft 2020-12) of a facts file for one profile, from its declared facts: an
 * editor checks and completes a facts file with it. It agrees with `checkFacts`: a fact may be
 * written nested (`database: {type: …}`) or with its dotted rest as one key (`settings:
 * {Direct.Connection.When.Proxy.Down: …}`), null means unknown, and a `map` takes any keys.
 */
export function factsJsonSchema(declared: DeclaredFacts): JsonSchema {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: `uplift facts of the profile ${declared.profile}`,
    ...groupSchema(declared, ''),
  };
}

function groupSchema(declared: DeclaredFacts, prefix: string): JsonSchema {
  const below = [...declared.facts.values()].filter((f) => f.name.startsWith(prefix));
  const children = new Set(below.map((f) => f.name.slice(prefix.length).split('.')[0] as string));
  const properties: Record<string, JsonSchema> = {};
  for (const child of [...children].sort()) {
    const name = `${prefix}${child}`;
    const fact = declared.facts.get(name);
    const hasGroup = below.some((f) => f.name.startsWith(`${name}.`));
    if (fact && (fact.type !== 'map' || !hasGroup)) properties[child] = leafSchema(fact);
    else if (fact)
      properties[child] = {
        ...leafSchema(fact),
        ...groupSchema(declared, `${name}.`),
        additionalProperties: true,
      };
    else properties[child] = { anyOf: [groupSchema(declared, `${name}.`), { type: 'null' }] };
  }
  // A dotted rest written as one key, the way detection writes a setting's own dotted name.
  for (const f of below) {
    const rest = f.name.slice(prefix.length);
    if (rest.includes('.')) properties[rest] ??= leafSchema(f);
  }
  return { type: 'object', properties, additionalProperties: false };
}

function leafSchema(f: DeclaredFact): JsonSchema {
  const description = [
    f.description,
    f.unit ? `Unit: ${f.unit}.` : undefined,
    f.detectedBy
      ? `Detected (${f.detectedBy}).`
      : f.from === 'operator'
        ? 'Given by the operator.'
        : undefined,
  ]
    .filter((s) => s !== undefined)
    .join(' ');
  const bounds = {
    ...(f.min !== undefined ? { minimum: f.min } : {}),
    ...(f.max !== undefined ? { maximum: f.max } : {}),
  };
  const shape: JsonSchema = (() => {
    switch (f.type) {
      case 'string':
        return { type: ['string', 'null'] };
      case 'boolean':
        return { type: ['boolean', 'null'] };
      case 'number':
        return { type: ['number', 'null'], ...bounds };
      case 'integer':
        return { type: ['integer', 'null'], ...bounds };
      case 'version':
        return { type: ['string', 'number', 'null'], pattern: '\\d' };
      case 'enum':
        return { enum: [...(f.values ?? []), null] };
      case 'list':
        return {
          type: ['array', 'null'],
          items: f.values ? { enum: f.values } : { type: ['string', 'number', 'boolean'] },
        };
      case 'map':
        return { type: ['object', 'null'] };
      case 'any':
        return {};
    }
  })();
  return { description, ...shape };
}
