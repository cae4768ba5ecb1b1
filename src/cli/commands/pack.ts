import { lstat, open } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { ExitCode, UpliftError } from '../../errors/index.ts';
import {
  buildPack,
  type InstalledVersion,
  inspectPack,
  magic,
  type PackManifest,
  verifyPack,
} from '../../pack/index.ts';
import { loadPrivateKey, loadTrust } from '../../signing/index.ts';
import { formatBytes } from '../../util/index.ts';
import { prepareOut } from '../register.ts';
import type { CommandResult } from '../types.ts';

// Detection, profiles and vendor zips are imported only when a verify needs them: a plain
// `pack verify FILE --trust KEYS` starts without them (start-up counts on small packs).

/** Facts of the installation at `dir`, with the profile that describes it. */
async function detectInstall(dir: string, profileName: string | undefined) {
  const [{ resolveProfile }, { detectFacts }] = await Promise.all([
    import('../../plan/index.ts'),
    import('../../detect/index.ts'),
  ]);
  const profile = await resolveProfile({ install: dir, profile: profileName });
  return { profile, facts: await detectFacts(profile, dir) };
}

/** True when the file starts with the uplift pack magic, so it cannot be a vendor zip. */
async function isUpliftPackFile(file: string): Promise<boolean> {
  try {
    const fh = await open(file, 'r');
    try {
      const head = Buffer.alloc(magic.length);
      const { bytesRead } = await fh.read(head, 0, head.length, 0);
      return bytesRead === head.length && head.equals(magic);
    } finally {
      await fh.close();
    }
  } catch {
    return false;
  }
}

export interface PackBuildOptions {
  fromTree: string;
  toTree: string;
  platform: string;
  delta?: boolean;
  key: string;
  out: string;
  build?: string;
  fromRange?: string;
  migrations?: string;
  created?: string;
  /** The product's profile (name or folder), for its version scheme. */
  profile?: string;
  /** `--sha256`: also compute the whole file's SHA-256. */
  sha256?: boolean;
  /** `--workers N`, else UPLIFT_PACK_WORKERS: compression threads. */
  workers?: string;
}

/** `--workers N` (else the environment's UPLIFT_PACK_WORKERS): a whole number from 1 to 256. */
function parseWorkers(value: string | undefined): number | undefined {
  const raw = value ?? process.env.UPLIFT_PACK_WORKERS;
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 256)
    throw new UpliftError(
      'UPLIFT_USAGE',
      `${value === undefined ? 'UPLIFT_PACK_WORKERS=' : '--workers '}${raw}: expected a whole number of threads from 1 to 256`,
      { hint: 'Give e.g. --workers 2, or leave it out for one thread per core.' },
    );
  return n;
}

/** `uplift pack build`: a signed pack from two release trees. */
export async function build(opts: PackBuildOptions): Promise<CommandResult> {
  const workers = parseWorkers(opts.workers);
  const key = await loadPrivateKey(opts.key);
  await prepareOut(opts.out);
  const profile =
    opts.profile === undefined
      ? undefined
      : await (await import('../../profile/index.ts')).loadProfile(opts.profile);
  const started = performance.now();
  const r = await buildPack({
    ...opts,
    workers,
    key,
    fileSha256: opts.sha256 === true,
    ...(profile
      ? {
          versionScheme: profile.catalog.scheme.id,
          dataGlobs: [
            ...(profile.manifest.paths?.data ?? []),
            ...(profile.manifest.paths?.databases ?? []),
          ],
        }
      : {}),
  });
  const seconds = (performance.now() - started) / 1000;
  const m = r.manifest;
  const data = {
    file: r.file,
    bytes: r.bytes,
    ...(r.sha256 === undefined ? {} : { sha256: r.sha256 }),
    keyid: key.keyid,
    seconds,
    manifest: summary(m),
  };
  const text = [
    `Built ${r.file}`,
    ...describe(m),
    `  pack      ${formatBytes(r.bytes)} in ${seconds.toFixed(1)} s, signed by ${key.keyid}`,
    ...(r.sha256 === undefined ? [] : [`  sha256    ${r.sha256}`]),
    `Check it with: uplift pack verify ${r.file} --trust <the .pub of this key>`,
    '',
  ].join('\n');
  return { data, text, exitCode: ExitCode.ok };
}

export interface PackVerifyOptions {
  trust?: string;
  /** Vendor zips only: a catalog file to check against instead of the profile's. */
  catalog?: string;
  install?: string;
  profile?: string;
  platform?: string;
  stage?: string;
  /** `--max-expand RATIO`: the expansion ratio allowed (default the verifier's). */
  maxExpand?: string;
  /** `--sha256`: also compute the whole file's SHA-256 (uplift packs). */
  sha256?: boolean;
}

