import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { isAlive } from '../src/util/index.ts';
import { skiffProfileWith } from '../test/util/apply-skiff.ts';
import { freePort } from '../test/util/free-port.ts';
import { type ClientView, observe } from './downtime.ts';
import {
  type GeneratedTree,
  generateTree,
  listFiles,
  type MutatedTree,
  mutateTree,
  sha256File,
} from './generate-tree.ts';
import {
  figures,
  type ProcessRun,
  type RunFigures,
  removed,
  runProcess,
  snapshotDist,
  type Timed,
  timed,
} from './measure.ts';
import { round } from './stats.ts';
import {
  buildPlannedPack,
  pinSkiffPort,
  profileStableSeconds,
  script,
  sh,
  shAsync,
} from './upgrade-steps.ts';

/**
 * `uplift apply` on a real skiff installation that carries a generated 20,000-file, 1 GiB vendor
 * tree (layered under `lib/bulk/` of two synthetic release trees: the old one, and the new one with
 * 10 % of those files changed, a few added and deleted), so that skiff still starts, answers
 * `/health`, and apply's probe and smoke test are the real ones. In the same run, on the same files:
 * - downtime of `uplift apply` against a naive in-place upgrade of an identical copy: `bin/stop_all`,
 *   `tar -xf` of the new release tree but conf/ (the customer's configuration) over the
 *   installation, `bin/start_all`, the same probe (pid alive, `GET /health` answers 200 with the
 *   new version, polled every 200 ms as apply polls, for the profile's `stableSeconds` in a row);
 *   once more with `sync -f` after tar, since apply flushes its new tree before the switch. Two
 *   figures: what a client sees (bench/downtime.ts's poller: a GET on the port pinned in
 *   conf/skiff.properties every 50 ms, from the first failed request to the first success after
 *   which all succeeded), which the goal is on; and stop until the probe passed and the stability
 *   window was over (apply's from its journal), which counts the window the service already answers in;
 * - rollback: `uplift rollback` after the committed apply (wall time of the process), and the
 *   automatic rollback of an apply whose readiness probe fails (a copy of skiff's profile whose
 *   probe fails for the new version, 5 s readiness timeout, and is skiff's own for the old one):
 *   from the probe's failure to the old version started again, from the journal, and the whole
 *   command;
 * - staging: apply's `stage` step (and `verify` + `stage`) in MB/s of the new vendor tree, against
 *   `tar -xf` of a tar of that tree and `unzip -q` of a zip of it (default level), into empty
 *   folders of the same filesystem, best of two.
 * Every uplift command runs as a real process of a private snapshot of dist/. `sync` runs before
 * each measured upgrade, so no one inherits another's dirty pages.
 */
export interface ApplyFigures {
  from: string;
  to: string;
  platform: string;
  tree: Omit<GeneratedTree, 'root'>;
  next: Omit<MutatedTree, 'root'>;
  /** The new release tree (skiff + generated): what staging builds and tar/unzip extract. */
  newTree: { files: number; bytes: number };
  packBytes: number;
  setupSeconds: number;
  downtime: {
    /** What a client polling /health sees (bench/downtime.ts): the goal's figures. */
    client: {
      apply: ClientView;
      naive: ClientView;
      naiveSync: ClientView;
      /** apply ÷ naive, client-seen seconds: the goal is 0.1 or less. */
      ratio: number;
      ratioSync: number;
    };
    /** uplift apply: journal `stop:begin` to `probe:done` (with the stability window). */
    applySeconds: number;
    /** apply's own figure (HopReport.downtimeSeconds: after the stop until the probe passed). */
    applyReportedSeconds: number;
    applySteps: Record<string, number>;
    naiveSeconds: number;
    naiveSteps: { stop: number; extract: number; start: number; probe: number };
    naiveSyncSeconds: number;
    naiveSyncSteps: { stop: number; extract: number; sync: number; start: number; probe: number };
    /** apply / naive, stop to the end of the stability window. */
    ratio: number;
    ratioSync: number;
  };
  apply: { commandSeconds: number; stepSeconds: Record<string, number>; peakRssMB: number };
  rollback: {
    manualSeconds: number;
    manualMethod: string;
    /** Journal: the probe's failure to `rollback:done` (old version started again). */
    automaticSeconds: number;
    /** Journal: `rollback:begin` to `rollback:done`. */
    automaticRollbackStepSeconds: number;
    automaticCommandSeconds: number;
    automaticExitCode: number | null;
  };
  staging: {
    bytes: number;
    /** Best of the two applies' stage steps. */
    stageSeconds: number;
    stageMBps: number;
    verifyStageSeconds: number;
    verifyStageMBps: number;
    tar: RunFigures;
    unzip: RunFigures;
    /** Peak RSS of the whole `uplift apply` process (staging is one of its steps). */
    applyPeakRssMB: number;
    loadAverage: number[];
    /** uplift stage seconds / tool seconds: below 1 means uplift is faster. */
    ratioTar: number;
    /** `tar -xf` then `sync -f`: staging's durable peer (the staged tree is flushed before stage:done). */
    tarSync: RunFigures;
    ratioTarSync: number;
    ratioUnzip: number;
    zipBytes: number;
    tarBytes: number;
  };
}

