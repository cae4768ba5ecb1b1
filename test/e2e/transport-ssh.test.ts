import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostKeyPolicy, TopologyNode } from '../../src/topology/types.ts';
import { type NodeTransport, openTransport } from '../../src/transport/index.ts';
import { isAlive } from '../../src/util/index.ts';
import { type SshdInstance, type SshdSet, sshdMissing, startSshd } from '../util/sshd.ts';

/**
 * The SSH transport against real OpenSSH servers on 127.0.0.1 (test/util/sshd.ts): commands and
 * their quoting, timeouts, host key checks, log-in failures, resumable hash-checked copies, and a
 * cut connection.
 */
const missing = sshdMissing();
if (missing && process.env.CI === 'true') throw new Error(`real sshd needed under CI: ${missing}`);
const suite = missing ? describe.skip : describe;
if (missing) console.warn(`skipping the SSH transport tests: ${missing}`);

let set: SshdSet;
/** An sshd whose PATH finds a `sha256sum` that lies, one with no hash tool at all. */
let lying: SshdSet;
let toolless: SshdSet;
let a: SshdInstance;
let b: SshdInstance;
let d: string;
const open: NodeTransport[] = [];

function nodeOf(
  i: SshdInstance,
  hostKey: HostKeyPolicy = { kind: 'pinned', key: i.hostKeyLine },
  extra: Partial<NonNullable<TopologyNode['ssh']>> = {},
): TopologyNode {
  return {
    name: `n${i.port}`,
    nodeRuntime: process.execPath,
    address: { kind: 'ssh', user: 'root', host: '127.0.0.1', port: i.port, path: '/opt/x' },
    ssh: { hostKey, identity: i.identityFile, connectTimeoutSeconds: 10, ...extra },
  };
}

async function connect(node: TopologyNode): Promise<NodeTransport> {
  const t = await openTransport(node);
  open.push(t);
  return t;
}

/** `SHA256:…` as ssh-keygen prints it for a .pub file. */
function keygenFingerprint(pub: string): string {
  return execFileSync('ssh-keygen', ['-lf', pub], { encoding: 'utf8' }).split(' ')[1] as string;
}

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  if (missing) return;
  d = mkdtempSync(join(tmpdir(), 'uplift-ssh-'));
  set = await startSshd(2);
  [a, b] = set.instances as [SshdInstance, SshdInstance];
  const fake = join(d, 'fakebin');
  mkdirSync(fake);
  writeFileSync(join(fake, 'sha256sum'), `#!/bin/sh\necho "${'0'.repeat(64)}  $2"\n`, {
    mode: 0o755,
  });
  lying = await startSshd(1, { setEnv: { PATH: `${fake}:/usr/bin:/bin` } });
  toolless = await startSshd(1, { setEnv: { PATH: join(d, 'nothing-here') } });
}, 60_000);

afterAll(async () => {
  await Promise.all(open.map((t) => t.close().catch(() => undefined)));
  await Promise.all([set, lying, toolless].map((s) => s?.stopAll()));
  if (d) rmSync(d, { recursive: true, force: true });
});

