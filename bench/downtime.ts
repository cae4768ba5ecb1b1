import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { freePort } from '../test/util/free-port.ts';
import {
  copyVendorManifest,
  listPackInCatalog,
  releaseTreeMakeArgs,
} from '../test/util/vendor-side.ts';
import {
  startVerdaccio,
  startVerdaccioIn,
  stopVerdaccioIn,
  VERDACCIO_FROM,
  VERDACCIO_TO,
  verdaccioRelease,
} from '../test/util/verdaccio.ts';
import { type ProcessRun, runProcess, snapshotDist } from './measure.ts';
import { median, round } from './stats.ts';
import {
  buildPlannedPack,
  pinSkiffPort,
  profileStableSeconds,
  script,
  sh,
} from './upgrade-steps.ts';

/**
 * Downtime as a client sees it. For skiff (the sample installation, 5.3.0 Patch 1 → Patch 2) and
 * for Verdaccio (a real 5.33.0 installation, test/util/verdaccio.ts → 6.8.0), a poller in this
 * process sends `GET` to the readiness URL every 50 ms (skiff: `/health` on the port of
 * var/run/skiff.port, pinned in conf/skiff.properties as a customer would; Verdaccio: `/-/ping`),
 * each request on a new connection with a 1 s timeout, and records which ones failed (refused,
 * reset, timed out, or not 200). While it polls:
 * - a real `uplift apply` runs through the built CLI (a private snapshot of dist/), with the
 *   product's own profile: stop, switch, start, readiness probes and stability window, smoke test;
 * - a naive upgrade of an identical copy done by hand with the profile's service commands: stop
 *   (skiff `bin/stop_all`, Verdaccio SIGTERM to the pid file's process), `cp -a` of the new release
 *   tree over the installation (skiff: all but conf/, the customer's configuration; Verdaccio:
 *   package.json, package-lock.json, node_modules/), start (skiff `bin/start_all`, Verdaccio the
 *   profile's `run` argv, detached, with its pid file).
 * Verdaccio ships no uplift packs: the bench makes release trees of both versions
 * (`uplift release-tree make` of the cached npm installs), a signed delta pack, a copy of
 * profiles/verdaccio whose catalog names that pack, and gives the installation the old release
 * tree's manifest (.uplift-vendor/manifest.json), as an installation made from it would have.
 * Client-seen downtime: from the first failed request to the first success after which every
 * request succeeded; also the count of failed requests × 50 ms. uplift's own figure
 * (HopReport.downtimeSeconds: stop until the readiness probes and stability window pass) is
 * compared with it: uplift-reported ÷ client-seen should be ≥ 1 (uplift never under-reports).
 * Each method runs `repeats` times (3) on fresh copies; the figures are medians.
 */

export const POLL_INTERVAL_MS = 50;
const REQUEST_TIMEOUT_MS = 1_000;

export interface Sample {
  /** ms since the poller started, when the request was sent. */
  at: number;
  ok: boolean;
  /** HTTP status, or the error code (ECONNREFUSED, ECONNRESET, timeout). */
  got: string;
}

export interface ClientView {
  /** First failed request to the first success after which all succeeded (0 when none failed). */
  seconds: number;
  failedRequests: number;
  /** failedRequests × the poll interval. */
  failedSeconds: number;
  requests: number;
  /** What the failed requests got, by kind (ECONNREFUSED: n). */
  failures: Record<string, number>;
}

export interface RunFigure extends ClientView {
  /** Wall time of the whole command (apply) or of stop + copy + start (naive). */
  commandSeconds: number;
  /** uplift apply only: HopReport.downtimeSeconds. */
  reportedSeconds?: number;
  /** uplift apply only: HopReport.stepSeconds. */
  stepSeconds?: Record<string, number>;
  /** naive only: its parts. */
  steps?: { stop: number; copy: number; start: number };
}

