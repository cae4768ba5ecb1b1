import type { Detection } from '../detect/index.ts';
import type { FactDeclaration, FactDeclarations } from './schema.ts';

/** A declared fact, with where its value comes from resolved. */
export interface DeclaredFact extends Omit<FactDeclaration, 'from'> {
  name: string;
  /** `uplift`: a fact detection reads for every profile (docs/detection.md). */
  from: 'detection' | 'operator' | 'uplift';
  /** The detection entry that reads it (`derive: from settings.db.type`), when one does. */
  detectedBy?: string;
}

/** Every fact a profile declares, uplift's own included, by dotted name. */
export interface DeclaredFacts {
  profile: string;
  /** The profile as the operator named it (a name or a folder): what a printed command passes. */
  ref: string;
  facts: ReadonlyMap<string, DeclaredFact>;
}

/**
 * The facts detection reads for every installation, whatever the profile (src/detect/detect.ts).
 * A profile may redeclare one to narrow it (`platform.os` to the vendor's operating systems).
 */
export const builtInFacts: FactDeclarations = {
  product: { type: 'string', description: 'The product the facts describe (the catalog product).' },
  version: { type: 'string', description: 'The installed version, as the catalog spells it.' },
  'platform.os': { type: 'string', description: 'Operating system (linux, windows, aix, …).' },
  'platform.arch': { type: 'string', description: 'Processor architecture (x86-64, arm64, …).' },
  'platform.id': {
    type: 'string',
    description: 'The catalog platform id of the installation (linux-x86-64, …).',
  },
  owner: {
    type: 'map',
    description: 'Who owns the installation: user, uid, group, gid, root, foreignFiles.',
  },
  runningAs: { type: 'map', description: 'Who ran the detection: uid, user.' },
  services: {
    type: 'any',
    description: 'The services and their pid files: name, pidFile, pid, running, leftover.',
  },
  customizedFiles: {
    type: 'any',
    description:
      'Files changed, added or removed against the vendor manifest: { changed, added, removed } or a list of paths.',
  },
  detection: {
    type: 'map',
    description: 'Which profile read the facts and what it could not read (warnings).',
  },
};

/** A fact a detection section writes: the entry that writes it, and where that is in profile.yaml. */
export interface DetectedBy {
  by: string;
  at: (string | number)[];
  /** An `into` group: the whole file, so everything under it is detected too. */
  group: boolean;
}

/** What a detection section writes, fact path → the first entry that writes it. */
export function detectedFactPaths(detection: Detection | undefined): Map<string, DetectedBy> {
  const out = new Map<string, DetectedBy>();
  if (!detection) return out;
  const add = (fact: string, by: string, at: (string | number)[], group = false) => {
    if (!out.has(fact)) out.set(fact, { by, at: ['detection', ...at], group });
  };
  detection.settings.forEach((s, i) => {
    if (s.into) add(s.into, `settings: ${s.file} (the whole file)`, ['settings', i, 'into'], true);
    for (const [fact, sel] of Object.entries(s.select ?? {}))
      add(fact, `settings: ${s.file} ${typeof sel === 'string' ? sel : sel.path}`, [
        'settings',
        i,
        'select',
        fact,
      ]);
  });
  detection.commands.forEach((c, i) => {
    add(c.fact, `commands: ${c.command.argv.join(' ')}`, ['commands', i, 'fact']);
  });
  detection.derive.forEach((d, i) => {
    add(d.fact, `derive: ${describeDerivation(d)}`, ['derive', i, 'fact']);
  });
  detection.data.forEach((m, i) => {
    add(m.fact, `data: ${describeMeasure(m)}`, ['data', i, 'fact']);
  });
  return out;
}

function describeDerivation(d: Detection['derive'][number]): string {
  if (d.from !== undefined) return `from ${d.from}`;
  if (d.isSet !== undefined) return `isSet ${d.isSet}`;
  if (d.fileExists !== undefined) return `fileExists ${d.fileExists}`;
  if (d.fileCustomized !== undefined) return `fileCustomized ${d.fileCustomized}`;
  if (d.differs !== undefined) return `differs ${d.differs}`;
  if (d.anyOf !== undefined) return `anyOf ${d.anyOf.join(', ')}`;
  return 'value';
}

function describeMeasure(m: Detection['data'][number]): string {
  if (m.sqlite !== undefined) return `sqlite ${m.sqlite}`;
  if (m.countFiles !== undefined) return `countFiles ${m.countFiles}`;
  if (m.sumBytes !== undefined) return `sumBytes ${m.sumBytes}`;
  return `countLines ${m.countLines}`;
}

// The loader knows how the operator named a profile; the checks receive only its manifest (from
// the planner, among others), yet their hints print a command that must find the same profile.
const profileRefs = new WeakMap<object, string>();

/** Remembers how the operator named the profile of `manifest` (`--profile` NAME or folder). */
export function nameProfileAs(manifest: object, ref: string): void {
  profileRefs.set(manifest, ref);
}

/** The declared facts of a profile manifest, or undefined when it declares none (nothing is checked). */
export function declaredFacts(manifest: {
  name: string;
  facts?: FactDeclarations;
  detection?: Detection;
}): DeclaredFacts | undefined {
  if (manifest.facts === undefined) return undefined;
  const detected = detectedFactPaths(manifest.detection);
  const facts = new Map<string, DeclaredFact>();
  for (const [name, d] of Object.entries(builtInFacts))
    facts.set(name, { ...d, name, from: 'uplift' });
  for (const [name, d] of Object.entries(manifest.facts)) {
    const by = (detected.get(name) ?? coveringGroup(detected, name))?.by;
    const from = d.from ?? (by !== undefined ? 'detection' : 'operator');
    facts.set(name, { ...d, name, from, ...(by !== undefined ? { detectedBy: by } : {}) });
  }
  return { profile: manifest.name, ref: profileRefs.get(manifest) ?? manifest.name, facts };
}

/** The `into` group a path lies under, if any. */
export function coveringGroup(
  detected: ReadonlyMap<string, DetectedBy>,
  name: string,
): DetectedBy | undefined {
  for (const [path, by] of detected) if (by.group && name.startsWith(`${path}.`)) return by;
  return undefined;
}

/**
 * How a fact path relates to the declarations: `declared` (it is one), `open` (it lies under a
 * declared `map` or `any`, which does not list its keys), `group` (declared facts lie under it),
 * or `unknown`.
 */
export type Coverage =
  | { kind: 'declared'; fact: DeclaredFact }
  | { kind: 'open'; under: DeclaredFact }
  | { kind: 'group' }
  | { kind: 'unknown' };

export function coverageOf(declared: DeclaredFacts, path: string): Coverage {
  const fact = declared.facts.get(path);
  if (fact) return { kind: 'declared', fact };
  const segments = path.split('.');
  for (let n = segments.length - 1; n >= 1; n--) {
    const parent = declared.facts.get(segments.slice(0, n).join('.'));
    if (parent && (parent.type === 'map' || parent.type === 'any'))
      return { kind: 'open', under: parent };
  }
  for (const name of declared.facts.keys())
    if (name.startsWith(`${path}.`)) return { kind: 'group' };
  return { kind: 'unknown' };
}

/** Every name an operator could have meant: the declared facts and the groups above them. */
export function factNames(declared: DeclaredFacts): string[] {
  const names = new Set<string>();
  for (const name of declared.facts.keys()) {
    const segments = name.split('.');
    for (let n = 1; n <= segments.length; n++) names.add(segments.slice(0, n).join('.'));
  }
  return [...names].sort();
}