suite('exec over SSH', () => {
  it('returns the exit code, stdout and stderr', async () => {
    const t = await connect(nodeOf(a));

    const r = await t.exec(['sh', '-c', 'echo out; echo err 1>&2; exit 3']);

    expect(r).toEqual({ code: 3, stdout: 'out\n', stderr: 'err\n' });
    expect(t.label).toBe(`ssh://root@127.0.0.1:${a.port}`);
  });

  it.each([
    ['spaces', 'a b  c'],
    ['single quotes', "it's 'quoted'"],
    ['double quotes', 'say "hi"'],
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell word, not a template
    ['dollar and backticks', '$HOME `id` $(id) ${PATH}'],
    ['a newline', 'line 1\nline 2'],
    ['a backslash', 'a\\b\\'],
    ['glob characters', '* ? [a-z]'],
    ['shell operators', '; && || | > < & #'],
    ['an empty word', ''],
    ['a leading dash', '-n'],
    ['a tilde', '~root'],
    ['non-ASCII', 'zürich ☃'],
  ])('passes a word with %s through unchanged', async (_, word) => {
    const t = await connect(nodeOf(a));

    const r = await t.exec(['printf', '%s|%s', word, 'end']);

    expect(r.stdout).toBe(`${word}|end`);
  });

  it('sets env and cwd, quoted', async () => {
    const t = await connect(nodeOf(a));
    const dir = join(d, "a dir with 'quotes' $x");
    mkdirSync(dir);

    const r = await t.exec(['sh', '-c', 'pwd; printf %s "$MY_VAR"'], {
      cwd: dir,
      env: { MY_VAR: "v a l'$u\ne" },
    });

    expect(r.stdout).toBe(`${dir}\nv a l'$u\ne`);
  });

  it('reads 127 for a missing command and the signal for a killed one', async () => {
    const t = await connect(nodeOf(a));

    const notFound = await t.exec(['no-such-command-here']);
    const killed = await t.exec(['sh', '-c', 'kill -s KILL $$']);

    expect(notFound.code).toBe(127);
    expect(killed).toMatchObject({ code: null, signal: 'SIGKILL' });
  });

  it('hands over each stdout line as it arrives', async () => {
    const t = await connect(nodeOf(a));
    const seen: { line: string; at: number }[] = [];
    const start = Date.now();

    await t.exec(['sh', '-c', 'echo \'{"n":1}\'; sleep 1; printf \'{"n":2}\''], {
      onStdoutLine: (line) => seen.push({ line, at: Date.now() - start }),
    });

    expect(seen.map((s) => s.line)).toEqual(['{"n":1}', '{"n":2}']);
    expect((seen[1]?.at ?? 0) - (seen[0]?.at ?? 0)).toBeGreaterThan(500);
  });

  it('stops a command and its children on timeout (UPLIFT_TRANSPORT_TIMEOUT)', async () => {
    const t = await connect(nodeOf(a));
    const pidFile = join(d, 'bg.pid');
    const start = Date.now();

    const run = t.exec(['sh', '-c', `sleep 60 & echo $! > '${pidFile}'; wait`], { timeoutMs: 800 });

    await expect(run).rejects.toMatchObject({ code: 'UPLIFT_TRANSPORT_TIMEOUT' });
    expect(Date.now() - start).toBeLessThan(6000);
    const bg = Number(readFileSync(pidFile, 'utf8'));
    for (let k = 0; k < 40 && isAlive(bg); k++) await sleep(50);
    expect(isAlive(bg)).toBe(false);
  });

  it('runs several commands at once on one connection', async () => {
    const t = await connect(nodeOf(a));

    const rs = await Promise.all(
      Array.from({ length: 20 }, (_, k) => t.exec(['sh', '-c', `sleep 0.2; echo ${k}`])),
    );

    expect(rs.map((r) => r.stdout.trim())).toEqual(Array.from({ length: 20 }, (_, k) => `${k}`));
  });
});

suite('host key verification', () => {
  it('accepts the pinned key and a known_hosts file with a [host]:port entry', async () => {
    await expect(connect(nodeOf(a))).resolves.toBeDefined();
    await expect(
      connect(nodeOf(a, { kind: 'known-hosts', file: a.knownHostsFile })),
    ).resolves.toBeDefined();
  });

  it('accepts a hashed known_hosts entry (ssh-keygen -H)', async () => {
    const file = join(d, 'hashed_known_hosts');
    writeFileSync(
      file,
      `# comment\n[127.0.0.1]:${b.port} ${b.hostKeyLine}\n[127.0.0.1]:${a.port} ${a.hostKeyLine}\n`,
    );
    execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' });
    const text = readFileSync(file, 'utf8');

    expect(text).not.toContain('127.0.0.1');
    expect(text).toMatch(/^\|1\|/m);
    await expect(connect(nodeOf(a, { kind: 'known-hosts', file }))).resolves.toBeDefined();
  });

  it('refuses a host not in known_hosts (UPLIFT_SSH_HOST_UNKNOWN), naming what it offered', async () => {
    const file = join(d, 'other_known_hosts');
    writeFileSync(file, `[127.0.0.1]:${b.port} ${b.hostKeyLine}\n127.0.0.1 ${b.hostKeyLine}\n`);

    const err = await connect(nodeOf(a, { kind: 'known-hosts', file })).catch((e) => e);

    expect(err).toMatchObject({ code: 'UPLIFT_SSH_HOST_UNKNOWN' });
    expect(err.message).toContain(`[127.0.0.1]:${a.port}`);
    expect(err.message).toContain(keygenFingerprint(join(a.dir, 'host_ed25519.pub')));
  });

  it('refuses a changed key (UPLIFT_SSH_HOST_KEY_CHANGED), naming the expected and received fingerprints', async () => {
    const expected = keygenFingerprint(join(b.dir, 'host_ed25519.pub'));
    const received = keygenFingerprint(join(a.dir, 'host_ed25519.pub'));

    const pinned = await connect(nodeOf(a, { kind: 'pinned', key: b.hostKeyLine })).catch((e) => e);
    const file = join(d, 'changed_known_hosts');
    writeFileSync(file, `[127.0.0.1]:${a.port} ${b.hostKeyLine}\n`);
    const known = await connect(nodeOf(a, { kind: 'known-hosts', file })).catch((e) => e);

    for (const err of [pinned, known]) {
      expect(err).toMatchObject({ code: 'UPLIFT_SSH_HOST_KEY_CHANGED' });
      expect(err.message).toContain(`expected ssh-ed25519 ${expected}`);
      expect(err.message).toContain(`received ssh-ed25519 ${received}`);
    }
  });

  it('refuses a key marked @revoked even when also listed', async () => {
    const file = join(d, 'revoked_known_hosts');
    writeFileSync(
      file,
      `[127.0.0.1]:${a.port} ${a.hostKeyLine}\n@revoked [127.0.0.1]:${a.port} ${a.hostKeyLine}\n`,
    );

    await expect(connect(nodeOf(a, { kind: 'known-hosts', file }))).rejects.toMatchObject({
      code: 'UPLIFT_SSH_HOST_KEY_CHANGED',
    });
  });
});