/** `--max-expand RATIO`: a number of at least 1. */
export function parseMaxExpand(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 1)
    throw new UpliftError('UPLIFT_USAGE', `--max-expand ${value}: expected a ratio of at least 1`, {
      hint: 'Give the unpacked bytes allowed per compressed byte, e.g. --max-expand 1000.',
    });
  return n;
}

export interface ProgressIo {
  stderr: (s: string) => void;
  stderrIsTty: boolean;
}

/**
 * A pack that is not there is not found, whatever kind it is: checked before the kind is told
 * (which needs the file) and before trust (which a vendor's zip does not need), so the operator
 * learns the file is missing and how to get it, not that a key is.
 */
async function refuseMissingPack(file: string): Promise<void> {
  const err = await lstat(file).then(
    () => undefined,
    (e: unknown) => e,
  );
  if ((err as NodeJS.ErrnoException | undefined)?.code !== 'ENOENT') return;
  const vendorZip = /\.zip$/i.test(file);
  throw new UpliftError(
    'UPLIFT_FILE_NOT_FOUND',
    `the ${vendorZip ? "vendor's pack" : 'pack'} ${file} does not exist`,
    {
      hint: vendorZip
        ? `Download ${basename(file)} from the vendor's download site (the catalog lists it under the release's packs, with its size and checksums), or fetch it from a repository that holds it (give fetch the installation as --install and the repository's URL or folder as --repo):\nuplift fetch --help`
        : "Fetch the packs the installation's plan needs, then give the path of one: give fetch the installation as --install and your repository's http(s):// URL or folder as --repo (they go to the fetch cache, or --out):\nuplift fetch --help",
      location: { file },
    },
  );
}

/** `uplift pack verify FILE`: signature, trust, policy and every payload byte, in one pass. */
export async function verify(
  file: string,
  opts: PackVerifyOptions,
  io: ProgressIo,
): Promise<CommandResult> {
  await refuseMissingPack(file);
  // A vendor's own pack (a zip named as a profile's vendorPacks says) has no uplift signature: it is
  // checked against the catalog's size and published checksums and its shape (docs/vendor-packs.md).
  if (
    !(await isUpliftPackFile(file)) &&
    (await (
      await import('../../vendor-pack/index.ts')
    ).isVendorPackFile(file, {
      profile: opts.profile,
      catalogFile: opts.catalog,
    }))
  )
    return verifyVendorZip(file, opts, io);
  const trustPath = opts.trust ?? process.env.UPLIFT_TRUST;
  if (!trustPath)
    throw new UpliftError(
      'UPLIFT_PACK_NO_TRUST',
      'no trusted keys: a pack is verified against the keys you trust',
      {
        hint: 'Give --trust the keys packs are signed with (a .pub file, a trust file or a directory of .pub files), or set UPLIFT_TRUST to them.',
      },
    );
  const trust = await loadTrust(trustPath);
  const maxExpand = parseMaxExpand(opts.maxExpand);
  let install: InstalledVersion | undefined;
  let versionScheme: string | undefined;
  let dataGlobs: string[] | undefined;
  if (opts.install !== undefined) {
    const { profile, facts } = await detectInstall(opts.install, opts.profile);
    install = { product: facts.product, version: facts.version, platform: facts.platform.id };
    versionScheme = profile.catalog.scheme.id;
    dataGlobs = [
      ...(profile.manifest.paths?.data ?? []),
      ...(profile.manifest.paths?.databases ?? []),
    ];
  }
  const started = performance.now();
  let last = 0;
  const onProgress = io.stderrIsTty
    ? (n: number, total: number) => {
        const now = performance.now();
        if (now - last < 100 && n < total) return;
        last = now;
        io.stderr(
          `\rverifying ${Math.floor((100 * n) / Math.max(total, 1))}% of ${formatBytes(total)}`,
        );
        if (n >= total) io.stderr('\n');
      }
    : undefined;
  const r = await verifyPack(file, {
    trust,
    install,
    platform: opts.platform,
    stageInto: opts.stage,
    versionScheme,
    ...(dataGlobs ? { dataGlobs } : {}),
    ...(maxExpand === undefined ? {} : { maxExpand }),
    onProgress,
    fileSha256: opts.sha256 === true,
  });
  const seconds = (performance.now() - started) / 1000;
  const m = r.manifest;
  const data = {
    ...fileData(file, r, true),
    ...(r.sha256 === undefined ? {} : { sha256: r.sha256 }),
    seconds,
    ...(r.staged ? { staged: r.staged } : {}),
    ...(install ? { installation: { dir: resolve(opts.install as string), ...install } } : {}),
    manifest: summary(m),
  };
  const rate = seconds > 0 ? `, ${(r.bytes / 1_048_576 / seconds).toFixed(0)} MiB/s` : '';
  const text = [
    `OK ${file}: signed by trusted key ${r.keyid}; every payload file matches the manifest`,
    ...describe(m),
    install
      ? `  fits      ${install.product} ${install.version} on ${install.platform} (${opts.install})`
      : opts.platform
        ? `  fits      platform ${opts.platform}; versions not checked (give --install DIR)`
        : `  fits      not checked against an installation (give --install DIR)`,
    ...(r.staged ? [`  staged    ${r.staged}`] : []),
    `  checked   ${formatBytes(r.bytes)} in ${seconds.toFixed(1)} s${rate}`,
    ...(r.sha256 === undefined ? [] : [`  sha256    ${r.sha256}`]),
    '',
  ].join('\n');
  return { data, text, exitCode: ExitCode.ok };
}