export interface ProductDowntime {
  product: string;
  from: string;
  to: string;
  readinessUrl: string;
  /** The profile's readiness settings: stableSeconds, intervalMs. */
  stableSeconds: number;
  setupSeconds: number;
  apply: RunFigure[];
  naive: RunFigure[];
  median: {
    applyClientSeconds: number;
    applyFailedSeconds: number;
    applyReportedSeconds: number;
    applyCommandSeconds: number;
    naiveClientSeconds: number;
    naiveFailedSeconds: number;
    naiveCommandSeconds: number;
  };
  /** Medians of the per-run ratios. */
  ratios: {
    /** uplift-reported ÷ client-seen (apply): ≥ 1 means uplift never under-reports. */
    reportedOverClient: number;
    /** The smallest of the runs' reported ÷ client-seen. */
    reportedOverClientMin: number;
    /** uplift's client-seen ÷ the naive method's client-seen. */
    applyOverNaiveClient: number;
  };
}

export interface DowntimeFigures {
  intervalMs: number;
  repeats: number;
  skiff: ProductDowntime | null;
  skiffError: string | null;
  verdaccio: ProductDowntime | null;
  verdaccioError: string | null;
}

export interface DowntimeBenchOptions {
  root: string;
  repeats?: number;
  log?: (s: string) => void;
  /** Run only one product (`--downtime-product skiff|verdaccio`). */
  products?: ('skiff' | 'verdaccio')[];
}

/** GET `url` on a new connection: its status, or the error's code. */
function get(url: string): Promise<string> {
  return new Promise((resolve) => {
    const req = request(url, { agent: false, timeout: REQUEST_TIMEOUT_MS }, (res) => {
      res.resume();
      res.on('end', () => resolve(String(res.statusCode ?? 0)));
      res.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'timeout' })));
    req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    req.end();
  });
}

/**
 * Sends GET to `url()` every POLL_INTERVAL_MS (not waiting for the previous answer), from
 * `start()` until `stop()`, which returns every request's outcome in the order they were sent.
 */
class Poller {
  private samples: Sample[] = [];
  private pending: Promise<void>[] = [];
  private timer: NodeJS.Timeout | undefined;
  private t0 = 0;
  private readonly url: () => string;
  constructor(url: () => string) {
    this.url = url;
  }

  start(): void {
    this.t0 = performance.now();
    const tick = () => {
      const at = performance.now() - this.t0;
      const sample: Sample = { at, ok: false, got: 'pending' };
      this.samples.push(sample);
      this.pending.push(
        get(this.url()).then((got) => {
          sample.got = got;
          sample.ok = got === '200';
        }),
      );
    };
    tick();
    this.timer = setInterval(tick, POLL_INTERVAL_MS);
  }

  /** The settled requests so far. */
  settled(): Sample[] {
    return this.samples.filter((s) => s.got !== 'pending');
  }

  /** Resolves once the last `ms` of settled requests all succeeded (and there were some). */
  async untilHealthyFor(ms: number, timeoutMs = 90_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const s = this.settled();
      const last = s.at(-1);
      if (last) {
        const from = last.at - ms;
        const window = s.filter((x) => x.at >= from);
        const firstBefore = s.some((x) => x.at < from);
        if (firstBefore && window.every((x) => x.ok)) return;
      }
      if (Date.now() > end)
        throw new Error(`no ${ms} ms of successful requests in ${timeoutMs} ms`);
      await sleep(POLL_INTERVAL_MS);
    }
  }

  async stop(): Promise<Sample[]> {
    clearInterval(this.timer);
    await Promise.all(this.pending);
    return [...this.samples].sort((a, b) => a.at - b.at);
  }
}

