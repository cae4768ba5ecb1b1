import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { open as openLocal } from 'node:fs/promises';
import type { ClientChannel, ConnectConfig, SFTPWrapper, Client as SshClient } from 'ssh2';
import ssh2 from 'ssh2';
import { UpliftError, unreadableFileError } from '../errors/index.ts';
import type { SshSettings, TopologyNode } from '../topology/types.ts';
import { expectedKeys, type HostKeyVerdict, hostKeyAlgorithms, verifyHostKey } from './host-key.ts';
import { lineCollector, shellQuote } from './lines.ts';
import { killGraceMs } from './local.ts';
import { type PartTarget, putThrough } from './put-file.ts';
import type { ExecOptions, ExecResult, NodeTransport, RemoteStat } from './types.ts';

/**
 * Channels one connection runs at once: OpenSSH's sshd allows 10 sessions per connection
 * (MaxSessions), one of them the SFTP session, one kept for stopping a command that timed out.
 */
const maxChannels = 8;
/** Writes in flight at once during a copy, of `chunkBytes` each: SFTP's latency, not its bandwidth, is what limits a copy done one write at a time. */
const writeDepth = 32;
const chunkBytes = 32 * 1024;
/** Files up to this size are hashed on arrival by reading them back rather than by a command. */
const readBackBytes = 128 * 1024;

type SshAddress = Extract<TopologyNode['address'], { kind: 'ssh' }>;

/** A counting semaphore: at most `n` holders. */
function slots(n: number) {
  let free = n;
  const waiting: (() => void)[] = [];
  return {
    async take(): Promise<() => void> {
      if (free > 0) free--;
      else await new Promise<void>((r) => waiting.push(r));
      let given = false;
      return () => {
        if (given) return;
        given = true;
        const next = waiting.shift();
        if (next) next();
        else free++;
      };
    },
  };
}

function lostError(label: string, what: string, cause?: unknown): UpliftError {
  return new UpliftError('UPLIFT_TRANSPORT_LOST', `${label}: the connection ended during ${what}`, {
    hint: 'Check the network and the node, then run again: a copy resumes where it stopped, and a run on the node resumes from its journal.',
    cause,
  });
}

/** How to log in: the identity file's key, else the agent at SSH_AUTH_SOCK. Never logged. */
function authOptions(settings: SshSettings, label: string): Partial<ConnectConfig> {
  if (settings.identity !== undefined) {
    let privateKey: Buffer;
    try {
      privateKey = readFileSync(settings.identity);
    } catch (err) {
      throw (
        unreadableFileError(
          err,
          settings.identity,
          `Give ${label} an identity (private key) file that exists and that you can read.`,
        ) ?? err
      );
    }
    const passphrase = process.env.UPLIFT_SSH_PASSPHRASE;
    return { privateKey, ...(passphrase ? { passphrase } : {}) };
  }
  const agent = process.env.SSH_AUTH_SOCK;
  if (agent) return { agent };
  throw new UpliftError(
    'UPLIFT_SSH_AUTH',
    `${label}: no identity file is set for the node and no ssh-agent is running (SSH_AUTH_SOCK is unset)`,
    {
      hint: "Set the node's identity to a private key file, or start ssh-agent and `ssh-add` the key.",
      unchanged: true,
    },
  );
}

