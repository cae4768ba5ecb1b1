import type { Facts } from '../catalog/index.ts';
import { UpliftError, unreadableFileError } from '../errors/index.ts';
import { isUnsafeKey, readRegularFile, unsafeKeys } from '../util/index.ts';
import { locate, locateKey, type PositionedYaml, parseYaml } from '../yaml/index.ts';
import { checkFacts, type FactCheck } from './validate.ts';

/**
 * Reads facts from a YAML or JSON file (JSON is YAML too, so one parser serves both), checked
 * against the profile's declared facts when `check` is given.
 */
export async function loadFacts(file: string, check?: FactCheck): Promise<Facts> {
  let text: string;
  try {
    text = await readRegularFile(file, 'utf8');
  } catch (cause) {
    throw (
      unreadableFileError(cause, file, 'Check the path of --facts: a YAML or JSON file.') ??
      new UpliftError('UPLIFT_FILE_UNREADABLE', `cannot read facts file ${file}`, {
        cause,
        location: { file },
        hint: 'check the path of --facts',
      })
    );
  }
  const y = parseYaml(text, file, 'UPLIFT_FACTS_INVALID');
  const value: unknown = y.value;
  // An empty file is a mistake (a redirect that failed, the wrong file), not "no facts".
  if (value === null || value === undefined)
    throw new UpliftError('UPLIFT_FACTS_INVALID', `the facts file ${file} is empty`, {
      location: { file },
      hint: 'Write the facts as YAML or JSON (e.g. version: 5.4 GA), or have detection print them (in the folder of the installation):\nuplift facts --install . --json',
    });
  const facts = checkShape(value, y);
  if (check) checkFacts(facts, { kind: 'file', yaml: y }, check);
  return facts;
}

/**
 * Facts are open (rules may name any fact), so only the fields uplift itself reads are checked.
 * Checked by hand rather than with the zod `Facts` schema: `uplift plan` must start fast, and
 * zod's import alone costs more than planning (the schema still documents the shape).
 */
function checkShape(value: unknown, y: PositionedYaml): Facts {
  const bad = (path: PropertyKey[], message: string): never => {
    const location = locate(y, path);
    throw new UpliftError('UPLIFT_FACTS_INVALID', `${location.path}: ${message}`, {
      location,
      hint: 'facts are a YAML or JSON mapping; version is a string and platform a mapping with os, arch and id',
    });
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return bad([], 'expected a mapping of facts');
  refuseUnsafeKeys(value, [], (path) => {
    const location = locateKey(y, path.slice(0, -1), String(path.at(-1)));
    throw new UpliftError(
      'UPLIFT_FACTS_INVALID',
      `${location.path ?? path.join('.')}: the key "${String(path.at(-1))}" is not allowed in facts`,
      {
        location,
        hint: `rename or remove the key; ${unsafeKeys.join(', ')} could change every object of uplift`,
      },
    );
  });
  const facts = value as Record<string, unknown>;
  for (const key of ['product', 'version'] as const) {
    if (facts[key] !== undefined && typeof facts[key] !== 'string')
      bad([key], `expected a string, got ${JSON.stringify(facts[key])}`);
  }
  const platform = facts.platform;
  if (platform !== undefined) {
    if (typeof platform !== 'object' || platform === null || Array.isArray(platform))
      bad(['platform'], 'expected a mapping with os, arch and id');
    for (const key of ['os', 'arch', 'id']) {
      const v = (platform as Record<string, unknown>)[key];
      if (v !== undefined && typeof v !== 'string')
        bad(['platform', key], `expected a string, got ${JSON.stringify(v)}`);
    }
  }
  return facts as Facts;
}

/** One `--fact path=value` flag, read. */
export interface FactFlag {
  flag: string;
  path: string;
  value: unknown;
}

/**
 * Reads a `--fact path=value` flag. The value reads as a YAML scalar (`true`, `42`, `"5.4"`);
 * a path segment that could reach `Object.prototype` is refused.
 */
export function parseFactFlag(flag: string): FactFlag {
  const eq = flag.indexOf('=');
  if (eq <= 0) {
    throw new UpliftError('UPLIFT_USAGE', `--fact "${flag}" is not path=value`, {
      hint: 'write e.g. --fact database.type=oracle',
    });
  }
  const path = flag.slice(0, eq);
  const unsafe = path.split('.').find(isUnsafeKey);
  if (unsafe !== undefined) {
    throw new UpliftError('UPLIFT_USAGE', `--fact "${flag}": the key "${unsafe}" is not allowed`, {
      hint: `name a fact without ${unsafeKeys.join(', ')}; they could change every object of uplift`,
    });
  }
  return { flag, path, value: parseScalar(flag.slice(eq + 1)) };
}

/**
 * Applies `--fact path=value` flags over facts (`parseFactFlag`); a dotted path becomes nested
 * mappings, which fact lookup reads the same as a dotted key.
 */
export function applyFactFlags(facts: Facts, flags: readonly string[]): Facts {
  const out: Record<string, unknown> = structuredClone(facts);
  for (const flag of flags) {
    const { path, value } = parseFactFlag(flag);
    const segments = path.split('.');
    let node = out;
    for (const seg of segments.slice(0, -1)) {
      const next = Object.hasOwn(node, seg) ? node[seg] : undefined;
      if (typeof next !== 'object' || next === null || Array.isArray(next)) node[seg] = {};
      node = node[seg] as Record<string, unknown>;
    }
    node[segments.at(-1) as string] = value;
  }
  return out as Facts;
}

/** Calls `found` with the path of the first unsafe key (src/util/safe-keys.ts), at any depth. */
function refuseUnsafeKeys(
  value: unknown,
  path: PropertyKey[],
  found: (path: PropertyKey[]) => never,
) {
  if (Array.isArray(value)) {
    value.forEach((v, i) => {
      refuseUnsafeKeys(v, [...path, i], found);
    });
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  for (const key of Object.keys(value)) {
    if (isUnsafeKey(key)) found([...path, key]);
    refuseUnsafeKeys((value as Record<string, unknown>)[key], [...path, key], found);
  }
}

function parseScalar(text: string): unknown {
  if (text === 'true') return true;
  if (text === 'false') return false;
  // Only integers become numbers: "12.10" is a version, not 12.1.
  if (/^-?\d+$/.test(text) && !/^-?0\d/.test(text)) return Number(text);
  return text.replace(/^"(.*)"$/, '$1');
}