/** The client's view of a poller's samples. */
export function clientView(samples: readonly Sample[]): ClientView {
  const failures: Record<string, number> = {};
  let first = -1;
  let last = -1;
  samples.forEach((s, i) => {
    if (s.ok) return;
    failures[s.got] = (failures[s.got] ?? 0) + 1;
    if (first === -1) first = i;
    last = i;
  });
  const failed = samples.filter((s) => !s.ok).length;
  const base = {
    failedRequests: failed,
    failedSeconds: round((failed * POLL_INTERVAL_MS) / 1000),
    requests: samples.length,
    failures,
  };
  if (first === -1) return { seconds: 0, ...base };
  const recovered = samples[last + 1];
  if (!recovered) throw new Error('the service never answered again');
  return { seconds: round((recovered.at - (samples[first] as Sample).at) / 1000), ...base };
}

/**
 * Polls `url` while `work` runs: first until it has answered 500 ms in a row (the service is up
 * before), then through `work`, then until it has answered 1 s in a row after it.
 */
export async function observe<T>(
  url: () => string,
  work: () => Promise<T>,
): Promise<{ result: T; view: ClientView }> {
  const poller = new Poller(url);
  poller.start();
  try {
    await poller.untilHealthyFor(500, 30_000);
  } catch (e) {
    await poller.stop();
    throw new Error(`${url()} was not up before the upgrade: ${(e as Error).message}`);
  }
  let result: T;
  try {
    result = await work();
    await poller.untilHealthyFor(1_000);
  } catch (e) {
    await poller.stop();
    throw e;
  }
  // The requests before the upgrade began all succeeded (untilHealthyFor): the view is the upgrade's.
  return { result, view: clientView(await poller.stop()) };
}

/** `cp -a` of every top-level entry of `tree` but `except` into `install` (async: the poller runs). */
async function copyOver(tree: string, install: string, except: string[] = []): Promise<void> {
  const entries = readdirSync(tree)
    .filter((e) => !except.includes(e))
    .map((e) => join(tree, e));
  const r = await runProcess('cp', ['-a', ...entries, `${install}/`]);
  if (r.code !== 0) throw new Error(`cp -a into ${install} exited ${r.code}: ${r.stderr}`);
}

interface HopJson {
  downtimeSeconds?: number;
  stepSeconds?: Record<string, number>;
}

interface Product {
  name: string;
  from: string;
  to: string;
  url: string;
  stableSeconds: number;
  setupSeconds: number;
  /** A fresh, running copy of the installation at `from` in `dir`. */
  fresh(dir: string): Promise<string>;
  /** The apply command's arguments and environment for `install`. */
  applyArgs(install: string): string[];
  applyEnv: Record<string, string>;
  naive: {
    stop(install: string): Promise<void>;
    copy(install: string): Promise<void>;
    start(install: string): Promise<void>;
  };
  /** Throws unless `install` runs `to` and answers (after either method). */
  check(install: string): Promise<void>;
  /** Stops whatever runs in `install`. */
  stop(install: string): Promise<void>;
}