/** The connect's failure as a coded error; the host key verdict wins over ssh2's wording. */
function connectError(
  err: Error & { level?: string; code?: string },
  verdict: HostKeyVerdict | undefined,
  label: string,
  settings: SshSettings,
): UpliftError {
  if (verdict !== undefined && !verdict.ok) return verdict.error;
  if (err.level === 'client-authentication')
    return new UpliftError(
      'UPLIFT_SSH_AUTH',
      `${label}: the server refused the key${settings.identity ? ` of ${settings.identity}` : 's of the ssh-agent'}`,
      {
        hint: "Add the public key to the user's authorized_keys on the node, or set the node's identity to a key it accepts.",
        unchanged: true,
        cause: err,
      },
    );
  if (err.level === 'client-timeout')
    return new UpliftError(
      'UPLIFT_SSH_CONNECT',
      `${label}: no SSH handshake within ${settings.connectTimeoutSeconds} s`,
      {
        hint: 'Check that the node is up and its sshd listens on that port, or raise connectTimeoutSeconds.',
        unchanged: true,
        cause: err,
      },
    );
  return new UpliftError(
    'UPLIFT_SSH_CONNECT',
    `${label}: cannot connect: ${err.code ?? err.message}`,
    {
      hint: 'Check the host name, the port and that sshd runs on the node.',
      unchanged: true,
      cause: err,
    },
  );
}

function connect(
  address: SshAddress,
  settings: SshSettings,
  label: string,
  onLog?: (line: string) => void,
): Promise<SshClient> {
  const expected = expectedKeys(settings.hostKey, address.host, address.port);
  const algorithms = hostKeyAlgorithms(expected);
  const auth = authOptions(settings, label);
  let verdict: HostKeyVerdict | undefined;
  const client = new ssh2.Client();
  return new Promise<SshClient>((resolve, reject) => {
    let ready = false;
    client.on('ready', () => {
      ready = true;
      onLog?.(`${label}: connected`);
      resolve(client);
    });
    client.on('error', (err: Error & { level?: string }) => {
      if (ready) onLog?.(`${label}: connection error: ${err.message}`);
      else reject(connectError(err, verdict, label, settings));
    });
    client.on('close', () => {
      if (!ready)
        reject(
          connectError(new Error('the server closed the connection'), verdict, label, settings),
        );
    });
    try {
      client.connect({
        host: address.host,
        port: address.port,
        username: address.user,
        ...auth,
        readyTimeout: settings.connectTimeoutSeconds * 1000,
        keepaliveInterval: 15_000,
        keepaliveCountMax: 4,
        ...(algorithms.length > 0 ? { algorithms: { serverHostKey: algorithms as never } } : {}),
        hostVerifier: (key: Buffer) => {
          verdict = verifyHostKey(expected, key, label);
          return verdict.ok;
        },
      });
    } catch (err) {
      // ssh2 parses the key in connect(); its message names the problem, never the key.
      reject(
        new UpliftError(
          'UPLIFT_SSH_AUTH',
          `${label}: the identity file ${settings.identity ?? ''} cannot be used: ${(err as Error).message}`,
          {
            hint: 'Use an OpenSSH private key; for an encrypted one set UPLIFT_SSH_PASSPHRASE or load it into ssh-agent.',
            unchanged: true,
          },
        ),
      );
    }
  });
}

/** The script the remote shell runs: its pid first (to stop the command later), then argv by exec. */
function remoteScript(argv: string[], o: ExecOptions): string {
  if (argv.length === 0) throw new Error('exec needs a command');
  const lines: string[] = [];
  if (o.cwd !== undefined) lines.push(`cd ${shellQuote(o.cwd)} || exit 127`);
  for (const [k, v] of Object.entries(o.env ?? {})) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k))
      throw new Error(`environment variable name ${JSON.stringify(k)} is not a shell name`);
    lines.push(`${k}=${shellQuote(v)}; export ${k}`);
  }
  lines.push(`exec ${argv.map(shellQuote).join(' ')}`);
  return lines.join('\n');
}

/**
 * A node reached over SSH (ssh2): one connection, commands on channels of it, files over one
 * SFTP session. A dropped connection fails what was under way with UPLIFT_TRANSPORT_LOST; the
 * next call connects again.
 */
