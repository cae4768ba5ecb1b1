import { constants } from 'node:fs';
import { copyFile, lstat, mkdtemp, open, realpath, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { compilePattern, type ProvenanceFields, provenanceOf } from '../catalog/index.ts';
import { UpliftError } from '../errors/index.ts';
import type { Profile } from '../profile/index.ts';
import { evaluateRule, lookupFact } from '../rules/index.ts';
import { compileGlob, isUnsafeKey, kindOf } from '../util/index.ts';
import { matchOutput, runCommand } from './command.ts';
import { type FactMap, isRecord, setFact } from './fact-path.ts';
import { parseConfig, toScalar } from './formats.ts';
import { hostPlatform, ownerOf, pidState, runningAs } from './host.ts';
import { readInstallText, resolveInside } from './install-file.ts';
import { type Inventory, isUnder, walkInstallation } from './inventory.ts';
import { type CustomizedFiles, compareWithManifest, readManifest } from './manifest.ts';
import type { CommandFact, Derivation, Detection, Measure, SettingsFile } from './schema.ts';
import type { DetectedFacts, DetectOptions, ServiceState } from './types.ts';
import { describeVersionSource } from './version-name.ts';
import { readVersionSource } from './version-source.ts';

/** Setting keys whose values are secrets unless a profile says otherwise. */
const defaultRedact = [
  'password',
  'passwd',
  'secret',
  'token',
  'passphrase',
  'credential',
  'private',
];
const REDACTED = '(redacted)';

/**
 * Reads an installation's facts as the profile's `detection` section describes. In order: the
 * version, host facts (platform, owner, who runs uplift), settings files, customized files,
 * services, `derive`, then `data` (so a measure's `when` can use derived facts). Reads only:
 * databases are opened read-only and nothing in the installation is written.
 *
 * Deterministic: no timestamps, lists sorted, so the same installation gives the same facts and a
 * plan made from them the same hash.
 */
export async function detectFacts(
  profile: Profile,
  installDir: string,
  opts: DetectOptions = {},
): Promise<DetectedFacts> {
  const detection = profile.manifest.detection;
  if (!detection) {
    throw new UpliftError(
      'UPLIFT_USAGE',
      `the profile ${profile.manifest.name} does not say how to detect an installation`,
      { hint: 'give the facts with --facts FILE or --fact path=value instead of --install' },
    );
  }
  const install = resolve(installDir);
  const version = await readVersion(profile, install);
  const ctx = new Context(profile, detection, install, version);
  ctx.markIf('version', ctx.illustrative(detection.version));

  const facts = ctx.facts;
  facts.product = profile.catalog.catalog.product;
  facts.version = version;
  facts.platform = hostPlatform(detection.platformIds);
  facts.owner = await ownerOf(install);
  facts.runningAs = runningAs();
  checkVersionKnown(ctx);

  for (const s of detection.settings) await readSettings(ctx, s);
  for (const c of detection.commands) await readCommandFact(ctx, c);
  const customized = await readCustomized(ctx, opts.vendorManifest);
  if (customized) facts.customizedFiles = customized;
  facts.services = await readServices(ctx);
  await countForeignFiles(ctx);
  for (const d of detection.derive) await derive(ctx, d);
  for (const m of detection.data) await measure(ctx, m);

  facts.detection = {
    profile: profile.manifest.name,
    warnings: ctx.warnings,
    ...(ctx.marks.size > 0
      ? {
          illustrative: [...ctx.marks]
            .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
            .map(([fact, reason]) => ({ fact, reason })),
        }
      : {}),
  };
  return facts as DetectedFacts;
}

/** True when the profile's version source gives a version for the folder. */
export async function isInstallationOf(profile: Profile, installDir: string): Promise<boolean> {
  const v = profile.manifest.detection?.version;
  if (!v) return false;
  const install = resolve(installDir);
  const st = await stat(install).catch(() => undefined);
  if (!st?.isDirectory()) return false;
  // A version file detection refuses to read (a FIFO, a link out) still marks the product: detection
  // then says what is wrong with it instead of "not an installation of a known product".
  const read = await readVersionSource(v, install);
  return read.version !== undefined || read.refused !== undefined;
}

class Context {
  readonly facts: FactMap = {};
  readonly warnings: string[] = [];
  /** Facts read or derived through an illustrative entry, with its reason. */
  readonly marks = new Map<string, string>();
  customized: CustomizedFiles | undefined;
  private inventory: Promise<Inventory> | undefined;
  private roots: Promise<string[]> | undefined;

  readonly profile: Profile;
  readonly detection: Detection;
  readonly install: string;
  readonly version: string;

  constructor(profile: Profile, detection: Detection, install: string, version: string) {
    this.profile = profile;
    this.detection = detection;
    this.install = install;
    this.version = version;
  }

  path(rel: string): string {
    return rel === '.' ? this.install : join(this.install, rel);
  }

  /** The reason an entry is illustrative (its own, else the section's), or undefined when it is not. */
  illustrative(entry: ProvenanceFields, parent?: ProvenanceFields): string | undefined {
    const whole = provenanceOf(this.detection, undefined);
    const p = provenanceOf(entry, parent ? provenanceOf(parent, whole) : whole);
    return p?.kind === 'illustrative' ? p.reason : undefined;
  }

  markIf(fact: string, reason: string | undefined): void {
    if (reason !== undefined) this.marks.set(fact, reason);
  }

  /** Why a fact (or the group holding it) rests on an illustrative input, if it does. */
  markOf(fact: string): string | undefined {
    const parts = fact.split('.');
    for (let i = parts.length; i > 0; i--) {
      const reason = this.marks.get(parts.slice(0, i).join('.'));
      if (reason !== undefined) return reason;
    }
    return undefined;
  }

  /** One walk of the installation, shared by every measure and the manifest comparison. */
  walk(): Promise<Inventory> {
    this.inventory ??= walkInstallation(this.install).then((inv) => {
      for (const u of inv.unreadable)
        this.warnings.push(`could not read ${u}; its files are not counted`);
      return inv;
    });
    return this.inventory;
  }

  /** The installation's path as given and through symlinks: a process may name either. */
  installRoots(): Promise<string[]> {
    this.roots ??= realpath(this.install).then(
      (real) => [...new Set([this.install, real])],
      () => [this.install],
    );
    return this.roots;
  }

  /** The entry for this installation's version from a `ByVersion` list; undefined when none matches. */
  byVersion<T extends { versions?: string; value?: unknown }>(
    list: readonly T[],
    what: string,
  ): T | undefined {
    for (const entry of list) {
      if (entry.versions === undefined) return entry;
      const pattern = compilePattern(entry.versions, this.profile.catalog.scheme);
      if (typeof pattern === 'string') {
        throw new UpliftError(
          'UPLIFT_PROFILE_INVALID',
          `${what}: versions "${entry.versions}": ${pattern}`,
          {
            location: { file: join(this.profile.dir, 'profile.yaml'), path: what },
            hint: 'write a catalog version pattern such as ">=5.5 GA" (docs/catalog.md)',
          },
        );
      }
      try {
        if (pattern.matches(this.version)) return entry;
      } catch {
        // A version the scheme cannot read matches no pattern; checkVersionKnown has said so.
      }
    }
    return undefined;
  }
}

async function readVersion(profile: Profile, install: string): Promise<string> {
  const source = (profile.manifest.detection as Detection).version;
  const what = describeVersionSource(source);
  const notInstallation = (why: string, file?: string) =>
    new UpliftError(
      'UPLIFT_DETECT_NOT_INSTALLATION',
      `${install} is not a ${profile.catalog.catalog.title} installation: ${why}`,
      {
        location: { file: file ?? install },
        hint: source.command
          ? `give the installation directory (where ${what} names the version), or another --profile`
          : `give the installation directory (the folder holding ${what}), or another --profile`,
      },
    );
  const st = await stat(install).catch(() => undefined);
  if (!st?.isDirectory()) throw notInstallation('no such directory');
  const read = await readVersionSource(source, install);
  if (read.version === undefined) {
    if (read.refused) throw read.refused;
    throw notInstallation(read.why, read.file);
  }
  return read.version;
}

function checkVersionKnown(ctx: Context): void {
  const c = ctx.profile.catalog;
  let known = false;
  try {
    known = c.versions.some((v) => c.scheme.compare(v, ctx.version) === 0);
  } catch {
    ctx.warnings.push(`version "${ctx.version}" is not a ${c.scheme.id} version`);
    return;
  }
  if (!known) ctx.warnings.push(`version "${ctx.version}" is not in the catalog`);
}

async function readSettings(ctx: Context, s: SettingsFile): Promise<void> {
  const file = ctx.path(s.file);
  const text = await readInstallText(ctx.install, s.file);
  if (text === undefined) {
    if (s.required) {
      throw new UpliftError('UPLIFT_DETECT_CONFIG', `${file} is missing`, {
        location: { file },
        hint: `restore ${s.file} from the backup or the release; the product needs it`,
        unchanged: true,
      });
    }
    // The product runs on its defaults when the file is absent; so do the facts.
    if (s.into && s.defaults) {
      setFact(ctx.facts, s.into, { ...s.defaults });
      ctx.markIf(s.into, ctx.illustrative(s));
    }
    return;
  }
  const doc = parseConfig(text, s.format, file, { pattern: s.pattern });
  const reason = ctx.illustrative(s);
  if (s.into) ctx.markIf(s.into, reason);
  for (const fact of Object.keys(s.select ?? {})) ctx.markIf(fact, reason);
  for (const d of doc.dropped) {
    ctx.warnings.push(
      `${s.file}${d.line ? `:${d.line}` : ''}: key "${d.key}" ignored (it could change every object of uplift)`,
    );
  }
  const redact = (ctx.detection.redact ?? defaultRedact).map((r) => r.toLowerCase());
  if (s.into && doc.values) {
    setFact(ctx.facts, s.into, redactValues({ ...s.defaults, ...doc.values }, redact));
  }
  for (const [fact, sel] of Object.entries(s.select ?? {})) {
    const path = typeof sel === 'string' ? sel : sel.path;
    const all = typeof sel !== 'string' && sel.all;
    const found = doc.select(path);
    if (found.length === 0 && !all) continue;
    const value = all ? found : found[0];
    setFact(ctx.facts, fact, isSecret(fact, redact) || isSecret(path, redact) ? REDACTED : value);
  }
}

/** A fact from a command's output; a command that fails leaves the fact unknown, with a warning. */
async function readCommandFact(ctx: Context, c: CommandFact): Promise<void> {
  if (c.when && evaluateRule(c.when, ctx.facts).value !== true) return;
  const out = await runCommand(c.command, ctx.install);
  if (!out.ok) {
    ctx.warnings.push(`${c.fact} unknown: ${out.why}`);
    return;
  }
  const value = matchOutput(out, c.pattern, 'value');
  if (value === undefined) {
    ctx.warnings.push(
      `${c.fact} unknown: ${c.command.argv.join(' ')} printed no match of ${c.pattern}`,
    );
    return;
  }
  setFact(ctx.facts, c.fact, toScalar(value));
  ctx.markIf(c.fact, ctx.illustrative(c));
}

function isSecret(key: string, redact: readonly string[]): boolean {
  const k = key.toLowerCase();
  return redact.some((r) => k.includes(r));
}

function redactValues(values: FactMap, redact: readonly string[]): FactMap {
  const out: FactMap = {};
  for (const [k, v] of Object.entries(values)) {
    if (isUnsafeKey(k)) continue;
    out[k] = isSecret(k, redact) ? REDACTED : isRecord(v) ? redactValues(v, redact) : v;
  }
  return out;
}

async function readCustomized(
  ctx: Context,
  override: string | undefined,
): Promise<CustomizedFiles | undefined> {
  const rel = ctx.detection.vendorManifest;
  const file = override !== undefined ? resolve(override) : rel && ctx.path(rel);
  if (file === undefined) {
    ctx.warnings.push('no vendor manifest: customized files are unknown (give --vendor-manifest)');
    return undefined;
  }
  // The operator's --vendor-manifest may be anywhere; the profile's must stay inside.
  const real = override !== undefined ? file : await resolveInside(ctx.install, rel as string);
  const manifest = real === undefined ? undefined : await readManifest(real);
  if (!manifest) {
    const msg = `vendor manifest ${override ?? rel} is missing: customized files are unknown`;
    if (override !== undefined) {
      throw new UpliftError('UPLIFT_FILE_NOT_FOUND', msg, {
        location: { file },
        hint: 'check the path of --vendor-manifest',
      });
    }
    ctx.warnings.push(msg);
    return undefined;
  }
  if (manifest.version !== undefined && manifest.version !== ctx.version) {
    ctx.warnings.push(
      `the vendor manifest is of version ${manifest.version}, the installation says ${ctx.version}`,
    );
  }
  // The manifest describes the vendor's files; it is not one of the customer's.
  const inside = relative(ctx.install, file);
  const ignore = [...ctx.detection.ignore];
  if (!inside.startsWith('..') && !isAbsolute(inside)) ignore.push(inside.split(sep).join('/'));
  const { entries } = await ctx.walk();
  ctx.customized = await compareWithManifest(ctx.install, entries, manifest, ignore);
  return ctx.customized;
}

async function readServices(ctx: Context): Promise<ServiceState[]> {
  const out: ServiceState[] = [];
  const claimed = new Set<string>();
  const roots = await ctx.installRoots();
  const state = async (name: string, pidFile: string, text: string | undefined) => {
    claimed.add(pidFile);
    const trimmed = text?.trim() ?? '';
    const pid = /^\d+$/.test(trimmed) && Number(trimmed) > 0 ? Number(trimmed) : null;
    const s: ServiceState = { name, pidFile, pid, running: false, leftover: text !== undefined };
    if (pid !== null) {
      const st = await pidState(pid, roots);
      s.running = st === 'running';
      s.leftover = !s.running;
      if (st === 'other-program') s.note = `pid ${pid} now belongs to another program`;
    } else if (text !== undefined) s.note = 'the pid file does not hold a pid';
    out.push(s);
  };
  // Without its own list, detection reads the pid files the profile's lifecycle declares: one
  // declaration serves apply and the facts.
  const services =
    ctx.detection.services.length > 0
      ? ctx.detection.services
      : (ctx.profile.manifest.lifecycle?.services ?? []).flatMap((s) =>
          s.pidFile ? [{ name: s.name, pidFile: s.pidFile }] : [],
        );
  for (const svc of services.filter((x) => !/[*?]/.test(x.pidFile))) {
    const text = await readInstallText(ctx.install, svc.pidFile);
    await state(svc.name ?? serviceName(svc.pidFile), svc.pidFile, text);
  }
  for (const svc of services.filter((x) => /[*?]/.test(x.pidFile))) {
    const glob = compileGlob(svc.pidFile);
    const { entries } = await ctx.walk();
    for (const e of entries) {
      if (e.kind !== 'file' || claimed.has(e.path) || !glob.matches(e.path)) continue;
      const text = await readInstallText(ctx.install, e.path);
      await state(serviceName(e.path), e.path, text);
    }
  }
  return out;
}

function serviceName(pidFile: string): string {
  return (pidFile.split('/').at(-1) as string).replace(/\.pid$/, '');
}

/** Files not owned by the installation's owner: an upgrade run as the owner cannot replace them. */
async function countForeignFiles(ctx: Context): Promise<void> {
  const owner = ctx.facts.owner as { uid: number };
  const { entries } = await ctx.walk();
  const foreign = entries.filter((e) => e.uid !== owner.uid).map((e) => e.path);
  setFact(ctx.facts, 'owner.foreignFiles', foreign.length);
  if (foreign.length > 0) setFact(ctx.facts, 'owner.foreignSample', foreign.slice(0, 10));
}

async function derive(ctx: Context, d: Derivation): Promise<void> {
  // The first derivation that knows a fact wins; later ones are fallbacks.
  if (lookupFact(ctx.facts, d.fact).found) return;
  if (d.when && evaluateRule(d.when, ctx.facts).value !== true) return;
  const derived = await deriveValue(ctx, d);
  if (derived.value === undefined) return;
  setFact(ctx.facts, d.fact, derived.value);
  ctx.markIf(d.fact, derived.illustrative);
}

/** A derived value, and why it rests on an illustrative input when it does. */
interface Derived {
  value: unknown;
  illustrative?: string;
}

async function deriveValue(ctx: Context, d: Derivation): Promise<Derived> {
  const own = ctx.illustrative(d);
  if (d.value !== undefined) return { value: d.value, illustrative: own };
  if (d.isSet !== undefined) {
    const f = lookupFact(ctx.facts, d.isSet);
    return { value: f.found && f.value !== '', illustrative: ctx.markOf(d.isSet) ?? own };
  }
  if (d.fileExists !== undefined) {
    const value = await lstat(ctx.path(d.fileExists)).then(
      () => true,
      () => false,
    );
    return { value, illustrative: own };
  }
  if (d.fileCustomized !== undefined) {
    const c = ctx.customized;
    if (!c) return { value: undefined };
    const glob = compileGlob(d.fileCustomized);
    const value = [...c.changed, ...c.added, ...c.removed].some((p) => glob.matches(p));
    return { value, illustrative: own };
  }
  if (d.anyOf !== undefined) {
    const values = d.anyOf.map((path) => ({ path, ...lookupFact(ctx.facts, path) }));
    const trues = values.filter((f) => f.found && f.value === true);
    // True rests on an illustrative input only when every input that made it true does.
    if (trues.length > 0) {
      const marks = trues.map((f) => ctx.markOf(f.path));
      return { value: true, illustrative: marks.every((m) => m !== undefined) ? marks[0] : own };
    }
    if (!values.every((f) => f.found)) return { value: undefined };
    return {
      value: false,
      illustrative: values.map((f) => ctx.markOf(f.path)).find((m) => m) ?? own,
    };
  }
  if (d.from !== undefined) {
    const f = lookupFact(ctx.facts, d.from);
    if (f.found && f.value !== '')
      return {
        value: d.split ? toList(f.value, d.split) : f.value,
        illustrative: ctx.markOf(d.from),
      };
    if (d.default !== undefined) return { value: d.default, illustrative: own };
    if (d.defaultByVersion) {
      const entry = ctx.byVersion(d.defaultByVersion, `derive ${d.fact}`);
      return { value: entry?.value, illustrative: entry && ctx.illustrative(entry, d) };
    }
    return { value: undefined };
  }
  if (d.differs !== undefined) {
    const f = lookupFact(ctx.facts, d.differs);
    // Unset means the product uses its own value, which is the vendor's: no stock value is read.
    if (!f.found || f.value === '') return { value: false, illustrative: ctx.markOf(d.differs) };
    const entry =
      d.vendor !== undefined
        ? { value: d.vendor }
        : ctx.byVersion(d.vendorByVersion ?? [], `derive ${d.fact}`);
    if (entry?.value === undefined) {
      ctx.warnings.push(`${d.fact}: no vendor value for version ${ctx.version}`);
      return { value: undefined };
    }
    const norm = (v: unknown) =>
      d.split ? toList(v, d.split).join('\n') : String(v).trim().replace(/\s+/g, ' ');
    return {
      value: norm(f.value) !== norm(entry.value),
      illustrative: ctx.illustrative(entry, d) ?? ctx.markOf(d.differs),
    };
  }
  /* v8 ignore next -- unreachable: the schema requires exactly one kind */
  throw new Error(`derive ${d.fact} has no kind`);
}

function toList(value: unknown, separator: string): string[] {
  if (Array.isArray(value)) return value.map((v) => String(v).trim());
  return String(value)
    .split(separator)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

async function measure(ctx: Context, m: Measure): Promise<void> {
  if (m.when && evaluateRule(m.when, ctx.facts).value !== true) return;
  const value = await measureValue(ctx, m);
  if (value !== undefined) {
    setFact(ctx.facts, m.fact, value);
    ctx.markIf(m.fact, ctx.illustrative(m));
  }
}

async function measureValue(ctx: Context, m: Measure): Promise<number | undefined> {
  if (m.countFiles !== undefined || m.sumBytes !== undefined) {
    const folder = (m.countFiles ?? m.sumBytes) as string;
    const { entries } = await ctx.walk();
    const files = entries.filter((e) => e.kind === 'file' && isUnder(e.path, folder));
    return m.countFiles !== undefined ? files.length : files.reduce((n, e) => n + e.size, 0);
  }
  if (m.countLines !== undefined) {
    const text = await readInstallText(ctx.install, m.countLines);
    if (text === undefined) return 0;
    const skip = new RegExp(m.skip ?? '^\\s*(#.*)?$');
    return text.split(/\r\n|\r|\n/).filter((l) => l.trim() !== '' && !skip.test(l)).length;
  }
  return countRows(ctx, m);
}

/**
 * Runs the first of the measure's queries that works, on a read-only connection with a short busy
 * timeout: a running server keeps its database, and detection only waits a moment for a lock.
 * An absent database has no rows; one that cannot be read (or is no regular file) leaves the fact
 * unknown, with a warning. A database that leads out of the installation is refused
 * (install-file.ts).
 */
async function countRows(ctx: Context, m: Measure): Promise<number | undefined> {
  const rel = m.sqlite as string;
  const real = await resolveInside(ctx.install, rel);
  if (real === undefined) return 0;
  const problems: string[] = [];
  const st = await stat(real).catch((err: NodeJS.ErrnoException) => {
    problems.push(err.code ?? err.message);
    return undefined;
  });
  if (st && !st.isFile()) problems.push(`it is ${kindOf(st)}, not a regular file`);
  if (st?.isFile()) {
    const n = await queryCount(real, m.queries ?? [], problems);
    if (n !== undefined) return n;
  }
  ctx.warnings.push(`${m.fact} unknown: ${rel}: ${problems.join('; ')}`);
  return undefined;
}

/**
 * The first query's number. Opening a WAL database read-only makes SQLite create its -wal and
 * -shm files when they are absent, which would write into the installation: then (no server has
 * the database open) the database is read from a copy in a temporary folder. With both present
 * (a running server), the connection uses them and creates nothing.
 */
async function queryCount(
  file: string,
  queries: readonly string[],
  problems: string[],
): Promise<number | undefined> {
  const { default: Database } = await import('better-sqlite3');
  const present = async (suffix: string) =>
    lstat(`${file}${suffix}`).then(
      () => true,
      () => false,
    );
  const hasWal = await present('-wal');
  const hasShm = await present('-shm');
  let copyDir: string | undefined;
  let db: InstanceType<typeof Database> | undefined;
  try {
    let open = file;
    if (!(hasWal && hasShm) && (await isWalDatabase(file))) {
      copyDir = await mkdtemp(join(tmpdir(), 'uplift-detect-'));
      open = join(copyDir, 'db');
      // A clone where the filesystem can (XFS, Btrfs): no bytes copied; else a full copy.
      await copyFile(file, open, constants.COPYFILE_FICLONE);
      if (hasWal) await copyFile(`${file}-wal`, `${open}-wal`, constants.COPYFILE_FICLONE);
    }
    db = new Database(open, { readonly: true, fileMustExist: true, timeout: 500 });
    for (const query of queries) {
      try {
        const v = db.prepare(query).pluck().get();
        const n = typeof v === 'bigint' ? Number(v) : v;
        if (typeof n === 'number' && Number.isFinite(n)) return n;
        problems.push(`${query}: not a number`);
      } catch (err) {
        problems.push(`${query}: ${(err as Error).message}`);
      }
    }
  } catch (err) {
    problems.push((err as Error).message);
  } finally {
    db?.close();
    if (copyDir !== undefined) await rm(copyDir, { recursive: true, force: true });
  }
  return undefined;
}

/** True when the file's SQLite header says WAL mode (file format versions 2 at offsets 18 and 19). */
async function isWalDatabase(file: string): Promise<boolean> {
  const fh = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const header = Buffer.alloc(20);
    const { bytesRead } = await fh.read(header, 0, 20, 0);
    return bytesRead === 20 && header[18] === 2;
  } finally {
    await fh.close();
  }
}
