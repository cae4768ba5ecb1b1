import { existsSync, readlinkSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { account, debrisIn, slowUpload, spawnUplift } from '../util/apply-kill.ts';
import {
  type ApplyFixture,
  applyArgs,
  prepareApplyFixture,
  runtimeState,
  skiffProfileWith,
  startFreshInstall,
  stateDir,
} from '../util/apply-skiff.ts';
import { repoRoot } from '../util/run-cli.ts';
import { hashTree } from '../util/tree-hash.ts';

/*
 * Random-time kills over the skiff sample's whole multi-hop path (reliability-tests C.4.4,
 * issue 10): a clean apply is timed (T), then each run kills apply at a uniform random time in
 * [0, 1.1 T] (85% SIGKILL, 15% SIGTERM), on some runs with a client upload in flight during a
 * stop, resumes (finishing, or on some runs `--abort`), on some runs kills that resume too and
 * resumes again. Every run must end exactly on the start version or the target (tree hash),
 * serving, with the customer's transfers, uploads and link intact, and nothing in the state
 * folder a clean run would not leave. Seeded: UPLIFT_SOAK_SEED, printed with the failing run.
 * UPLIFT_SOAK_RUNS runs (default 30; `npm run soak` runs 200).
 */

const from = '5.3.0 Patch 1';
const to = '5.5 GA';
const packInputs = join(repoRoot, 'profiles/skiff/packs');
const runs = Number(process.env.UPLIFT_SOAK_RUNS ?? 30);
const seed = Number(process.env.UPLIFT_SOAK_SEED ?? 20240610);
/** Runs side by side, each on its own installation and port. */
const parallel = 2;

/** mulberry32: a small seeded generator, the same sequence for the same seed everywhere. */
function rng(s: number): () => number {
  let a = s >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('random kills over the whole path, resume (sometimes killed too), old or new', () => {
  let fx: ApplyFixture;
  let profile: string;
  let oldTree: string;
  let newTree: string;
  let newRecords: Map<string, string>;
  let cleanSeconds: number;
  let dataHash: string;
  let transfers: number;
  const outcomes = { old: 0, new: 0 };

  /** The customer's link: a configuration file kept on another disk. */
  async function withCustomerLink(install: string): Promise<string> {
    const outside = join(dirname(install), 'outside');
    await mkdir(outside, { recursive: true });
    await writeFile(join(outside, 'notes.conf'), 'kept outside the installation\n');
    await symlink(join(outside, 'notes.conf'), join(install, 'conf/notes.conf'));
    return join(outside, 'notes.conf');
  }

  function trackedTransfers(install: string): number {
    const db = new Database(join(install, 'var/db/skiff.db'), { readonly: true });
    try {
      const has = (t: string) =>
        db.prepare("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?").get(t);
      const table = has('file_tracking') ? 'file_tracking' : 'transfers';
      return (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
    } finally {
      db.close();
    }
  }

  // The link's target is each run's own folder: compared by readlink, not in the tree hash. An
  // upload in flight is the customer's new data: checked on its own (whole, or not there at all).
  const ignore = (p: string) =>
    runtimeState(p) || p === 'conf/notes.conf' || p.includes('/in-flight-');
  const args = (install: string) => [...applyArgs(fx, install), '--profile', profile];

  beforeAll(async () => {
    fx = await prepareApplyFixture('uplift-random-kill-', from, to, {
      '5.3.3 GA': join(packInputs, '5.3.3-GA/migrations.yaml'),
      '5.5 GA': join(packInputs, '5.5-GA/migrations.yaml'),
    });
    // A shorter stability window than the sample's 2 s, for this test only: the profile allows it.
    profile = await skiffProfileWith(await mkdtemp(join(fx.root, 'profile-')), {
      probes: [
        {
          name: 'health',
          command: {
            // biome-ignore lint/suspicious/noTemplateCurlyInString: the profile's variables
            argv: ['${node}', '${profile}/scripts/health.mjs', '${install}', '${version}'],
            timeoutSeconds: 10,
          },
        },
      ],
      timeoutSeconds: 30,
      stableSeconds: 0.5,
    });
    dataHash = (await hashTree(join(fx.template, 'data'))).hash;
    transfers = trackedTransfers(fx.template);
    const install = await startFreshInstall(fx);
    try {
      await withCustomerLink(install);
      oldTree = (await hashTree(install, { ignore })).hash;
      const t = performance.now();
      const run = spawnUplift(args(install));
      const r = await run.done;
      cleanSeconds = (performance.now() - t) / 1000;
      expect(r.code, `${r.stdout}${r.stderr}`).toBe(0);
      const clean = await hashTree(install, { ignore });
      newTree = clean.hash;
      newRecords = new Map(clean.records.map((x) => [x.path, JSON.stringify(x)]));
      console.log(
        `random kill: ${fx.hops.length} hops, clean apply T = ${cleanSeconds.toFixed(1)} s; seed ${seed}, ${runs} runs`,
      );
    } finally {
      await fx.skiff.stopInstallation(install).catch(() => undefined);
    }
  }, 300_000);

  afterAll(async () => {
    console.log(`random kill outcomes (seed ${seed}): old ${outcomes.old}, new ${outcomes.new}`);
    await fx?.dispose();
  });

  async function oneRun(i: number): Promise<void> {
    const r = rng(seed * 1000 + i);
    const where = `seed ${seed}, run ${i} (UPLIFT_SOAK_SEED=${seed})`;
    const install = await startFreshInstall(fx);
    try {
      const target = await withCustomerLink(install);
      const uploadBytes = 1 << 20;
      const upload =
        r() < 0.3 ? slowUpload(install, `in-flight-${i}.bin`, uploadBytes, 3) : undefined;
      const killAt = r() * 1.1 * cleanSeconds * 1000;
      const signal = r() < 0.85 ? 'SIGKILL' : 'SIGTERM';
      const abort = r() < 0.3;
      const killResume = r() < 0.25 ? r() * cleanSeconds * 1000 : undefined;
      const steps = [`kill apply at ${(killAt / 1000).toFixed(2)} s with ${signal}`];

      const apply = spawnUplift(args(install));
      const timer = setTimeout(() => apply.child.kill(signal), killAt);
      const applied = await apply.done;
      clearTimeout(timer);
      steps.push(`apply ended ${applied.signal ?? applied.code}`);
      if (killResume !== undefined && existsSync(join(stateDir(install), 'journal'))) {
        const resume = spawnUplift(['resume', '--install', install, '--json']);
        const t2 = setTimeout(() => resume.child.kill('SIGKILL'), killResume);
        const first = await resume.done;
        clearTimeout(t2);
        steps.push(`first resume ${first.signal ?? first.code}`);
      }
      const resumed = await spawnUplift([
        'resume',
        '--install',
        install,
        '--json',
        ...(abort ? ['--abort'] : []),
      ]).done;
      steps.push(`resume${abort ? ' --abort' : ''} ${resumed.code}`);
      const why = `${where}: ${steps.join('; ')}\n${resumed.stdout}${resumed.stderr}`;
      expect(resumed.code, why).toBe(0);
      if (upload) {
        // The client was told the truth: an upload the server accepted is there whole; one it
        // did not accept (cut off by the stop) left nothing half-written in the customer's data.
        const status = await upload;
        const file = join(install, 'data', account.name, `in-flight-${i}.bin`);
        const size = existsSync(file) ? statSync(file).size : undefined;
        if (status >= 200 && status < 300)
          expect(size, `${why}\nupload ${status}`).toBe(uploadBytes);
        else expect(size, `${why}\nupload ${status}`).toBeUndefined();
        steps.push(`upload ${status}`);
      }

      const now = await hashTree(install, { ignore });
      const tree = now.hash;
      // Which entries differ from the clean run's target, to read a failure by.
      const differs = now.records
        .filter((x) => newRecords.get(x.path) !== JSON.stringify(x))
        .map((x) => x.path)
        .slice(0, 20);
      expect(
        [oldTree, newTree],
        `${why}\nnot as the clean run left: ${differs.join(', ')}`,
      ).toContain(tree);
      const version = tree === newTree ? to : from;
      outcomes[version === to ? 'new' : 'old']++;
      await sleep(200);
      expect(await fx.skiff.getInstallationStatus(install), why).toMatchObject({
        version,
        healthy: true,
      });
      expect(trackedTransfers(install), why).toBeGreaterThanOrEqual(transfers);
      const data = await hashTree(join(install, 'data'), {
        ignore: (p) => p.includes('in-flight-') || p.includes('uplift-smoke'),
      });
      expect(data.hash, why).toBe(dataHash);
      expect(readlinkSync(join(install, 'conf/notes.conf')), why).toBe(target);
      expect(debrisIn(install), why).toEqual([]);
    } finally {
      await fx.skiff.stopInstallation(install).catch(() => undefined);
      await rm(dirname(install), { recursive: true, force: true, maxRetries: 3 });
    }
  }

  it(`${runs} runs end on ${from} or ${to}`, { timeout: 3_600_000 }, async () => {
    const started = performance.now();
    let next = 0;
    const worker = async () => {
      while (next < runs) await oneRun(next++);
    };
    await Promise.all(Array.from({ length: parallel }, worker));
    console.log(
      `random kill: ${runs} runs in ${((performance.now() - started) / 1000).toFixed(0)} s`,
    );
    expect(outcomes.old + outcomes.new).toBe(runs);
  });
});