async function measureProduct(
  p: Product,
  dir: string,
  cli: (args: string[], env?: Record<string, string>) => Promise<ProcessRun>,
  repeats: number,
  log: (s: string) => void,
): Promise<ProductDowntime> {
  const apply: RunFigure[] = [];
  const naive: RunFigure[] = [];
  for (let i = 0; i < repeats; i++) {
    {
      const install = await p.fresh(join(dir, `apply-${i}`));
      try {
        log(`  ${p.name} ${i + 1}/${repeats}: uplift apply …`);
        const { result, view } = await observe(
          () => p.url,
          () => cli(p.applyArgs(install), p.applyEnv),
        );
        if (result.code !== 0)
          throw new Error(
            `uplift apply of ${p.name} exited ${result.code}: ${result.stdout.slice(-2000)}${result.stderr.slice(-1000)}`,
          );
        const hop = (JSON.parse(result.stdout) as { hops: HopJson[] }).hops[0];
        if (hop?.downtimeSeconds === undefined)
          throw new Error(`uplift apply of ${p.name} reported no downtime: ${result.stdout}`);
        await p.check(install);
        apply.push({
          ...view,
          commandSeconds: round(result.seconds),
          reportedSeconds: hop.downtimeSeconds,
          ...(hop.stepSeconds ? { stepSeconds: hop.stepSeconds } : {}),
        });
        log(
          `    client-seen ${view.seconds} s (${view.failedRequests} failed), uplift reports ${hop.downtimeSeconds} s, command ${round(result.seconds)} s`,
        );
      } finally {
        await p.stop(install);
        await rm(join(dir, `apply-${i}`), { recursive: true, force: true, maxRetries: 5 });
      }
    }
    {
      const install = await p.fresh(join(dir, `naive-${i}`));
      try {
        log(`  ${p.name} ${i + 1}/${repeats}: naive stop, cp -a, start …`);
        const { result: steps, view } = await observe(
          () => p.url,
          async () => {
            const t0 = performance.now();
            await p.naive.stop(install);
            const t1 = performance.now();
            await p.naive.copy(install);
            const t2 = performance.now();
            await p.naive.start(install);
            const t3 = performance.now();
            const s = (a: number, b: number) => round((b - a) / 1000);
            return { stop: s(t0, t1), copy: s(t1, t2), start: s(t2, t3) };
          },
        );
        await p.check(install);
        naive.push({
          ...view,
          commandSeconds: round(steps.stop + steps.copy + steps.start),
          steps,
        });
        log(
          `    client-seen ${view.seconds} s (${view.failedRequests} failed); stop ${steps.stop}, cp ${steps.copy}, start ${steps.start} s`,
        );
      } finally {
        await p.stop(install);
        await rm(join(dir, `naive-${i}`), { recursive: true, force: true, maxRetries: 5 });
      }
    }
  }
  const med = (xs: number[]) => round(median(xs));
  const ratio = (a: number, b: number) => (b > 0 ? a / b : Number.POSITIVE_INFINITY);
  const reportedOverClient = apply.map((a) => ratio(a.reportedSeconds ?? 0, a.seconds));
  return {
    product: p.name,
    from: p.from,
    to: p.to,
    readinessUrl: p.url,
    stableSeconds: p.stableSeconds,
    setupSeconds: p.setupSeconds,
    apply,
    naive,
    median: {
      applyClientSeconds: med(apply.map((a) => a.seconds)),
      applyFailedSeconds: med(apply.map((a) => a.failedSeconds)),
      applyReportedSeconds: med(apply.map((a) => a.reportedSeconds ?? 0)),
      applyCommandSeconds: med(apply.map((a) => a.commandSeconds)),
      naiveClientSeconds: med(naive.map((a) => a.seconds)),
      naiveFailedSeconds: med(naive.map((a) => a.failedSeconds)),
      naiveCommandSeconds: med(naive.map((a) => a.commandSeconds)),
    },
    ratios: {
      reportedOverClient: med(reportedOverClient),
      reportedOverClientMin: round(Math.min(...reportedOverClient)),
      applyOverNaiveClient: med(apply.map((a, i) => ratio(a.seconds, naive[i]?.seconds ?? 0))),
    },
  };
}

interface SkiffApi {
  ensureSampleInstallation(opts: { dir: string; version?: string }): Promise<{ install: string }>;
  buildReleaseTree(version: string, out: string): { dir: string; tree: string };
  startInstallation(dir: string): Promise<{ url: string; pid: number }>;
  stopInstallation(dir: string): Promise<unknown>;
}

/** A copy (`cp -a`) of the stopped installation `template` at `<dir>/install`. */
function copyOf(template: string, dir: string): string {
  mkdirSync(dir, { recursive: true });
  const install = join(dir, 'install');
  sh('cp', ['-a', template, install]);
  return install;
}

/**
 * `uplift apply` of `install` to `to` with `profile`, then `more`: the vendor's packs in `packs`,
 * its key `<vendor>.pub` trusted, release tree `baseTree` the merge base.
 */
