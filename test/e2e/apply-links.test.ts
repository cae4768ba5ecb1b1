import {
  appendFileSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import {
  type ApplyFixture,
  applyArgs,
  packsWithFailingLastHop,
  prepareApplyFixture,
  startFreshInstall,
  stateDir,
  tableRows,
  uplift,
} from '../util/apply-skiff.ts';
import { repoRoot } from '../util/run-cli.ts';
import { hashTree, type TreeHash } from '../util/tree-hash.ts';

const from = '5.3.0 Patch 2';
const to = '5.3.3 GA';
const packInputs = join(repoRoot, 'profiles/skiff/packs/5.3.3-GA');

/**
 * What the running server writes on its own. A linked `var/db` is one entry (the link and its
 * target text); a real one's files change under the running server and are compared apart.
 */
const runtime = (p: string) =>
  p === 'var/run' || p === 'var/log' || p === 'var/tmp' || p.startsWith('var/db/');

const treeOf = async (dir: string) => (await hashTree(dir, { ignore: runtime })).hash;

/**
 * Operators link configuration files, folders and database folders to other disks. A real
 * `uplift apply` of skiff's 5.3.0 Patch 2 → 5.3.3 GA hop (its real database migration, on a
 * running sample installation) with links in the installation: each link is carried as the link,
 * never followed to write, never replaced by a folder; a pack that would write through a link is
 * refused (exit 3, nothing changed) unless the profile's `paths.data` or `paths.databases` names
 * the link (skiff's names `var/db`), and then a failed hop rolls the data behind the link back too. Every case ends with the installation's tree
 * (link targets included) exactly the old or the new one and the data behind the links intact.
 */
describe('uplift apply with customer links in the installation', () => {
  let fx: ApplyFixture;
  /** The same hop's pack with a second database migration that fails. */
  let failingPacks: string;
  let oldRows: Record<string, unknown[]>;

  beforeAll(async () => {
    fx = await prepareApplyFixture('uplift-apply-links-', from, to, {
      [to]: join(packInputs, 'migrations.yaml'),
    });
    oldRows = tableRows(join(fx.template, 'var/db/skiff.db'));
    failingPacks = await packsWithFailingLastHop(fx, packInputs);
  }, 240_000);

  afterAll(async () => {
    await fx?.dispose();
  });

  /** A copy of skiff's profile whose `paths.databases` is `databases`. */
  async function profileWithDatabases(databases: string[]): Promise<string> {
    const dir = await mkdtemp(join(fx.root, 'profile-'));
    await cp(join(repoRoot, 'profiles/skiff'), dir, { recursive: true });
    await symlink(join(repoRoot, 'node_modules'), join(dir, 'node_modules'));
    const file = join(dir, 'profile.yaml');
    const doc = parseDocument(await readFile(file, 'utf8'));
    doc.setIn(['paths', 'databases'], doc.createNode(databases));
    await writeFile(file, doc.toString());
    return dir;
  }

  /**
   * A fresh sample installation (started) with `rel` moved out to `<case>/outside/<rel>` and a
   * link to it left in its place, the way an operator moves things to another disk.
   */
  async function installWithLinks(
    rels: string[],
    prepare?: (install: string) => void,
  ): Promise<{ install: string; outside: string; done: () => Promise<void> }> {
    const install = await startFreshInstall(fx);
    await fx.skiff.stopInstallation(install);
    const outside = join(dirname(install), 'outside');
    prepare?.(install);
    for (const rel of rels) {
      await mkdir(dirname(join(outside, rel)), { recursive: true });
      renameSync(join(install, rel), join(outside, rel));
      symlinkSync(join(outside, rel), join(install, rel));
    }
    await fx.skiff.startInstallation(install);
    return {
      install,
      outside,
      done: async () => {
        await fx.skiff.stopInstallation(install).catch(() => undefined);
        await rm(dirname(install), { recursive: true, force: true });
      },
    };
  }

  const linkOf = (install: string, rel: string) => {
    expect(lstatSync(join(install, rel)).isSymbolicLink(), `${rel} is a link`).toBe(true);
    return readlinkSync(join(install, rel));
  };

  async function expectOldRunning(install: string, tree: TreeHash) {
    const now = await hashTree(install, { ignore: runtime });
    expect(now.records).toEqual(tree.records);
    expect(await fx.skiff.getInstallationStatus(install)).toMatchObject({
      version: from,
      healthy: true,
    });
  }

  it('carries a linked configuration file, a linked customer folder, a linked data folder and a link inside the installation as links', async () => {
    const account = `data/${readdirSync(join(fx.template, 'data')).sort()[0]}`;
    const c = await installWithLinks(['conf/start-script.conf', 'archive', account], (i) => {
      appendFileSync(join(i, 'conf/start-script.conf'), 'HEAP_MB=768\n');
      mkdirSync(join(i, 'archive'));
      writeFileSync(join(i, 'archive/2024-01.log'), 'archived transfers\n');
      symlinkSync('skiff.properties', join(i, 'conf/current.properties'));
    });
    try {
      const outsideBefore = await treeOf(c.outside);
      const links = Object.fromEntries(
        ['conf/start-script.conf', 'archive', account, 'conf/current.properties'].map((l) => [
          l,
          linkOf(c.install, l),
        ]),
      );

      const r = uplift(applyArgs(fx, c.install));

      expect(r.code, r.stdout + r.stderr).toBe(0);
      for (const [l, target] of Object.entries(links)) expect(linkOf(c.install, l)).toBe(target);
      const merges = JSON.parse(r.stdout).hops[0].merges as { path: string; notes: string[] }[];
      expect(merges.find((m) => m.path === 'conf/start-script.conf')?.notes.join()).toContain(
        "customer's link",
      );
      expect(await treeOf(c.outside)).toBe(outsideBefore);
      expect(readFileSync(join(c.install, 'conf/start-script.conf'), 'utf8')).toContain(
        'HEAP_MB=768',
      );
      // Exactly the new version: every vendor file the customer did not touch is the new one.
      const shipped = join(fx.releases, fx.skiff.releaseSlug(to), 'tree');
      for (const f of ['version', 'lib/release.json', 'bin/start_all'])
        expect(readFileSync(join(c.install, f), 'utf8'), f).toBe(
          readFileSync(join(shipped, f), 'utf8'),
        );
      expect(await fx.skiff.getInstallationStatus(c.install)).toMatchObject({
        version: to,
        healthy: true,
      });
    } finally {
      await c.done();
    }
  }, 240_000);

  it('refuses (exit 3, nothing changed) a pack that changes a linked file', async () => {
    const c = await installWithLinks(['bin/start_all']);
    try {
      const tree = await hashTree(c.install, { ignore: runtime });
      const outsideBefore = await treeOf(c.outside);

      const r = uplift(applyArgs(fx, c.install));

      expect(r.code, r.stdout + r.stderr).toBe(3);
      const error = JSON.parse(r.stdout).error;
      expect(error.code).toBe('UPLIFT_APPLY_CONFLICT');
      expect(error.message).toContain('bin/start_all');
      await expectOldRunning(c.install, tree);
      expect(await treeOf(c.outside)).toBe(outsideBefore);
    } finally {
      await c.done();
    }
  }, 240_000);

  it('refuses (exit 3, nothing changed) a pack that would write beneath a linked folder', async () => {
    const c = await installWithLinks(['conf'], (i) =>
      writeFileSync(join(i, 'conf/partners.txt'), 'the customer file beside the vendor ones\n'),
    );
    try {
      const tree = await hashTree(c.install, { ignore: runtime });
      const outsideBefore = await treeOf(c.outside);

      const r = uplift(applyArgs(fx, c.install));

      expect(r.code, r.stdout + r.stderr).toBe(3);
      const error = JSON.parse(r.stdout).error;
      expect(error.code).toBe('UPLIFT_APPLY_CONFLICT');
      expect(error.message).toMatch(/conf\/(skiff|security)\.properties/);
      await expectOldRunning(c.install, tree);
      expect(await treeOf(c.outside)).toBe(outsideBefore);
      expect(readFileSync(join(c.install, 'conf/partners.txt'), 'utf8')).toContain('customer');
    } finally {
      await c.done();
    }
  }, 240_000);

  it('refuses (exit 3, nothing changed) a database migration through a linked folder the profile does not declare as data', async () => {
    // Only the database files are declared, not the folder the operator linked.
    const profile = await profileWithDatabases(['var/db/*.db']);
    const c = await installWithLinks(['var/db']);
    try {
      const tree = await hashTree(c.install, { ignore: runtime });

      const r = uplift([...applyArgs(fx, c.install), '--profile', profile]);

      expect(r.code, r.stdout + r.stderr).toBe(3);
      const error = JSON.parse(r.stdout).error;
      expect(error).toMatchObject({ unchanged: true });
      expect(error.message).toContain('var/db/skiff.db');
      await expectOldRunning(c.install, tree);
      expect(tableRows(join(c.outside, 'var/db/skiff.db'))).toEqual(oldRows);
    } finally {
      await c.done();
    }
  }, 240_000);

  it('rolls the data behind a linked database folder back with the hop when a migration fails', async () => {
    const c = await installWithLinks(['var/db']);
    try {
      const tree = await hashTree(c.install, { ignore: runtime });

      const r = uplift(applyArgs({ ...fx, packs: failingPacks }, c.install));

      expect(r.code, r.stdout + r.stderr).toBe(1);
      expect(JSON.parse(r.stdout).error.code).toBe('UPLIFT_APPLY_ROLLED_BACK');
      await expectOldRunning(c.install, tree);
      expect(linkOf(c.install, 'var/db')).toBe(join(c.outside, 'var/db'));
      expect(tableRows(join(c.outside, 'var/db/skiff.db'))).toEqual(oldRows);
    } finally {
      await c.done();
    }
  }, 240_000);

  it('rolls the linked database back with resume --abort after a kill -9 once the migration ran', async () => {
    const c = await installWithLinks(['var/db']);
    try {
      const tree = await hashTree(c.install, { ignore: runtime });

      const r = uplift(applyArgs(fx, c.install), { crashAt: 'migrate:done' });
      expect(r.signal ?? r.code, r.stdout + r.stderr).toBe('SIGKILL');
      expect(tableRows(join(c.outside, 'var/db/skiff.db'))).not.toEqual(oldRows);
      const resumed = uplift(['resume', '--abort', '--install', c.install, '--json']);

      expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0);
      await expectOldRunning(c.install, tree);
      expect(tableRows(join(c.outside, 'var/db/skiff.db'))).toEqual(oldRows);
      expect(readdirSync(stateDir(c.install)).filter((n) => n.startsWith('stage-'))).toEqual([]);
    } finally {
      await c.done();
    }
  }, 240_000);

  it("migrates the data behind a linked database folder the profile declares as data, and keeps the link; the hop's backup holds that data, and uplift rollback puts it back", async () => {
    const c = await installWithLinks(['var/db']);
    try {
      const tree = await hashTree(c.install, { ignore: runtime });
      const r = uplift(applyArgs(fx, c.install));

      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(linkOf(c.install, 'var/db')).toBe(join(c.outside, 'var/db'));
      // The hop's own backup is taken as `uplift backup` takes it: through the data link, so a
      // restore of it brings the database on the other disk back too.
      const backup = JSON.parse(r.stdout).hops[0].backup as string;
      const verified = uplift(['backup', '--verify', backup, '--json']);
      expect(verified.code, verified.stdout + verified.stderr).toBe(0);
      expect(JSON.parse(verified.stdout).behind).toMatchObject([
        { path: 'var/db', target: join(c.outside, 'var/db') },
      ]);
      const rows = tableRows(join(c.outside, 'var/db/skiff.db'));
      expect(rows.transfers).toBeUndefined();
      expect(rows.file_tracking?.length).toBe(oldRows.transfers?.length);
      expect(await fx.skiff.getInstallationStatus(c.install)).toMatchObject({
        version: to,
        healthy: true,
      });

      // The copy taken before the migration stays with the old generation: rolling the
      // committed hop back puts the database behind the link back with the old tree.
      const rb = uplift(['rollback', '--install', c.install, '--json']);
      expect(rb.code, rb.stdout + rb.stderr).toBe(0);
      await expectOldRunning(c.install, tree);
      expect(linkOf(c.install, 'var/db')).toBe(join(c.outside, 'var/db'));
      expect(tableRows(join(c.outside, 'var/db/skiff.db'))).toEqual(oldRows);
      expect(readdirSync(stateDir(c.install)).filter((n) => n.endsWith('.linked-data'))).toEqual(
        [],
      );
    } finally {
      await c.done();
    }
  }, 240_000);
});
