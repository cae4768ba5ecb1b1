/**
 * The verdaccio profile on a real Verdaccio: 5.33.0 installed from the npm registry
 * (test/util/verdaccio.ts), running, with packages published by the npm CLI. `uplift facts` and
 * `uplift plan` (the built CLI) read it through a copy of profiles/verdaccio kept outside uplift's
 * own profiles folder, the way an operator's own profile is used.
 */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, runCliProcess } from '../util/run-cli.ts';
import {
  startVerdaccio,
  VERDACCIO_FROM,
  VERDACCIO_TO,
  type VerdaccioInstance,
} from '../util/verdaccio.ts';

let v: VerdaccioInstance;
let outside: string;
let profile: string;

beforeAll(async () => {
  v = await startVerdaccio({ version: VERDACCIO_FROM });
  outside = await mkdtemp(join(tmpdir(), 'uplift-verdaccio-profile-'));
  profile = join(outside, 'verdaccio');
  await cp(join(repoRoot, 'profiles/verdaccio'), profile, { recursive: true });
}, 600_000);

afterAll(async () => {
  await v?.cleanup();
  if (outside) await rm(outside, { recursive: true, force: true });
});

/** `uplift plan` of the running installation to VERDACCIO_TO through the outside profile, then `more`. */
const planArgs = (...more: string[]) => [
  'plan',
  '--install',
  v.install,
  '--profile',
  profile,
  '--to',
  VERDACCIO_TO,
  ...more,
];

function json(args: string[]) {
  const r = runCliProcess(args);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout);
}

describe(`verdaccio profile on a running Verdaccio ${VERDACCIO_FROM}`, () => {
  it('uplift facts reads the version, config.yaml, the service and the storage', () => {
    const f = json(['facts', '--install', v.install, '--profile', profile, '--json']);
    expect(f.product).toBe('verdaccio');
    expect(f.version).toBe(VERDACCIO_FROM);
    expect(f.detection.profile).toBe('verdaccio');
    // config.yaml, read as YAML, in full
    expect(f.config.listen).toBe(`127.0.0.1:${v.port}`);
    expect(f.config.storage).toBe('./storage');
    expect(f.config.auth.htpasswd).toEqual({ file: './htpasswd', max_users: -1 });
    expect(f.config.uplinks.npmjs.url).toBe('https://registry.npmjs.org/');
    expect(f.config.web.title).toBe('uplift test registry');
    expect(f.config.max_body_size).toBe('25mb');
    // derived facts
    expect(f.server.listen).toBe(`127.0.0.1:${v.port}`);
    expect(f.auth).toMatchObject({ htpasswd: true, htpasswdFile: './htpasswd', maxUsers: -1 });
    expect(f.uplinks.configured).toBe(true);
    expect(f.logger.legacyLogsKey).toBe(false);
    // the running service, from the pid file the helper wrote
    expect(f.services).toEqual([
      expect.objectContaining({ name: 'verdaccio', pidFile: 'run/verdaccio.pid', running: true }),
    ]);
    // storage as data: 3 published versions of 2 packages (metadata + tarballs) and the db file
    expect(f.data.storageFiles).toBeGreaterThanOrEqual(6);
    expect(f.data.storageBytes).toBeGreaterThan(1000);
    expect(f.data.pluginFiles).toBe(0);
    // the Node.js that runs it: the profile's command reader asks `${node} --version`
    expect(f.runtime.nodeVersion).toBe(process.version.slice(1));
    // nothing secret comes out
    expect(JSON.stringify(f)).not.toContain(v.password);
  });

  it('uplift plan lists the 5 → 6 incompatibilities that apply to this installation', () => {
    const plan = json(planArgs('--json'));
    expect(plan.product).toBe('verdaccio');
    expect(plan.from).toBe(VERDACCIO_FROM);
    expect(plan.steps.map((s: { from: string; to: string }) => `${s.from}→${s.to}`)).toEqual([
      `${VERDACCIO_FROM}→${VERDACCIO_TO}`,
    ]);
    const outcome = Object.fromEntries(
      plan.incompatibilities.map((i: { id: string; outcome: string }) => [i.id, i.outcome]),
    );
    expect(outcome).toMatchObject({
      // Node.js 20 runs both versions
      'node-18-required': 'does-not-apply',
      'node-20-required': 'does-not-apply',
      'node-22-recommended': 'applies',
      // the test config keeps the default plugins folder, has no plugin in it, and one uplink
      'plugins-folder-default': 'applies',
      'plugins-new-loader': 'does-not-apply',
      'request-removed': 'applies',
      'logs-key-renamed': 'does-not-apply',
      'self-path-removed': 'does-not-apply',
      'legacy-token-secret-node-22': 'does-not-apply',
    });
    // 6.9.0's Node.js 22 floor is beyond the target: not part of this plan
    expect(outcome).not.toHaveProperty('node-22-required');
  });

  it('a --fact for the Node.js version goes over the detected one: an old Node.js blocks the plan', () => {
    const r = runCliProcess(planArgs('--fact', 'runtime.nodeVersion=16.20.2', '--json'));
    expect(r.code, r.stderr).toBe(3);
    const plan = JSON.parse(r.stdout);
    const node18 = plan.incompatibilities.find((i: { id: string }) => i.id === 'node-18-required');
    expect(node18.outcome).toBe('applies');
    expect(plan.verdict).toBe('blocked');
  });

  it('the text plan shows the incompatibilities with their actions', () => {
    const r = runCliProcess(planArgs());
    // Text wraps at 80 columns, and a title behind an [illustrative] mark may wrap.
    const text = r.stdout.replace(/\s+/g, ' ');
    expect(r.code).toBe(0);
    expect(text).toContain('Uplinks no longer use the request HTTP library');
    expect(text).toContain('The plugins folder setting is disabled by default in 6.x');
  });
});