export async function sshTransport(
  node: TopologyNode,
  o: { onLog?: (line: string) => void } = {},
): Promise<NodeTransport> {
  const address = node.address;
  if (address.kind !== 'ssh') throw new Error('sshTransport needs an ssh:// node');
  const settings = node.ssh;
  const label = `ssh://${address.user}@${address.host}:${address.port}`;
  if (settings === undefined)
    throw new UpliftError('UPLIFT_USAGE', `${label}: the node has no SSH settings (hostKey)`, {
      hint: 'Give the node a pinned hostKey or a knownHosts file.',
    });
  const channels = slots(maxChannels);
  let conn: Promise<SshClient> | undefined;
  let sftp: Promise<SFTPWrapper> | undefined;
  let closing = false;

  const client = (): Promise<SshClient> => {
    if (closing) return Promise.reject(new Error(`${label}: the transport is closed`));
    if (conn === undefined) {
      const p = connect(address, settings, label, o.onLog);
      conn = p;
      p.then(
        (c) =>
          c.on('close', () => {
            if (conn === p) {
              conn = undefined;
              sftp = undefined;
            }
          }),
        () => {
          if (conn === p) conn = undefined;
        },
      );
    }
    return conn;
  };
  await client();

  /** Runs a script in the login shell on a channel; stops it (its process group) on timeout or abort. */
  async function runRemote(body: string, eo: ExecOptions, what: string): Promise<ExecResult> {
    const c = await client();
    const release = await channels.take();
    try {
      return await new Promise<ExecResult>((resolve, reject) => {
        c.exec(`echo $$\n${body}`, (err, stream) => {
          if (err) return reject(lostOrFailed(err, what));
          running(stream, eo, what).then(resolve, reject);
        });
      });
    } finally {
      release();
    }
  }

  const lostOrFailed = (err: Error, what: string) =>
    conn === undefined
      ? lostError(label, what, err)
      : new UpliftError('UPLIFT_TRANSPORT_FAILED', `${label}: ${what}: ${err.message}`, {
          hint: 'Check the node (its sshd log) and run again.',
          cause: err,
        });

  /** Signals the process group `pid` on the node, on a channel of its own (best effort). */
  function killGroup(pid: number, sig: 'TERM' | 'KILL'): void {
    conn
      ?.then(
        (c) =>
          new Promise<void>((r) => {
            c.exec(
              `kill -s ${sig} -- -${pid} 2>/dev/null || kill -s ${sig} ${pid} 2>/dev/null`,
              (err, s) => {
                if (err) return r();
                s.on('close', () => r()).resume();
                s.stderr.resume();
              },
            );
          }),
      )
      .catch(() => undefined);
  }

  function running(stream: ClientChannel, eo: ExecOptions, what: string): Promise<ExecResult> {
    return new Promise((resolve, reject) => {
      let pid: number | undefined;
      let head: Buffer | undefined = Buffer.alloc(0);
      const out = lineCollector(eo.onStdoutLine);
      const err = lineCollector();
      let exit: { code: number | null; signal?: string } | undefined;
      let stopped: unknown;
      const timers: NodeJS.Timeout[] = [];
      stream.on('data', (b: Buffer) => {
        if (head !== undefined) {
          head = Buffer.concat([head, b]);
          const nl = head.indexOf(10);
          if (nl === -1) return;
          pid = Number(head.subarray(0, nl).toString('latin1'));
          b = head.subarray(nl + 1);
          head = undefined;
          if (b.length === 0) return;
        }
        out.push(b);
      });
      stream.stderr.on('data', (b: Buffer) => err.push(b));
      stream.on('exit', (code: number | null, signal?: string) => {
        exit = { code: typeof code === 'number' ? code : null, ...(signal ? { signal } : {}) };
      });
      const stop = (why: unknown) => {
        if (stopped !== undefined) return;
        stopped = why;
        try {
          stream.signal('TERM');
        } catch {
          // The channel is closing already.
        }
        if (pid !== undefined && Number.isInteger(pid)) killGroup(pid, 'TERM');
        timers.push(
          setTimeout(() => {
            if (pid !== undefined && Number.isInteger(pid)) killGroup(pid, 'KILL');
            timers.push(setTimeout(() => stream.close(), killGraceMs));
          }, killGraceMs),
        );
      };
      if (eo.timeoutMs !== undefined)
        timers.push(
          setTimeout(
            () =>
              stop(
                new UpliftError(
                  'UPLIFT_TRANSPORT_TIMEOUT',
                  `${label}: ${what} ran longer than ${eo.timeoutMs} ms and was stopped`,
                  {
                    hint: 'Give the step more time, or find out on the node why the command hangs.',
                  },
                ),
              ),
            eo.timeoutMs,
          ),
        );
      const onAbort = () => stop(eo.signal?.reason ?? new Error('aborted'));
      if (eo.signal?.aborted) onAbort();
      eo.signal?.addEventListener('abort', onAbort, { once: true });
      stream.on('close', () => {
        for (const t of timers) clearTimeout(t);
        eo.signal?.removeEventListener('abort', onAbort);
        const stdout = out.end();
        const stderr = err.end();
        if (stopped !== undefined) return reject(stopped);
        if (exit === undefined) return reject(lostError(label, what));
        resolve({ ...exit, stdout, stderr });
      });
    });
  }

  const sftpSession = (): Promise<SFTPWrapper> => {
    if (sftp === undefined) {
      const p = client().then(
        (c) =>
          new Promise<SFTPWrapper>((resolve, reject) =>
            c.sftp((err, s) => (err ? reject(lostOrFailed(err, 'opening SFTP')) : resolve(s))),
          ),
      );
      sftp = p;
      p.catch(() => {
        if (sftp === p) sftp = undefined;
      });
    }
    return sftp;
  };

  /** One SFTP request as a promise; its failure names the operation and the path. */
  async function call<T>(
    what: string,
    path: string,
    fn: (s: SFTPWrapper, cb: (err: Error | null | undefined, v?: T) => void) => void,
  ): Promise<T> {
    const s = await sftpSession();
    return new Promise<T>((resolve, reject) =>
      fn(s, (err, v) => {
        if (!err) return resolve(v as T);
        // A missing path stays recognisable (isMissing) for the callers that expect one.
        const coded = lostOrFailed(err, `${what} ${path}`);
        reject(
          (err as { code?: unknown }).code === 2 ? Object.assign(coded, { missing: true }) : coded,
        );
      }),
    );
  }
  const isMissing = (err: unknown) => (err as { missing?: boolean }).missing === true;

  async function statOf(path: string): Promise<RemoteStat | undefined> {
    try {
      const a = await call<import('ssh2').Stats>('stat', path, (s, cb) => s.stat(path, cb));
      return { size: a.size, mode: a.mode & 0o7777, isDirectory: a.isDirectory() };
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  }

  /** Hashes a file by reading it back over SFTP. */
  async function readBackSha256(path: string): Promise<string> {
    const s = await sftpSession();
    const hash = createHash('sha256');
    await new Promise<void>((resolve, reject) => {
      const rs = s.createReadStream(path);
      rs.on('data', (b: Buffer) => hash.update(b));
      rs.on('error', (e: Error) => reject(lostOrFailed(e, `reading ${path}`)));
      rs.on('end', () => resolve());
    });
    return hash.digest('hex');
  }

  /**
   * A file's hash as the node reads it: by the node's own hash tool, which costs one command
   * instead of a second transfer; a small file (where starting a command costs more than its
   * bytes) and a node without a hash tool by reading it back.
   */
  async function sha256Of(path: string, size: number): Promise<string> {
    if (size <= readBackBytes) return readBackSha256(path);
    const q = shellQuote(path);
    const r = await runRemote(
      `(sha256sum -- ${q} || shasum -a 256 -- ${q} || openssl dgst -sha256 -r ${q}) 2>/dev/null`,
      { timeoutMs: 10 * 60_000 },
      `hashing ${path}`,
    );
    const m = /^([0-9a-f]{64})\b/m.exec(r.stdout);
    if (m?.[1]) return m[1];
    o.onLog?.(`${label}: no sha256sum on the node; hashing ${path} by reading it back`);
    return readBackSha256(path);
  }

  async function renameOver(from: string, to: string): Promise<void> {
    const s = await sftpSession();
    try {
      await call<void>('rename', from, (x, cb) => x.ext_openssh_rename(from, to, cb));
      return;
    } catch (err) {
      if (!/does not support/.test((err as Error).message)) throw err;
    }
    // A server without posix-rename: SFTP's own rename refuses an existing target.
    await call<void>('remove', to, (x, cb) => x.unlink(to, cb)).catch((err) => {
      if (!isMissing(err)) throw err;
    });
    void s;
    await call<void>('rename', from, (x, cb) => x.rename(from, to, cb));
  }

  const target: PartTarget = {
    size: async (path) => (await statOf(path))?.size,
    sha256: sha256Of,
    async writeFrom(local, path, start, onBytes) {
      const s = await sftpSession();
      const handle = await call<Buffer>('open', path, (x, cb) =>
        x.open(path, start === 0 ? 'w' : 'r+', { mode: 0o644 }, cb),
      );
      const fh = await openLocal(local, 'r');
      try {
        const size = (await fh.stat()).size;
        let next = start;
        let failed = false;
        const worker = async () => {
          while (next < size && !failed) {
            const pos = next;
            const len = Math.min(chunkBytes, size - pos);
            next += len;
            const buf = Buffer.alloc(len);
            await fh.read(buf, 0, len, pos);
            try {
              await call<void>('write', path, (x, cb) => x.write(handle, buf, 0, len, pos, cb));
            } catch (err) {
              failed = true;
              throw err;
            }
            onBytes(len);
          }
        };
        await Promise.all(Array.from({ length: writeDepth }, worker));
      } finally {
        await fh.close();
        await new Promise<void>((r) => s.close(handle, () => r()));
      }
    },
    remove: (path) => remove(path),
    rename: renameOver,
    chmod: (path, mode) => call<void>('chmod', path, (x, cb) => x.chmod(path, mode, cb)),
  };

  async function remove(path: string): Promise<void> {
    if (path === '' || path === '/') throw new Error(`refusing to remove ${JSON.stringify(path)}`);
    const r = await runRemote(`rm -rf -- ${shellQuote(path)}`, {}, `removing ${path}`);
    if (r.code !== 0)
      throw new UpliftError(
        'UPLIFT_TRANSPORT_FAILED',
        `${label}: cannot remove ${path}: ${r.stderr.trim()}`,
        {
          hint: 'Check the permissions of that path on the node.',
        },
      );
  }

  return {
    label,
    exec: (argv, eo = {}) => runRemote(remoteScript(argv, eo), eo, argv.map(shellQuote).join(' ')),
    putFile: (local, remote, po) => putThrough(target, label, local, remote, po),
    async readFile(remote) {
      try {
        return await call<Buffer>('read', remote, (s, cb) => s.readFile(remote, cb));
      } catch (err) {
        if (isMissing(err)) return undefined;
        throw err;
      }
    },
    stat: statOf,
    async mkdirp(remote, mode) {
      if ((await statOf(remote))?.isDirectory) return;
      const parts = remote.split('/');
      for (let k = 1; k <= parts.length; k++) {
        const dir = parts.slice(0, k).join('/');
        if (dir === '' || dir === '.' || dir === '~') continue;
        const st = await statOf(dir);
        if (st?.isDirectory) continue;
        await call<void>('mkdir', dir, (s, cb) =>
          s.mkdir(dir, mode === undefined ? {} : { mode }, cb),
        ).catch(async (err) => {
          // Made meanwhile by another copy to the same node.
          if (!(await statOf(dir))?.isDirectory) throw err;
        });
      }
    },
    rename: renameOver,
    remove,
    async close() {
      closing = true;
      const c = await conn?.catch(() => undefined);
      if (c === undefined) return;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 2000);
        c.once('close', () => {
          clearTimeout(t);
          resolve();
        });
        c.end();
      });
    },
  };
}