suite('logging in', () => {
  it('refuses a key the server does not accept (UPLIFT_SSH_AUTH), without the key in the message', async () => {
    const other = join(d, 'stranger_ed25519');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other]);

    const err = await connect(nodeOf(a, undefined, { identity: other })).catch((e) => e);

    expect(err).toMatchObject({ code: 'UPLIFT_SSH_AUTH' });
    const key = readFileSync(other, 'utf8').split('\n').slice(1, -2).join('');
    expect(JSON.stringify(err.toJSON())).not.toContain(key.slice(0, 30));
  });

  it('says what to do when there is neither an identity nor an agent', async () => {
    const saved = process.env.SSH_AUTH_SOCK;
    delete process.env.SSH_AUTH_SOCK;
    try {
      const node = nodeOf(a);
      delete node.ssh?.identity;

      await expect(connect(node)).rejects.toMatchObject({ code: 'UPLIFT_SSH_AUTH' });
    } finally {
      if (saved !== undefined) process.env.SSH_AUTH_SOCK = saved;
    }
  });

  it('fails with UPLIFT_SSH_CONNECT on a closed port and on a server that never answers', async () => {
    const silent: Server = createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const silentPort = (silent.address() as { port: number }).port;
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
    const closedPort = (closed.address() as { port: number }).port;
    await new Promise<void>((r) => closed.close(() => r()));
    try {
      const at = (port: number) => {
        const n = nodeOf(a, undefined, { connectTimeoutSeconds: 1 });
        if (n.address.kind === 'ssh') n.address.port = port;
        return n;
      };
      const start = Date.now();

      await expect(connect(at(closedPort))).rejects.toMatchObject({ code: 'UPLIFT_SSH_CONNECT' });
      await expect(connect(at(silentPort))).rejects.toMatchObject({ code: 'UPLIFT_SSH_CONNECT' });
      expect(Date.now() - start).toBeLessThan(5000);
    } finally {
      silent.close();
    }
  });
});