function applyCommand(
  install: string,
  o: {
    profile: string;
    to: string;
    more?: string[];
    packs: string;
    vendor: string;
    baseTree: string;
  },
): string[] {
  return [
    'apply',
    '--install',
    install,
    '--profile',
    o.profile,
    '--to',
    o.to,
    ...(o.more ?? []),
    '--packs',
    o.packs,
    '--trust',
    `${o.vendor}.pub`,
    '--base-tree',
    o.baseTree,
    '--yes',
    '--json',
  ];
}

async function skiffProduct(
  root: string,
  dir: string,
  must: (args: string[]) => Promise<ProcessRun>,
  log: (s: string) => void,
): Promise<Product> {
  const t0 = performance.now();
  const from = '5.3.0 Patch 1';
  const to = '5.3.0 Patch 2';
  const skiff = (await import(
    pathToFileURL(join(root, 'products/skiff/dist/index.js')).href
  )) as SkiffApi;
  log(`  skiff: sample installation of ${from}, release trees, delta pack …`);
  const sample = await skiff.ensureSampleInstallation({ dir: join(dir, 'sample'), version: from });
  await skiff.stopInstallation(sample.install);
  // The port a client knows: pinned in the customer's conf/skiff.properties (carried by the merge).
  const port = await freePort();
  pinSkiffPort(sample.install, port);
  const releases = join(dir, 'releases');
  const oldRel = skiff.buildReleaseTree(from, releases);
  const newRel = skiff.buildReleaseTree(to, releases);
  const packs = join(dir, 'packs');
  await buildPlannedPack(must, {
    planArgs: ['plan', '--install', sample.install, '--to', to, '--json'],
    what: `skiff ${from} → ${to}`,
    vendor: join(dir, 'skiff-vendor'),
    fromTree: oldRel.dir,
    toTree: newRel.dir,
    packs,
  });
  const template = sample.install;
  return {
    name: 'skiff',
    from,
    to,
    url: `http://127.0.0.1:${port}/health`,
    stableSeconds: profileStableSeconds(root, 'skiff'),
    setupSeconds: round((performance.now() - t0) / 1000),
    async fresh(d) {
      const install = copyOf(template, d);
      await skiff.startInstallation(install);
      const portFile = join(install, 'var/run/skiff.port');
      const got = existsSync(portFile) ? readFileSync(portFile, 'utf8').trim() : '';
      if (got !== String(port))
        throw new Error(`skiff in ${install} listens on ${got || '(no port file)'}, not ${port}`);
      return install;
    },
    applyArgs: (install) =>
      applyCommand(install, {
        profile: 'skiff',
        to,
        packs,
        vendor: join(dir, 'skiff-vendor'),
        baseTree: oldRel.dir,
      }),
    applyEnv: {},
    naive: {
      stop: (install) => script(install, 'stop_all'),
      // Everything of the new release but conf/: the customer's configuration stays.
      copy: (install) => copyOver(newRel.tree, install, ['conf']),
      start: (install) => script(install, 'start_all'),
    },
    check: async () => {
      const res = await fetch(`http://127.0.0.1:${port}/health`);
      const body = (await res.json()) as { version?: string };
      if (res.status !== 200 || body.version !== to)
        throw new Error(`skiff answers ${res.status} with ${body.version}, not ${to}`);
    },
    stop: async (install) => {
      await skiff.stopInstallation(install).catch(() => undefined);
    },
  };
}

