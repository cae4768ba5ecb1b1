import { type Dirent, existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';

/** What `profileSkeleton` read from an installation folder: the guesses it writes down. */
export interface InstallGuesses {
  /** The version file and its pattern, with the version it reads (undefined: none found). */
  version?: { file: string; pattern: string; value: string };
  /** Configuration files, relative to the installation, with the format detection reads them as. */
  config: { file: string; format: 'yaml' | 'json' | 'properties' | 'ini' }[];
  /** Folders that look like data (carried across an upgrade untouched). */
  data: string[];
  /** Folders that look produced at run time (logs, caches). */
  generated: string[];
}

const versionFiles = ['version', 'VERSION', 'version.txt', 'VERSION.txt', 'release', 'RELEASE'];
const dataNames = new Set(['data', 'storage', 'var', 'uploads', 'db', 'database']);
const generatedNames = new Set(['log', 'logs', 'tmp', 'cache', 'run']);
const configDirs = ['', 'conf', 'config', 'etc', 'cfg', 'settings'];
const skip = new Set(['node_modules', '.git']);

function formatOf(name: string): InstallGuesses['config'][number]['format'] | undefined {
  if (name === '.env' || name.endsWith('.properties') || name.endsWith('.conf'))
    return 'properties';
  if (name.endsWith('.yaml') || name.endsWith('.yml')) return 'yaml';
  if (name.endsWith('.json') && name !== 'package-lock.json') return 'json';
  if (name.endsWith('.ini')) return 'ini';
  return undefined;
}

async function entriesOf(dir: string): Promise<Dirent[]> {
  return (await readdir(dir, { withFileTypes: true }).catch(() => [] as Dirent[])).sort((a, b) =>
    a.name.localeCompare(b.name),
  );
}

/** Reads the folder for what a first profile can say about it (nothing is written). */
export async function guessInstall(install: string): Promise<InstallGuesses> {
  const top = await entriesOf(install);
  const guesses: InstallGuesses = { config: [], data: [], generated: [] };
  for (const file of versionFiles) {
    const text = await readFile(join(install, file), 'utf8').catch(() => undefined);
    const value = text
      ?.split('\n')
      .find((l) => l.trim() !== '')
      ?.trim();
    if (value) {
      guesses.version = { file, pattern: String.raw`^\s*(?<version>\S.*?)\s*$`, value };
      break;
    }
  }
  if (!guesses.version) {
    const pkg = await readFile(join(install, 'package.json'), 'utf8').catch(() => undefined);
    const value = pkg && (JSON.parse(pkg) as { version?: unknown }).version;
    if (typeof value === 'string')
      guesses.version = {
        file: 'package.json',
        pattern: String.raw`^\s*"version"\s*:\s*"(?<version>[^"]+)"`,
        value,
      };
  }
  for (const sub of configDirs) {
    const dir = sub === '' ? top : await entriesOf(join(install, sub));
    for (const e of dir) {
      const format = e.isFile() ? formatOf(e.name) : undefined;
      if (format && !(sub === '' && e.name === 'package.json'))
        guesses.config.push({ file: sub === '' ? e.name : `${sub}/${e.name}`, format });
    }
  }
  for (const e of top) {
    if (!e.isDirectory() || skip.has(e.name)) continue;
    if (dataNames.has(e.name)) guesses.data.push(e.name);
    else if (generatedNames.has(e.name)) guesses.generated.push(e.name);
  }
  return guesses;
}

/** A profile name from a folder name: lower case, digits and dashes. */
export function profileNameOf(text: string): string {
  const name = text
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return /^[a-z0-9]/.test(name) ? name : `product-${name}`.replace(/-+$/, '');
}

const q = (s: string) => JSON.stringify(s);

/** The fact path a configuration file's settings go under: `config.<file stem>`. */
function factOf(file: string): string {
  const stem = basename(file)
    .replace(/^\./, '')
    .replace(/\.[^.]+$/, '');
  return `config.${stem.replace(/[^\w-]+/g, '_') || 'file'}`;
}

/**
 * The text of a first `profile.yaml` for the installation: every guess written out, every section
 * commented with what to check. It validates as it is (the loader accepts it), and does nothing
 * surprising: no stop or start command is guessed that could harm a running service.
 */
export function profileSkeleton(o: {
  name: string;
  title: string;
  install: string;
  guesses: InstallGuesses;
}): string {
  const g = o.guesses;
  const v = g.version ?? {
    file: 'version',
    pattern: String.raw`^\s*(?<version>\S.*?)\s*$`,
    value: '',
  };
  const lines = [
    `# A first profile for the installation in ${o.install}, written by uplift profile init.`,
    '# Every value below is a guess: check each one (docs/detection.md, docs/profiles.md), then',
    '# run `uplift facts --profile <this folder> --install <installation>` to see what it reads.',
    'profile: 1',
    `name: ${o.name}`,
    `title: ${q(o.title)}`,
    '# The releases of the product and how to upgrade between them (docs/catalog.md).',
    'catalog: catalog.yaml',
    '',
    ...factsSection(g),
    '',
    'detection:',
    g.version
      ? `  # The file that names the installed version; found: ${q(v.value)}.`
      : '  # No version file was found: name the file that holds the version, and its pattern.',
    `  version: { file: ${q(v.file)}, pattern: ${q(v.pattern)} }`,
  ];
  if (g.config.length > 0) {
    lines.push(
      '  # Configuration files found; each one lands under its own fact path.',
      '  settings:',
    );
    for (const c of g.config)
      lines.push(`    - { file: ${q(c.file)}, format: ${c.format}, into: ${factOf(c.file)} }`);
  } else
    lines.push(
      '  # No configuration files were found; list them under settings:.',
      '  settings: []',
    );
  const ignore = [...g.data, ...g.generated].map((d) => q(`${d}/**`));
  lines.push(
    '  # Left out when uplift compares the installation with what the vendor shipped.',
    `  ignore: [${ignore.join(', ')}]`,
    '',
    '# How the product starts, stops and proves it is ready (docs/profiles.md). A guess: replace the',
    `# command with the real one; \${install} is the installation, \${node} the Node.js binary.`,
    'lifecycle:',
    '  services:',
    '    - name: server',
    `      run: { argv: ["\${install}/bin/start"], log: ${q(g.generated.includes('logs') ? 'logs/server.log' : 'server.log')} }`,
    `      pidFile: ${q(g.generated.includes('run') ? 'run/server.pid' : 'server.pid')}`,
    '  readiness:',
    '    probes:',
    '      - { name: http, http: { url: "http://127.0.0.1:8080/", status: 200 } }',
    '    timeoutSeconds: 60',
    '',
    '# What an upgrade does with each part of the installation.',
    'paths:',
    '  # Customer data: carried across untouched (hard-linked: only for files the product replaces',
    '  # by writing a new file and renaming it; list the others under config or leave them out).',
    `  data: [${g.data.map((d) => q(`${d}/**`)).join(', ')}]`,
    '  # Configuration the customer edits: merged three ways with the new version.',
    `  config: [${g.config.map((c) => q(c.file)).join(', ')}]`,
    '  # Produced at run time: not carried, not backed up.',
    `  generated: [${g.generated.map((d) => q(`${d}/**`)).join(', ')}]`,
    '',
  );
  return lines.join('\n');
}

/**
 * The `facts:` section: the facts detection writes below (one open group per configuration file),
 * so `--fact`, `--facts` and detection are checked from the first run (a typo is "did you mean").
 */
function factsSection(g: InstallGuesses): string[] {
  const lines = [
    '# The facts of this product, checked in every --fact, --facts file and detection',
    '# (docs/profiles.md, "Facts"). Declare each fact your rules use, e.g.',
    '#   config.app.listen: { type: integer, description: The port the server listens on. }',
  ];
  const files = [...new Map(g.config.map((c) => [factOf(c.file), c.file])).entries()];
  if (files.length === 0) return [...lines, 'facts: {}'];
  lines.push('facts:');
  for (const [fact, file] of files)
    lines.push(`  ${fact}: { type: map, description: ${q(`The settings of ${file}.`)} }`);
  return lines;
}

/** The version scheme for a version as written: semver when it is one, else a loose pattern. */
function schemeOf(version: string): string {
  if (/^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/.test(version)) return 'semver';
  return String.raw`regex:v?(?<release>\d+(?:\.\d+)*)(?:\D+(?<level>\d+))?\D*`;
}

/** The text of a first `catalog.yaml`: the detected version as the only release. */
export function catalogSkeleton(o: { name: string; title: string; version?: string }): string {
  const version = o.version ?? '1.0.0';
  const seconds = (n: number) => `{ seconds: ${n} }`;
  return [
    `# The catalog of ${o.name}, written by uplift profile init (docs/catalog.md): add each release,`,
    '# its notes and packs, the upgrade rules and incompatibilities. Durations are first guesses.',
    'catalog: 1',
    `product: ${o.name}`,
    `title: ${q(o.title)}`,
    `versionScheme: ${q(schemeOf(version))}`,
    'releases:',
    `  - version: ${q(version)}`,
    '    kind: ga',
    '    illustrative: true',
    "    reason: written by uplift profile init; give the vendor's source instead",
    'upgrade: {}',
    'durations:',
    '  downloadBytesPerSecond: 10000000',
    `  backup: ${seconds(30)}`,
    `  stop: ${seconds(10)}`,
    `  apply: ${seconds(30)}`,
    `  migrate: ${seconds(0)}`,
    `  start: ${seconds(10)}`,
    `  validate: ${seconds(60)}`,
    `  rollback: ${seconds(30)}`,
    '  illustrative: true',
    '  reason: first guesses of uplift profile init, not measured',
    '',
  ].join('\n');
}

/** True when the folder already holds a profile. */
export function hasProfile(dir: string): boolean {
  return existsSync(join(dir, 'profile.yaml'));
}