suite('putFile over SFTP', () => {
  const content = Buffer.from(Array.from({ length: 300_000 }, (_, k) => (k * 7919) % 251));
  const hash = sha(content);
  let local: string;
  beforeAll(() => {
    if (missing) return;
    local = join(d, 'payload.bin');
    writeFileSync(local, content);
  });

  it('copies a file, verified and renamed into place, leaving no .part', async () => {
    const t = await connect(nodeOf(a));
    const remote = join(d, 'out', 'fresh.bin');
    await t.mkdirp(join(d, 'out'));
    const progress: number[] = [];

    const r = await t.putFile(local, remote, {
      sha256: hash,
      mode: 0o640,
      onProgress: (done) => progress.push(done),
    });

    expect(r).toEqual({ bytes: content.length, resumedFrom: 0 });
    expect(sha(readFileSync(remote))).toBe(hash);
    expect(existsSync(`${remote}.part`)).toBe(false);
    expect((await t.stat(remote))?.mode).toBe(0o640);
    expect(progress.at(-1)).toBe(content.length);
  });

  it('resumes from a cut copy whose prefix matches', async () => {
    const t = await connect(nodeOf(a));
    const remote = join(d, 'resumed.bin');
    writeFileSync(`${remote}.part`, content.subarray(0, 123_457));

    const r = await t.putFile(local, remote, { sha256: hash });

    expect(r).toEqual({ bytes: content.length - 123_457, resumedFrom: 123_457 });
    expect(sha(readFileSync(remote))).toBe(hash);
  });

  it('starts again over a part whose prefix differs, or that is longer than the file', async () => {
    const t = await connect(nodeOf(a));
    const wrong = join(d, 'wrong.bin');
    const long = join(d, 'long.bin');
    const bad = Buffer.from(content.subarray(0, 50_000));
    bad[10] = (bad[10] as number) ^ 0xff;
    writeFileSync(`${wrong}.part`, bad);
    writeFileSync(`${long}.part`, Buffer.concat([content, Buffer.from('extra')]));

    const r1 = await t.putFile(local, wrong, { sha256: hash });
    const r2 = await t.putFile(local, long, { sha256: hash });

    expect(r1).toEqual({ bytes: content.length, resumedFrom: 0 });
    expect(r2).toEqual({ bytes: content.length, resumedFrom: 0 });
    expect(sha(readFileSync(wrong))).toBe(hash);
    expect(sha(readFileSync(long))).toBe(hash);
  });

  it('removes the part and fails (UPLIFT_TRANSPORT_HASH_MISMATCH) when the node hashes it otherwise', async () => {
    const t = await connect(nodeOf(lying.instances[0] as SshdInstance));
    const remote = join(d, 'lied.bin');

    await expect(t.putFile(local, remote, { sha256: hash })).rejects.toMatchObject({
      code: 'UPLIFT_TRANSPORT_HASH_MISMATCH',
    });
    expect(existsSync(remote)).toBe(false);
    expect(existsSync(`${remote}.part`)).toBe(false);
  });

  it('copies nothing when the local file is not what it should be', async () => {
    const t = await connect(nodeOf(a));
    const remote = join(d, 'never.bin');

    await expect(t.putFile(local, remote, { sha256: sha('other') })).rejects.toMatchObject({
      code: 'UPLIFT_TRANSPORT_HASH_MISMATCH',
    });
    expect(existsSync(`${remote}.part`)).toBe(false);
  });

  it('hashes by reading back on a node without a hash tool', async () => {
    const logs: string[] = [];
    const t = await openTransport(nodeOf(toolless.instances[0] as SshdInstance), {
      onLog: (l) => logs.push(l),
    });
    open.push(t);
    const remote = join(d, 'readback.bin');

    const r = await t.putFile(local, remote, { sha256: hash });

    expect(r.bytes).toBe(content.length);
    expect(sha(readFileSync(remote))).toBe(hash);
    expect(logs.join('\n')).toContain('reading it back');
  });

  it('copies a few megabytes intact', async () => {
    const t = await connect(nodeOf(a));
    const big = join(d, 'big.bin');
    const bytes = Buffer.alloc(6 * 1024 * 1024 + 17);
    for (let k = 0; k < bytes.length; k += 4096) bytes.writeUInt32LE(k, k);
    writeFileSync(big, bytes);

    await t.putFile(big, join(d, 'big-copy.bin'), { sha256: sha(bytes) });

    expect(sha(readFileSync(join(d, 'big-copy.bin')))).toBe(sha(bytes));
  });
});

suite('files over SFTP', () => {
  it('reads, stats, makes folders, renames over a file and removes a tree', async () => {
    const t = await connect(nodeOf(a));
    const base = join(d, 'files', 'deep', 'er');

    await t.mkdirp(base);
    await t.mkdirp(base);
    writeFileSync(join(base, 'x'), 'one');
    writeFileSync(join(base, 'y'), 'two');
    await t.rename(join(base, 'x'), join(base, 'y'));

    expect((await t.stat(base))?.isDirectory).toBe(true);
    expect((await t.readFile(join(base, 'y')))?.toString()).toBe('one');
    expect(await t.readFile(join(base, 'x'))).toBeUndefined();
    expect(await t.stat(join(base, 'nothing'))).toBeUndefined();
    await t.remove(join(d, 'files'));
    expect(existsSync(join(d, 'files'))).toBe(false);
    await t.remove(join(d, 'files'));
  });
});

suite('a cut connection', () => {
  it('fails the command under way (UPLIFT_TRANSPORT_LOST) and connects again for the next', async () => {
    const t = await connect(nodeOf(b));
    const run = t.exec(['sleep', '5']).catch((e: unknown) => e);
    await sleep(300);

    await b.restart();

    expect(await run).toMatchObject({ code: 'UPLIFT_TRANSPORT_LOST' });
    const again = await t.exec(['echo', 'back']);
    expect(again.stdout).toBe('back\n');
  });
});