async function verdaccioProduct(
  root: string,
  dir: string,
  must: (args: string[]) => Promise<ProcessRun>,
  log: (s: string) => void,
): Promise<Product> {
  const t0 = performance.now();
  const from = VERDACCIO_FROM;
  const to = VERDACCIO_TO;
  log(`  verdaccio: ${from} installation, release trees, delta pack …`);
  // No packages published beforehand (the smoke test publishes its own): a shorter setup.
  const v = await startVerdaccio({ version: from, publish: false });
  const listen = `127.0.0.1:${v.port}`;
  const template = join(dir, 'verdaccio-template');
  try {
    await v.stop();
    sh('cp', ['-a', v.install, template]);
  } finally {
    await v.cleanup();
  }
  // What the catalog's Node.js rules need and detection cannot read yet (profiles/verdaccio/readme.md).
  const fact = ['--fact', `runtime.nodeVersion=${process.version}`];
  const rel = (version: string) => join(dir, 'verdaccio-releases', version);
  for (const version of [from, to])
    await must(
      releaseTreeMakeArgs({
        source: await verdaccioRelease(version),
        product: 'verdaccio',
        version,
        out: rel(version),
      }),
    );
  // The manifest of the installation's vendor files, as installing from the release tree leaves
  // it (the profile names none: apply reads the default .uplift-vendor/manifest.json).
  copyVendorManifest(rel(from), template);
  // The shipped catalog lists no packs (Verdaccio ships none): a copy of the profile whose catalog
  // names one for this hop, as a vendor publishing uplift packs of Verdaccio would.
  const profile = join(dir, 'verdaccio-profile');
  cpSync(join(root, 'profiles/verdaccio'), profile, { recursive: true });
  const platform = `${process.platform}-${process.arch === 'x64' ? 'x86-64' : process.arch}`;
  const packFile = `verdaccio-${to}-from-${from}_${platform}.upk`;
  listPackInCatalog(join(profile, 'catalog.yaml'), to, { platform, file: packFile, size: 1, from });
  const packs = join(dir, 'verdaccio-packs');
  await buildPlannedPack(must, {
    planArgs: ['plan', '--install', template, '--profile', profile, '--to', to, ...fact, '--json'],
    what: `verdaccio ${from} → ${to}`,
    vendor: join(dir, 'verdaccio-vendor'),
    fromTree: rel(from),
    toTree: rel(to),
    packs,
    profile,
  });
  return {
    name: 'verdaccio',
    from,
    to,
    url: `http://${listen}/-/ping`,
    stableSeconds: profileStableSeconds(root, 'verdaccio'),
    setupSeconds: round((performance.now() - t0) / 1000),
    async fresh(d) {
      const install = copyOf(template, d);
      await startVerdaccioIn(install, listen);
      return install;
    },
    applyArgs: (install) =>
      applyCommand(install, {
        profile,
        to,
        more: fact,
        packs,
        vendor: join(dir, 'verdaccio-vendor'),
        baseTree: rel(from),
      }),
    // The smoke test publishes as the installation's account.
    applyEnv: { VERDACCIO_SMOKE_USER: v.user, VERDACCIO_SMOKE_PASSWORD: v.password },
    naive: {
      stop: (install) => stopVerdaccioIn(install),
      copy: (install) => copyOver(join(rel(to), 'tree'), install),
      start: async (install) => {
        await startVerdaccioIn(install, listen);
      },
    },
    check: async (install) => {
      const pkg = join(install, 'node_modules/verdaccio/package.json');
      const version = (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version;
      const res = await fetch(`http://${listen}/-/ping`);
      if (res.status !== 200 || version !== to)
        throw new Error(`verdaccio ${version} answers /-/ping with ${res.status}, not ${to}`);
    },
    stop: (install) => stopVerdaccioIn(install),
  };
}

export async function benchDowntime(opts: DowntimeBenchOptions): Promise<DowntimeFigures> {
  const log = opts.log ?? (() => {});
  const repeats = opts.repeats ?? 3;
  const products = opts.products ?? ['skiff', 'verdaccio'];
  for (const f of ['dist/cli/main.js', 'products/skiff/dist/index.js'])
    if (!existsSync(join(opts.root, f)))
      throw new Error(`${f} does not exist; run npm run build first`);
  const dir = await mkdtemp(join(tmpdir(), 'uplift-bench-downtime-'));
  try {
    const cliPath = snapshotDist(opts.root, dir);
    const cli = (args: string[], env: Record<string, string> = {}) =>
      runProcess(process.execPath, [cliPath, ...args], {
        env: { ...process.env, NO_COLOR: '1', ...env },
      });
    const must = async (args: string[]) => {
      const r = await cli(args);
      if (r.code !== 0)
        throw new Error(`uplift ${args.join(' ')} exited ${r.code}: ${r.stderr.slice(-2000)}`);
      return r;
    };
    const out: DowntimeFigures = {
      intervalMs: POLL_INTERVAL_MS,
      repeats,
      skiff: null,
      skiffError: null,
      verdaccio: null,
      verdaccioError: null,
    };
    for (const name of products) {
      const work = join(dir, name);
      mkdirSync(work);
      try {
        const p =
          name === 'skiff'
            ? await skiffProduct(opts.root, work, must, log)
            : await verdaccioProduct(opts.root, work, must, log);
        log(`  ${name}: setup ${p.setupSeconds} s`);
        out[name] = await measureProduct(p, work, cli, repeats, log);
      } catch (e) {
        const message = (e as Error).message;
        log(`  ${name} FAILED: ${message}`);
        out[`${name}Error`] = message;
      }
    }
    if (out.skiffError && out.verdaccioError)
      throw new Error(`skiff: ${out.skiffError}; verdaccio: ${out.verdaccioError}`);
    return out;
  } finally {
    await rm(dir, { recursive: true, force: true, maxRetries: 5 });
  }
}

/** The section's printed table. */
export function formatDowntime(d: DowntimeFigures): string {
  const widths = [10, 12, 14, 14, 13, 14, 12, 16, 14];
  const row = (cells: (string | number)[]) =>
    cells
      .map((c, i) => String(c).padEnd(widths[i] ?? 0))
      .join(' ')
      .trimEnd();
  const lines = [
    `\nDowntime as a client sees it — GET every ${d.intervalMs} ms during the upgrade, medians of ${d.repeats} runs`,
    `  ${row(['product', 'client apply', 'failed×50ms', 'uplift says', 'client naive', 'failed×50ms', 'says/client', 'apply/naive', 'apply command'])}`,
  ];
  for (const p of [d.skiff, d.verdaccio]) {
    if (!p) continue;
    const m = p.median;
    lines.push(
      `  ${row([
        p.product,
        `${m.applyClientSeconds} s`,
        `${m.applyFailedSeconds} s`,
        `${m.applyReportedSeconds} s`,
        `${m.naiveClientSeconds} s`,
        `${m.naiveFailedSeconds} s`,
        `${p.ratios.reportedOverClient}× (min ${p.ratios.reportedOverClientMin})`,
        `${p.ratios.applyOverNaiveClient}×`,
        `${m.applyCommandSeconds} s`,
      ])}`,
    );
  }
  for (const p of [d.skiff, d.verdaccio]) {
    if (!p) continue;
    lines.push(
      `  ${p.product} ${p.from} → ${p.to} (${p.readinessUrl.replace(/^http:\/\/[^/]+/, '')}, stability window ${p.stableSeconds} s; setup ${p.setupSeconds} s):`,
      `    apply client-seen ${p.apply.map((a) => a.seconds).join(' / ')} s, reported ${p.apply.map((a) => a.reportedSeconds).join(' / ')} s; naive client-seen ${p.naive.map((a) => a.seconds).join(' / ')} s (stop + cp -a + start ${p.naive.map((a) => a.commandSeconds).join(' / ')} s)`,
    );
  }
  if (d.skiffError) lines.push(`  skiff FAILED: ${d.skiffError}`);
  if (d.verdaccioError) lines.push(`  verdaccio FAILED: ${d.verdaccioError}`);
  lines.push(
    '  says/client = uplift-reported ÷ client-seen (≥ 1: uplift never under-reports); apply/naive = client-seen of uplift apply ÷ of stop, cp -a, start',
  );
  return lines.join('\n');
}