export interface ApplyBenchOptions {
  root: string;
  /** Generated vendor bytes (1 GiB by default) and files (20,000). */
  bytes?: number;
  files?: number;
  /** Share of the generated files the new release changes: 0.1. */
  changed?: number;
  from?: string;
  to?: string;
  log?: (s: string) => void;
}

interface SkiffApi {
  ensureSampleInstallation(opts: { dir: string; version?: string }): Promise<{ install: string }>;
  buildReleaseTree(version: string, out: string): { dir: string; tree: string };
  startInstallation(dir: string): Promise<{ url: string; pid: number }>;
  stopInstallation(dir: string): Promise<unknown>;
  getInstallationStatus(dir: string): Promise<{ version?: string; healthy: boolean }>;
}

interface ManifestFile {
  path: string;
  size: number;
  mode: number;
  sha256: string;
}

type CliRun = ProcessRun;

interface JournalRecord {
  hop: number;
  step: string;
  state: string;
  at: string;
}

/** Adds every file under `<base>/<sub>` to a skiff vendor manifest (sorted by path, as skiff writes it). */
function addToManifest(manifestFile: string, base: string, sub: string): void {
  const m = JSON.parse(readFileSync(manifestFile, 'utf8')) as { files: ManifestFile[] };
  const added: ManifestFile[] = listFiles(join(base, sub)).map((rel) => {
    const file = join(base, sub, rel);
    const st = statSync(file);
    return {
      path: `${sub}/${rel}`,
      size: st.size,
      mode: st.mode & 0o7777,
      sha256: sha256File(file),
    };
  });
  m.files = [...m.files.filter((f) => !f.path.startsWith(`${sub}/`)), ...added].sort((a, b) =>
    a.path < b.path ? -1 : a.path > b.path ? 1 : 0,
  );
  writeFileSync(manifestFile, `${JSON.stringify(m, null, 2)}\n`);
}

/** A process run to completion, whatever its exit code, with its wall time and peak RSS. */
async function run(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<CliRun> {
  const r = await runProcess(cmd, args, { env });
  return { ...r, seconds: round(r.seconds) };
}

function healthVersion(url: string): Promise<{ status: number; version?: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/health`, { timeout: 5000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { version?: string };
          resolve({ status: res.statusCode ?? 0, version: body.version });
        } catch {
          resolve({ status: res.statusCode ?? 0 });
        }
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('no answer')));
    req.on('error', reject);
    req.end();
  });
}

/**
 * apply's probe, for the naive method: every pid file's process alive and /health answering with
 * `version`, and still so for `stableSeconds` in a row (skiff's profile: lifecycle.readiness), as
 * apply's readiness wait does; a failed round starts the window again.
 */
async function probe(
  install: string,
  version: string,
  stableSeconds: number,
  timeoutMs = 30_000,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  let stableSince: number | undefined;
  for (;;) {
    const run = join(install, 'var/run');
    const pids = existsSync(run)
      ? readdirSync(run)
          .filter((f) => f.endsWith('.pid'))
          .map((f) => Number(readFileSync(join(run, f), 'utf8').trim()))
      : [];
    const port = Number(
      existsSync(join(run, 'skiff.port'))
        ? readFileSync(join(run, 'skiff.port'), 'utf8').trim()
        : '',
    );
    let ok = false;
    if (pids.length > 0 && pids.every(isAlive) && Number.isInteger(port) && port > 0) {
      const h = await healthVersion(`http://127.0.0.1:${port}`).catch(() => undefined);
      ok = h?.status === 200 && h.version === version;
    }
    if (!ok) stableSince = undefined;
    else {
      stableSince ??= Date.now();
      if (Date.now() - stableSince >= stableSeconds * 1000) return;
    }
    if (Date.now() > end) throw new Error(`${install} did not answer /health with ${version}`);
    await sleep(200);
  }
}