async function verifyVendorZip(
  file: string,
  opts: PackVerifyOptions,
  io: ProgressIo,
): Promise<CommandResult> {
  if (opts.stage !== undefined)
    throw new UpliftError('UPLIFT_USAGE', '--stage is for uplift packs, not vendor zips', {
      hint: "A vendor pack is applied by the vendor's own installer (docs/apply.md); drop --stage.",
    });
  let installed: string | undefined;
  let platform = opts.platform;
  let profile = opts.profile;
  if (opts.install !== undefined) {
    const { profile: p, facts } = await detectInstall(opts.install, opts.profile);
    installed = facts.version;
    platform ??= facts.platform.id;
    profile ??= p.manifest.name;
  }
  const { handler } = await import('./vendor-pack-verify.ts');
  return handler(file, { profile, catalog: opts.catalog, platform, installed }, io);
}

/** `uplift pack inspect FILE`: what the manifest says, without verifying anything. */
export async function inspect(file: string): Promise<CommandResult> {
  const r = await inspectPack(file);
  const m = r.manifest;
  const data = {
    ...fileData(file, r, false),
    sizeMatches: r.sizeMatches,
    manifest: m,
  };
  const lines = [
    `${file}  (NOT verified: inspection only reads the manifest; run uplift pack verify)`,
    ...describe(m),
    `  created   ${m.created}`,
    `  signer    ${r.keyid} (signature not checked)`,
    `  size      ${formatBytes(r.bytes)}${r.sizeMatches ? '' : '  (does NOT match the manifest: truncated or extended)'}`,
  ];
  for (const c of m.migrations.config)
    lines.push(
      `  config migration  ${c.id}: ${c.description ?? `${c.reads.join(', ')} → ${c.writes.join(', ')}`} (${c.run} ${c.script.path})`,
    );
  for (const d of m.migrations.database)
    lines.push(
      `  database migration  ${d.id}: ${d.description ?? d.database} (${d.engine}, ${d.script.path})`,
    );
  for (const h of m.hooks)
    lines.push(`  hook  ${h.phase} ${h.id}: ${h.description ?? h.script.path}`);
  if (m.migrations.config.length + m.migrations.database.length + m.hooks.length === 0)
    lines.push('  migrations and hooks: none');
  lines.push('');
  return { data, text: lines.join('\n'), exitCode: ExitCode.ok };
}

/** What `pack verify` and `pack inspect` report first about the file (`verified`: was every byte checked). */
function fileData(file: string, r: { keyid: string; bytes: number }, verified: boolean) {
  return { file: resolve(file), verified, keyid: r.keyid, bytes: r.bytes };
}

function counts(m: PackManifest): Record<'add' | 'replace' | 'delete', number> {
  const c = { add: 0, replace: 0, delete: 0 };
  for (const f of m.files) c[f.action]++;
  return c;
}

/** The manifest without its file list, plus counts: what scripts usually want. */
function summary(m: PackManifest) {
  const { files: _files, ...rest } = m;
  return { ...rest, counts: counts(m) };
}

function describe(m: PackManifest): string[] {
  const c = counts(m);
  return [
    `  pack      ${m.product} ${m.from.version} → ${m.to} (applies to ${m.from.range}), ${m.platform}, ${m.kind}, build ${m.build}`,
    `  files     ${c.add} to add, ${c.replace} to replace, ${c.delete} to delete`,
    `  payload   ${formatBytes(m.payload.bytes)} ${m.payload.compression} (level ${m.payload.level}) → ${formatBytes(m.payload.unpackedBytes)} tar, ${m.payload.entries} entries`,
    `  space     ${formatBytes(m.space.stage)} to stage; the installation ${m.space.growth >= 0 ? 'grows' : 'shrinks'} by ${formatBytes(Math.abs(m.space.growth))}`,
    `  migrations ${m.migrations.config.length} config, ${m.migrations.database.length} database; ${m.hooks.length} hook(s)`,
  ];
}