function readJournal(install: string, runId: string): JournalRecord[] {
  const file = join(install, '..', '.install.uplift', 'runs', `${runId}.journal`);
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as JournalRecord);
}

function lastRunId(install: string): string {
  const lines = readFileSync(join(install, '..', '.install.uplift', 'history.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');
  return (JSON.parse(lines.at(-1) as string) as { runId: string }).runId;
}

function at(records: JournalRecord[], step: string, state: string): number {
  const r = records.find((x) => x.step === step && x.state === state && x.hop === 0);
  if (!r) throw new Error(`the journal has no ${step}:${state} record`);
  return Date.parse(r.at);
}

const span = (records: JournalRecord[], a: [string, string], b: [string, string]) =>
  round((at(records, b[0], b[1]) - at(records, a[0], a[1])) / 1000);

/** `${name}`: a variable of the profile's lifecycle section (src/lifecycle/schema.ts), literally. */
const lifecycleVar = (name: string) => `\${${name}}`;

/** Sum of the sizes in a skiff release manifest. */
function manifestTotals(dir: string): { files: number; bytes: number } {
  const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as {
    files: ManifestFile[];
  };
  return { files: m.files.length, bytes: m.files.reduce((s, f) => s + f.size, 0) };
}

export async function benchApply(opts: ApplyBenchOptions): Promise<ApplyFigures> {
  const log = opts.log ?? (() => {});
  const from = opts.from ?? '5.3.0 Patch 1';
  const to = opts.to ?? '5.3.0 Patch 2';
  for (const f of ['dist/cli/main.js', 'products/skiff/dist/index.js'])
    if (!existsSync(join(opts.root, f)))
      throw new Error(`${f} does not exist; run npm run build first`);
  const skiff = (await import(
    pathToFileURL(join(opts.root, 'products/skiff/dist/index.js')).href
  )) as SkiffApi & { releaseSlug(v: string): string };

  const dir = await mkdtemp(join(tmpdir(), 'uplift-bench-apply-'));
  const running: string[] = [];
  try {
    const loadAverage = loadavg().map((l) => round(l));
    const setupStarted = performance.now();
    let phase = setupStarted;
    const lap = (what: string) => {
      const now = performance.now();
      log(`    ${what}: ${round((now - phase) / 1000)} s`);
      phase = now;
    };
    const cliPath = snapshotDist(opts.root, dir);
    const cli = (args: string[], env: Record<string, string> = {}) => {
      const { UPLIFT_TEST_CRASH_AT: _c, UPLIFT_TEST_NOW: _n, ...base } = process.env;
      return run(process.execPath, [cliPath, ...args], { ...base, NO_COLOR: '1', ...env });
    };
    const must = async (args: string[], env: Record<string, string> = {}) => {
      const r = await cli(args, env);
      if (r.code !== 0)
        throw new Error(`uplift ${args.join(' ')} exited ${r.code}: ${r.stderr.slice(0, 2000)}`);
      return r;
    };

    // The sample installation (accounts, uploads, tracking rows, customer edits), stopped.
    log(`  sample installation of skiff ${from} in ${dir} …`);
    const sample = await skiff.ensureSampleInstallation({
      dir: join(dir, 'sample'),
      version: from,
    });
    await skiff.stopInstallation(sample.install);
    const releases = join(dir, 'releases');
    const oldRel = skiff.buildReleaseTree(from, releases);
    const newRel = skiff.buildReleaseTree(to, releases);
    lap('sample installation and release trees');
    for (const t of [oldRel.tree, newRel.tree])
      if (existsSync(join(t, 'lib/bulk'))) throw new Error(`${t}/lib/bulk exists already`);

    // The generated vendor files: the old release's, and the new release's with 10 % changed.
    log('  generating the vendor tree (old release) …');
    const { root: _r, ...tree } = generateTree(join(oldRel.tree, 'lib/bulk'), {
      files: opts.files,
      bytes: opts.bytes,
    });
    log(
      `  ${tree.files} files, ${(tree.bytes / 1_048_576).toFixed(0)} MiB in ${tree.seconds} s; the next release …`,
    );
    const { root: _n, ...next } = mutateTree(
      join(oldRel.tree, 'lib/bulk'),
      join(newRel.tree, 'lib/bulk'),
      { fraction: opts.changed ?? 0.1 },
    );
    lap('generate and mutate');
    log('  manifests …');
    addToManifest(join(oldRel.dir, 'manifest.json'), oldRel.tree, 'lib/bulk');
    addToManifest(join(newRel.dir, 'manifest.json'), newRel.tree, 'lib/bulk');
    const newTree = manifestTotals(newRel.dir);

    // The installation gets the old release's generated files and its vendor manifest.
    sh('cp', ['-a', join(oldRel.tree, 'lib/bulk'), join(sample.install, 'lib/bulk')]);
    addToManifest(join(sample.install, '.skiff/manifest.json'), sample.install, 'lib/bulk');
    const applyInstall = join(dir, 'apply', 'install');
    const naiveInstall = join(dir, 'naive', 'install');
    mkdirSync(join(dir, 'apply'));
    mkdirSync(join(dir, 'naive'));
    renameSync(sample.install, applyInstall);
    sh('cp', ['-a', applyInstall, naiveInstall]);
    // Each installation listens on a port its clients know (the poller's), kept by apply's merge
    // of conf/ and by the naive method, which leaves conf/ alone.
    const ports = { apply: await freePort(), naive: await freePort() };
    pinSkiffPort(applyInstall, ports.apply);
    pinSkiffPort(naiveInstall, ports.naive);
    const health = (port: number) => () => `http://127.0.0.1:${port}/health`;
    const started = async (install: string, port: number) => {
      await skiff.startInstallation(install);
      running.push(install);
      const portFile = join(install, 'var/run/skiff.port');
      const got = existsSync(portFile) ? readFileSync(portFile, 'utf8').trim() : '';
      if (got !== String(port))
        throw new Error(`skiff in ${install} listens on ${got || '(no port file)'}, not ${port}`);
      sh('sync', []);
    };
    lap('manifests and installations');

    // The signed delta pack, under the name the plan gives it.
    log('  plan, key and delta pack …');
    const packs = join(dir, 'packs');
    const { path: pack, platform } = await buildPlannedPack(must, {
      planArgs: ['plan', '--install', applyInstall, '--to', to, '--json'],
      what: `${from} → ${to}`,
      vendor: join(dir, 'vendor'),
      fromTree: oldRel.dir,
      toTree: newRel.dir,
      packs,
    });
    const packBytes = statSync(pack).size;
    lap('plan, key and pack');

    // The naive method's archive and the staging peers' archives: the whole new release tree.
    log('  tar and zip of the new release tree …');
    const tarFile = join(dir, 'new.tar');
    const zipFile = join(dir, 'new.zip');
    sh('tar', ['-cf', tarFile, '-C', newRel.tree, '.']);
    sh('zip', ['-r', '-q', zipFile, '.'], newRel.tree);
    lap('tar and zip');
    const setupSeconds = round((performance.now() - setupStarted) / 1000);
    log(`  setup took ${setupSeconds} s`);

    const applyArgs = [
      'apply',
      '--install',
      applyInstall,
      '--to',
      to,
      '--packs',
      packs,
      '--trust',
      join(dir, 'vendor.pub'),
      '--base-tree',
      oldRel.dir,
      '--yes',
      '--json',
    ];

    // 1. uplift apply on the running installation.
    await started(applyInstall, ports.apply);
    log('  uplift apply …');
    const { result: applied, view: applyClient } = await observe(health(ports.apply), () =>
      must(applyArgs),
    );
    const result = JSON.parse(applied.stdout) as {
      runId: string;
      hops: { downtimeSeconds: number; stepSeconds: Record<string, number> }[];
    };
    const hop = result.hops[0] as { downtimeSeconds: number; stepSeconds: Record<string, number> };
    const journal = readJournal(applyInstall, result.runId);
    const applyDowntime = span(journal, ['stop', 'begin'], ['probe', 'done']);
    const st = await skiff.getInstallationStatus(applyInstall);
    if (st.version !== to || !st.healthy)
      throw new Error(`after apply, ${applyInstall} is ${st.version} (healthy: ${st.healthy})`);

    // 2. uplift rollback of the committed upgrade.
    log('  uplift rollback …');
    const rolledBack = await must(['rollback', '--install', applyInstall, '--json']);
    const rb = JSON.parse(rolledBack.stdout) as { version: string; method: string };
    if (rb.version !== from) throw new Error(`rollback returned ${rb.version}, not ${from}`);

    // 3. apply again with a failing readiness probe (the profile's lifecycle): the automatic rollback.
    log('  uplift apply with a failing probe …');
    // The probe fails for the new version only; the old one gets skiff's real health probe.
    const failingProfile = await skiffProfileWith(join(dir, 'profile-probe-fails'), {
      probes: [
        {
          name: 'health',
          command: {
            argv: [
              lifecycleVar('node'),
              '--input-type=module',
              '-e',
              'const [h, i, v, bad] = process.argv.slice(1); if (v === bad) process.exit(1); process.argv = [process.argv[0], h, i, v]; await import(h);',
              `${lifecycleVar('profile')}/scripts/health.mjs`,
              lifecycleVar('install'),
              lifecycleVar('version'),
              to,
            ],
            timeoutSeconds: 10,
          },
        },
      ],
      timeoutSeconds: 5,
      stableSeconds: 1,
    });
    sh('sync', []);
    const failed = await cli([...applyArgs, '--profile', failingProfile]);
    if (failed.code !== 1)
      throw new Error(
        `apply with a failing probe exited ${failed.code}: ${failed.stderr.slice(0, 2000)}`,
      );
    const failedJournal = readJournal(applyInstall, lastRunId(applyInstall));
    const after = await skiff.getInstallationStatus(applyInstall);
    if (after.version !== from || !after.healthy)
      throw new Error(
        `after the automatic rollback, ${applyInstall} is ${after.version} (healthy: ${after.healthy})`,
      );
    const failedStage = span(failedJournal, ['stage', 'begin'], ['stage', 'done']);
    const failedVerifyStage = span(failedJournal, ['verify', 'begin'], ['stage', 'done']);
    await skiff.stopInstallation(applyInstall);
    running.splice(running.indexOf(applyInstall), 1);

    // 4. The naive in-place method on the identical copy: stop, tar -xf over the tree, start, probe.
    const stableSeconds = profileStableSeconds(opts.root, 'skiff');
    const naive = async (withSync: boolean) => {
      const t0 = performance.now();
      await script(naiveInstall, 'stop_all');
      const t1 = performance.now();
      await shAsync('tar', ['-xf', tarFile, '-C', naiveInstall, '--exclude=./conf']);
      const t2 = performance.now();
      if (withSync) await shAsync('sync', ['-f', naiveInstall]);
      const t3 = performance.now();
      await script(naiveInstall, 'start_all');
      const t4 = performance.now();
      await probe(naiveInstall, to, stableSeconds);
      const t5 = performance.now();
      const s = (a: number, b: number) => round((b - a) / 1000);
      return {
        seconds: s(t0, t5),
        stop: s(t0, t1),
        extract: s(t1, t2),
        sync: s(t2, t3),
        start: s(t3, t4),
        probe: s(t4, t5),
      };
    };
    await started(naiveInstall, ports.naive);
    log('  naive: stop, tar -xf, start …');
    const { result: plain, view: naiveClient } = await observe(health(ports.naive), () =>
      naive(false),
    );
    sh('sync', []);
    log('  naive: stop, tar -xf, sync -f, start …');
    const { result: synced, view: naiveSyncClient } = await observe(health(ports.naive), () =>
      naive(true),
    );
    await skiff.stopInstallation(naiveInstall);
    running.splice(running.indexOf(naiveInstall), 1);
    rmSync(join(dir, 'naive'), { recursive: true, force: true });

    // 5. Staging peers: tar -xf and unzip -q of the new release tree into empty folders.
    const tarRuns: Timed[] = [];
    const tarSyncRuns: Timed[] = [];
    const unzipRuns: Timed[] = [];
    const out = join(dir, 'extract');
    for (let i = 0; i < 2; i++) {
      log(`  tar -xf / tar -xf && sync -f / unzip -q round ${i + 1}/2 …`);
      removed(out);
      mkdirSync(out);
      tarRuns.push(await timed('tar', ['-xf', tarFile, '-C', out], dir));
      removed(out);
      mkdirSync(out);
      tarSyncRuns.push(
        await timed('sh', ['-c', `tar -xf '${tarFile}' -C '${out}' && sync -f '${out}'`], dir),
      );
      removed(out);
      mkdirSync(out);
      unzipRuns.push(await timed('unzip', ['-q', zipFile, '-d', out], dir));
    }
    rmSync(out, { recursive: true, force: true });

    const stageSeconds = Math.min(hop.stepSeconds.stage ?? Number.POSITIVE_INFINITY, failedStage);
    const verifyStageSeconds = Math.min(
      (hop.stepSeconds.verify ?? Number.POSITIVE_INFINITY) +
        (hop.stepSeconds.stage ?? Number.POSITIVE_INFINITY),
      failedVerifyStage,
    );
    const rss = (runs: Timed[]) => ({ peakRssMB: Math.max(...runs.map((r) => r.peakRssMB)) });
    const tarF = figures('tar -xf', tarRuns, newTree.bytes, rss(tarRuns));
    const unzipF = figures('unzip -q', unzipRuns, newTree.bytes, rss(unzipRuns));
    const tarSyncF = figures('tar -xf && sync -f', tarSyncRuns, newTree.bytes, rss(tarSyncRuns));
    const pick = (o: Record<string, number>, keys: string[]) =>
      Object.fromEntries(keys.filter((k) => o[k] !== undefined).map((k) => [k, o[k] as number]));
    return {
      from,
      to,
      platform,
      tree,
      next,
      newTree,
      packBytes,
      setupSeconds,
      downtime: {
        client: {
          apply: applyClient,
          naive: naiveClient,
          naiveSync: naiveSyncClient,
          ratio: round(applyClient.seconds / naiveClient.seconds),
          ratioSync: round(applyClient.seconds / naiveSyncClient.seconds),
        },
        applySeconds: applyDowntime,
        applyReportedSeconds: hop.downtimeSeconds,
        applySteps: pick(hop.stepSeconds, ['stop', 'switch', 'migrate', 'start', 'probe']),
        naiveSeconds: plain.seconds,
        naiveSteps: {
          stop: plain.stop,
          extract: plain.extract,
          start: plain.start,
          probe: plain.probe,
        },
        naiveSyncSeconds: synced.seconds,
        naiveSyncSteps: {
          stop: synced.stop,
          extract: synced.extract,
          sync: synced.sync,
          start: synced.start,
          probe: synced.probe,
        },
        ratio: round(applyDowntime / plain.seconds),
        ratioSync: round(applyDowntime / synced.seconds),
      },
      apply: {
        commandSeconds: applied.seconds,
        stepSeconds: hop.stepSeconds,
        peakRssMB: applied.peakRssMB,
      },
      rollback: {
        manualSeconds: rolledBack.seconds,
        manualMethod: rb.method,
        automaticSeconds: span(failedJournal, ['probe', 'failed'], ['rollback', 'done']),
        automaticRollbackStepSeconds: span(
          failedJournal,
          ['rollback', 'begin'],
          ['rollback', 'done'],
        ),
        automaticCommandSeconds: failed.seconds,
        automaticExitCode: failed.code,
      },
      staging: {
        bytes: newTree.bytes,
        stageSeconds: round(stageSeconds),
        stageMBps: round(newTree.bytes / 1e6 / stageSeconds),
        verifyStageSeconds: round(verifyStageSeconds),
        verifyStageMBps: round(newTree.bytes / 1e6 / verifyStageSeconds),
        tar: tarF,
        unzip: unzipF,
        applyPeakRssMB: applied.peakRssMB,
        loadAverage,
        ratioTar: round(stageSeconds / tarF.seconds),
        tarSync: tarSyncF,
        ratioTarSync: round(stageSeconds / tarSyncF.seconds),
        ratioUnzip: round(stageSeconds / unzipF.seconds),
        zipBytes: statSync(zipFile).size,
        tarBytes: statSync(tarFile).size,
      },
    };
  } finally {
    for (const i of running) await skiff.stopInstallation(i).catch(() => undefined);
    await rm(dir, { recursive: true, force: true, maxRetries: 5 });
  }
}

const mark = (ok: boolean) => (ok ? 'met' : 'MISSED');

/** The section's printed table. */
export function formatApply(a: ApplyFigures, goals: { downtimeRatio: number }): string {
  const mib = (b: number) => (b / 1_048_576).toFixed(0);
  const d = a.downtime;
  const c = d.client;
  const steps = (o: Record<string, number>) =>
    Object.entries(o)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
  const lines = [
    `\nApply — skiff ${a.from} → ${a.to} (${a.platform}) carrying a generated vendor tree of ${a.tree.files} files, ${mib(a.tree.bytes)} MiB; the new release changes ${a.next.changed} (${Math.round((a.next.changed / a.tree.files) * 100)} %, ${mib(a.next.changedBytes)} MiB), adds ${a.next.added}, deletes ${a.next.deleted}`,
    `  new release tree          ${a.newTree.files} files, ${mib(a.newTree.bytes)} MiB; delta pack ${mib(a.packBytes)} MiB; setup ${a.setupSeconds} s`,
    `  downtime a client sees (GET /health every 50 ms: first failure → answering again)`,
    `    uplift apply            ${c.apply.seconds} s  (${c.apply.failedRequests} of ${c.apply.requests} requests failed)`,
    `    naive in place          ${c.naive.seconds} s  (${c.naive.failedRequests} of ${c.naive.requests} failed)`,
    `    naive + sync -f         ${c.naiveSync.seconds} s  (${c.naiveSync.failedRequests} of ${c.naiveSync.requests} failed)`,
    `    ratio apply / naive     ${c.ratio}  goal ≤ ${goals.downtimeRatio}: ${mark(c.ratio <= goals.downtimeRatio)}   (against naive + sync -f: ${c.ratioSync})`,
    `  stop → probe passed and stable (the stability window included)`,
    `    uplift apply            ${d.applySeconds} s  (${steps(d.applySteps)}; apply's own figure after the stop ${d.applyReportedSeconds} s)`,
    `    naive in place          ${d.naiveSeconds} s  (${steps(d.naiveSteps)})`,
    `    naive + sync -f         ${d.naiveSyncSeconds} s  (${steps(d.naiveSyncSteps)})`,
    `    ratio apply / naive     ${d.ratio}   (against naive + sync -f: ${d.ratioSync})`,
    `  whole apply               ${a.apply.commandSeconds} s, peak RSS ${a.apply.peakRssMB} MB  (${steps(a.apply.stepSeconds)})`,
    `  rollback`,
    `    uplift rollback         ${a.rollback.manualSeconds} s (${a.rollback.manualMethod})`,
    `    automatic (probe fails) ${a.rollback.automaticSeconds} s from the failed probe to the old version started (rollback step ${a.rollback.automaticRollbackStepSeconds} s); whole command ${a.rollback.automaticCommandSeconds} s, exit ${a.rollback.automaticExitCode}`,
    `  staging ${mib(a.staging.bytes)} MiB (the new release tree)`,
    `    apply stage             ${a.staging.stageSeconds} s, ${a.staging.stageMBps} MB/s  (verify + stage ${a.staging.verifyStageSeconds} s, ${a.staging.verifyStageMBps} MB/s; peak RSS of the apply process ${a.staging.applyPeakRssMB} MB)`,
    `    tar -xf                 ${a.staging.tar.seconds} s, ${a.staging.tar.mbPerSecond} MB/s  (tar ${mib(a.staging.tarBytes)} MiB, peak RSS ${a.staging.tar.peakRssMB} MB)`,
    `    unzip -q                ${a.staging.unzip.seconds} s, ${a.staging.unzip.mbPerSecond} MB/s  (zip ${mib(a.staging.zipBytes)} MiB, peak RSS ${a.staging.unzip.peakRssMB} MB)`,
    `    tar -xf && sync -f      ${a.staging.tarSync.seconds} s, ${a.staging.tarSync.mbPerSecond} MB/s`,
    `    ratio stage / tar ${a.staging.ratioTar}×, / tar && sync ${a.staging.ratioTarSync}×, stage / unzip ${a.staging.ratioUnzip}×; verify + stage / tar ${round(a.staging.verifyStageSeconds / a.staging.tar.seconds)}×  (load average at the start ${a.staging.loadAverage.join(' ')})`,
  ];
  return lines.join('\n');
}
