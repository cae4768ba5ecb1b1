import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, isAbsolute, join, posix } from 'node:path';
import { UpliftError } from '../errors/index.ts';
import type { TopologyNode } from '../topology/types.ts';
import { buildOnlyPackages, canonicalJson, mapLimit, packageRoot } from '../util/index.ts';
import { hashLocal } from './put-file.ts';
import type { NodeTransport } from './types.ts';

/** What a node needs to run uplift as itself. */
export interface AgentKit {
  /**
   * The single-file CLI (dist/bundle/cli.cjs). The loader beside it (uplift.cjs), when there is
   * one, goes with it, and the node runs the CLI through it: with a V8 code cache, a start costs
   * about a third less CPU (docs/topology.md, "The agent on each node").
   */
  bundle: string;
  /** Package folders the bundle requires at run time (see {@link nativeKitPackages}). */
  natives: string[];
  /** The deployment's profile folder. */
  profileDir: string;
  /** Further files, each placed at `files/<as>` on the node. */
  files: { local: string; as: string }[];
  /** Pack files the plan needs: `packs/<name>` on the node (NodeAgent.packsPath). */
  packs?: string[];
  /** The trusted keys file: `trust/<name>` on the node (NodeAgent.trustPath). */
  trust?: string;
}

/** The node's Node.js runtime, as it reported itself. */
export interface NodeRuntimeInfo {
  runtime: string;
  version: string;
  modules: string;
  platform: string;
  arch: string;
}

export interface AgentRunResult {
  /** Exit code, or null when the command ended by a signal. */
  code: number | null;
  /** With `--json`: the last JSON document printed. */
  json?: unknown;
  stdout: string;
  stderr: string;
}

export interface AgentRunOptions {
  timeoutMs?: number;
  /** Each JSON object printed on a line of its own, as it arrives (the `--json` event streams). */
  onEvent?: (event: unknown) => void;
  signal?: AbortSignal;
  /**
   * More environment for the command on the node (a deployment's `passEnv`). Sent with the
   * command, never put in a label, a log line or an error; uplift's own variables win.
   */
  env?: Record<string, string>;
}

/** uplift installed on a node, ready to run commands there. */
export interface NodeAgent {
  /** The transport's label (`local`, `ssh://user@host:port`). */
  label: string;
  /** The kit's folder on the node (the checkout's bundle folder for a local node). */
  kitDir: string;
  /** The profile as `--profile` takes it on the node (a folder path). */
  profileArg: string;
  /** The same as profileArg (the name src/rollout's RolloutAgent reads). */
  profilePath: string;
  /** The folder of the kit's packs on the node (`--packs`); undefined without packs. */
  packsPath?: string;
  /** The trusted keys file on the node (`--trust`); undefined without one. */
  trustPath?: string;
  /** Where a kit file (by its `as` name) is on the node. */
  filePath(as: string): string;
  /** Runs `<nodeRuntime> <kitDir>/uplift.cjs ...args` on the node (`cli.cjs` when the kit has no loader). */
  run(args: string[], o?: AgentRunOptions): Promise<AgentRunResult>;
  /** Runs an operator's command on the node (the `afterStart` hook): argv, no shell. */
  exec(
    argv: string[],
    o?: { timeoutMs?: number },
  ): Promise<{ code: number | null; stdout: string; stderr: string }>;
  runtime: NodeRuntimeInfo;
  /** What installing copied: 0 files and 0 bytes when the node already had the whole kit. */
  copied: { files: number; bytes: number };
  /** The digests of the older kits installing removed from the node (see keptKits). */
  pruned: string[];
}

/** The oldest Node.js uplift runs on (package.json `engines`). */
const minimumNode = [20, 19] as const;
/** Files copied at once to one node. */
const copyConcurrency = 4;
/**
 * Kits kept in a node's agentDir once a new one is in: the new one and the two used last before
 * it. A kit is about 10 MB (the bundle and its native modules, the profile; packs too when the
 * kit carries them), and every uplift build or profile change makes a new one, so without this
 * each would stay on every node for good.
 */
export const keptKits = 3;
/** A kit used within this time is never removed: another controller may be running from it. */
export const kitQuietMs = 24 * 3600 * 1000;

/**
 * The package folders a node agent needs beside the bundle: the native packages and what they
 * require at run time (for better-sqlite3: bindings, file-uri-to-path), not their build tools.
 */
export function nativeKitPackages(natives: readonly string[], root = packageRoot()): string[] {
  const found: string[] = [];
  const visit = (name: string) => {
    const dir = join(root, 'node_modules', name);
    if (found.includes(dir) || buildOnlyPackages.includes(name)) return;
    if (!existsSync(join(dir, 'package.json'))) return;
    found.push(dir);
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
    };
    for (const dep of Object.keys(pkg.dependencies ?? {})) visit(dep);
  };
  for (const n of natives) visit(n);
  return found;
}

interface KitFile {
  /** Path inside the kit, `/`-separated. */
  path: string;
  local: string;
  sha256: string;
  size: number;
}

/** Files of a package folder that run: its code and compiled binary, not its sources and build leftovers. */
function isRuntimeFile(rel: string): boolean {
  const parts = rel.split('/');
  const skipDirs = [
    'deps',
    'src',
    'test',
    'tests',
    'docs',
    '.github',
    'obj.target',
    '.deps',
    'obj',
  ];
  if (parts.slice(0, -1).some((p) => skipDirs.includes(p))) return false;
  const name = parts.at(-1) as string;
  if (parts[0] === 'build') return name.endsWith('.node') && !name.startsWith('test_');
  return /\.(c?js|mjs|json|node)$/.test(name) || /^(LICENSE|NOTICE)/i.test(name);
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) =>
      join(e.parentPath, e.name)
        .slice(dir.length + 1)
        .split('\\')
        .join('/'),
    )
    .sort();
}

/** The loader that runs cli.cjs through a code cache (tools/bundle.ts writes it beside the bundle). */
const loaderName = 'uplift.cjs';

function loaderOf(bundle: string): string | undefined {
  const file = join(dirname(bundle), loaderName);
  return existsSync(file) ? file : undefined;
}

async function kitFile(path: string, local: string): Promise<KitFile> {
  const [sha256, s] = await Promise.all([hashLocal(local), stat(local)]);
  return { path, local, sha256, size: s.size };
}

/** Every file of the kit, in path order, each with its hash. */
async function kitFiles(kit: AgentKit, packageJson: string): Promise<KitFile[]> {
  const out: Promise<KitFile>[] = [
    kitFile('cli.cjs', kit.bundle),
    kitFile('package.json', packageJson),
  ];
  const loader = loaderOf(kit.bundle);
  if (loader !== undefined) out.push(kitFile(loaderName, loader));
  for (const dir of kit.natives) {
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name: string };
    for (const rel of (await filesUnder(dir)).filter(isRuntimeFile))
      out.push(kitFile(`node_modules/${pkg.name}/${rel}`, join(dir, rel)));
  }
  const profile = basename(kit.profileDir);
  for (const rel of await filesUnder(kit.profileDir))
    out.push(kitFile(`profiles/${profile}/${rel}`, join(kit.profileDir, rel)));
  for (const f of kit.files) {
    const clean = posix.normalize(f.as);
    if (isAbsolute(f.as) || clean.startsWith('..') || clean === '.')
      throw new UpliftError('UPLIFT_USAGE', `kit file name ${JSON.stringify(f.as)} leaves files/`, {
        hint: 'Name kit files by a relative path without "..".',
      });
    out.push(kitFile(`files/${clean}`, f.local));
  }
  for (const p of kit.packs ?? []) out.push(kitFile(`packs/${basename(p)}`, p));
  if (kit.trust !== undefined) out.push(kitFile(`trust/${basename(kit.trust)}`, kit.trust));
  return (await Promise.all(out)).sort((a, b) => (a.path < b.path ? -1 : 1));
}

const runtimeProbe =
  "JSON.stringify({v:process.versions.node,modules:process.versions.modules,platform:process.platform,arch:process.arch,home:require('os').homedir()})";

/**
 * Asks the node's runtime for its version, ABI, platform and arch (and the login's home folder),
 * and refuses one uplift cannot run on, or that cannot load the natives copied from here.
 */
async function checkRuntime(
  t: NodeTransport,
  node: TopologyNode,
  withNatives: boolean,
): Promise<NodeRuntimeInfo & { home: string }> {
  const runtime = node.nodeRuntime;
  const ours = `Node.js >= ${minimumNode.join('.')} on ${process.platform}-${process.arch}${withNatives ? ` with module ABI ${process.versions.modules} (Node ${process.versions.node.split('.')[0]}.x, as the controller's, for the native modules copied with uplift)` : ''}`;
  const hint = `Install Node.js ${process.versions.node.split('.')[0]}.x (>= ${minimumNode.join('.')}) for ${process.platform}-${process.arch} on the node, or set the node's nodeRuntime to the path of one.`;
  const refuse = (found: string) =>
    new UpliftError(
      'UPLIFT_NODE_RUNTIME',
      `node ${node.name} (${t.label}): the runtime ${JSON.stringify(runtime)} ${found}; uplift needs ${ours}`,
      { hint },
    );
  const r = await t.exec([runtime, '-p', runtimeProbe], { timeoutMs: 30_000 });
  if (r.code === 127 || r.code === 126)
    throw refuse(`cannot be run (exit ${r.code}: ${r.stderr.trim().split('\n').at(-1) ?? ''})`);
  let info: { v?: unknown; modules?: unknown; platform?: unknown; arch?: unknown; home?: unknown };
  try {
    info = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '');
  } catch {
    throw refuse(
      `did not report its version (exit ${r.code}, printed ${JSON.stringify(r.stdout.trim().slice(0, 80))})`,
    );
  }
  const found: NodeRuntimeInfo & { home: string } = {
    runtime,
    version: String(info.v),
    modules: String(info.modules),
    platform: String(info.platform),
    arch: String(info.arch),
    home: String(info.home),
  };
  const [major = 0, minor = 0] = found.version.split('.').map(Number);
  const describe = `is Node.js ${found.version} on ${found.platform}-${found.arch} (module ABI ${found.modules})`;
  const tooOld = major < minimumNode[0] || (major === minimumNode[0] && minor < minimumNode[1]);
  if (
    tooOld ||
    found.platform !== process.platform ||
    found.arch !== process.arch ||
    (withNatives && found.modules !== process.versions.modules)
  )
    throw refuse(describe);
  return found;
}

/** The last JSON document of a command's output: all of it, else its last line that parses. */
function lastJson(stdout: string): unknown {
  const text = stdout.trim();
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    for (const line of text.split('\n').reverse()) {
      try {
        return JSON.parse(line);
      } catch {
        // Not a whole document on its own: try the line before.
      }
    }
  }
  return undefined;
}

function agentOf(
  t: NodeTransport,
  node: TopologyNode,
  runtime: NodeRuntimeInfo,
  p: {
    kitDir: string;
    /** The file in kitDir the node runs: the loader, else cli.cjs. */
    entry: string;
    profileArg: string;
    /** UPLIFT_PROFILE_PATH on the node. */
    searchPath: string;
    packsPath?: string;
    trustPath?: string;
    filePath: (as: string) => string;
    copied: { files: number; bytes: number };
    pruned?: string[];
  },
): NodeAgent {
  return {
    label: t.label,
    kitDir: p.kitDir,
    profileArg: p.profileArg,
    profilePath: p.profileArg,
    ...(p.packsPath === undefined ? {} : { packsPath: p.packsPath }),
    ...(p.trustPath === undefined ? {} : { trustPath: p.trustPath }),
    filePath: p.filePath,
    runtime,
    copied: p.copied,
    pruned: p.pruned ?? [],
    exec: (argv, o = {}) => t.exec(argv, o),
    async run(args, o = {}) {
      const r = await t.exec([node.nodeRuntime, `${p.kitDir}/${p.entry}`, ...args], {
        env: { ...o.env, UPLIFT_PROFILE_PATH: p.searchPath, NO_COLOR: '1' },
        ...(o.timeoutMs === undefined ? {} : { timeoutMs: o.timeoutMs }),
        ...(o.signal === undefined ? {} : { signal: o.signal }),
        ...(o.onEvent === undefined
          ? {}
          : {
              onStdoutLine: (line: string) => {
                if (!line.startsWith('{')) return;
                try {
                  o.onEvent?.(JSON.parse(line));
                } catch {
                  // Part of a document printed over several lines, not an event.
                }
              },
            }),
      });
      const json = args.includes('--json') ? lastJson(r.stdout) : undefined;
      return {
        code: r.code,
        ...(json === undefined ? {} : { json }),
        stdout: r.stdout,
        stderr: r.stderr,
      };
    },
  };
}

/**
 * Hashes of the listed kit files as the node has them (null: missing), in one command. It also
 * marks the kit used now, when it has been installed before (`<kit>/.used`'s time, see pruneScript).
 */
const hashScript =
  "const fs=require('fs'),c=require('crypto'),p=require('path');const[d,...f]=process.argv.slice(1);try{const n=new Date();fs.utimesSync(p.join(d,'.used'),n,n)}catch{}const o={};const b=Buffer.alloc(1<<20);for(const x of f){try{const fd=fs.openSync(p.join(d,x),'r');const h=c.createHash('sha256');let n;while((n=fs.readSync(fd,b,0,b.length,null))>0)h.update(b.subarray(0,n));fs.closeSync(fd);o[x]=h.digest('hex')}catch{o[x]=null}}console.log(JSON.stringify(o))";

/**
 * On the node, after a kit was copied: marks kit `cur` of folder `base` used now (creates
 * `<kit>/.used`), then removes the kits (folders named by 16 hex digits) past the `keep` used last,
 * counting `cur`, that nobody used for `quiet` ms. A kit's last use is its `.used` time, else its
 * manifest's (a kit from before the mark), else its folder's (a kit whose copy never finished).
 * Prints the removed digests as JSON.
 */
const pruneScript =
  "const fs=require('fs'),p=require('path');const[b,cur,keep,quiet]=process.argv.slice(1);const now=Date.now();const m=p.join(b,cur,'.used');fs.closeSync(fs.openSync(m,'a'));fs.utimesSync(m,new Date(now),new Date(now));const used=(d)=>{for(const f of['.used','manifest.json']){try{return fs.statSync(p.join(d,f)).mtimeMs}catch{}}return fs.lstatSync(d).mtimeMs};const kits=fs.readdirSync(b,{withFileTypes:true}).filter((e)=>e.isDirectory()&&/^[0-9a-f]{16}$/.test(e.name)&&e.name!==cur).map((e)=>({n:e.name,at:used(p.join(b,e.name))})).sort((x,y)=>y.at-x.at);const gone=[];for(const k of kits.slice(Number(keep)-1)){if(now-k.at<Number(quiet))continue;try{fs.rmSync(p.join(b,k.n),{recursive:true,force:true});gone.push(k.n)}catch{}}console.log(JSON.stringify(gone))";

/**
 * Installs uplift on a node: checks its Node runtime first, then copies the kit (bundle, native
 * packages, profile, files) into `<agentDir>/<kit digest>/`, only the files the node lacks or
 * has with another hash (so a second rollout copies nothing), each through the resumable,
 * hash-checked putFile; the kit's manifest goes last. Once a kit was copied, the older kits past
 * {@link keptKits} that nobody used for {@link kitQuietMs} are removed. A local node runs this
 * checkout's bundle and files where they are: nothing is copied.
 */
export async function installAgent(
  t: NodeTransport,
  node: TopologyNode,
  kit: AgentKit,
): Promise<NodeAgent> {
  const runtime = await checkRuntime(t, node, kit.natives.length > 0);
  if (node.address.kind === 'local') {
    const byName = new Map(kit.files.map((f) => [f.as, f.local]));
    const packDirs = [...new Set((kit.packs ?? []).map((p) => dirname(p)))];
    if (packDirs.length > 1)
      throw new UpliftError(
        'UPLIFT_USAGE',
        `the packs for local node ${node.name} are in ${packDirs.length} folders (${packDirs.join(', ')}); a local node reads them from one`,
        { hint: "Put the deployment's packs in one folder." },
      );
    return agentOf(t, node, runtime, {
      kitDir: dirname(kit.bundle),
      entry: loaderOf(kit.bundle) === undefined ? basename(kit.bundle) : loaderName,
      profileArg: kit.profileDir,
      searchPath: kit.profileDir,
      ...(packDirs[0] === undefined ? {} : { packsPath: packDirs[0] }),
      ...(kit.trust === undefined ? {} : { trustPath: kit.trust }),
      filePath: (as) => {
        const local = byName.get(as);
        if (local === undefined) throw new Error(`no kit file ${as}`);
        return local;
      },
      copied: { files: 0, bytes: 0 },
    });
  }
  const scratch = await mkdtemp(join(tmpdir(), 'uplift-kit-'));
  try {
    const packageJson = join(scratch, 'package.json');
    // packageRoot() on the node finds this file: the kit's profiles are its built-in ones.
    const own = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as {
      version?: string;
    };
    await writeFile(
      packageJson,
      `${JSON.stringify({ name: 'uplift-agent', version: own.version ?? '0.0.0', private: true, bin: 'cli.cjs' })}\n`,
    );
    const files = await kitFiles(kit, packageJson);
    const manifest = canonicalJson({
      files: files.map((f) => ({ path: f.path, sha256: f.sha256, size: f.size })),
    });
    const digest = createHash('sha256').update(manifest).digest('hex').slice(0, 16);
    const agentDir = node.agentDir ?? '~/.uplift-agent';
    const base =
      agentDir === '~'
        ? runtime.home
        : agentDir.startsWith('~/')
          ? `${runtime.home}/${agentDir.slice(2)}`
          : posix.isAbsolute(agentDir)
            ? agentDir
            : `${runtime.home}/${agentDir}`;
    const kitDir = `${base.replace(/\/+$/, '')}/${digest}`;
    const manifestFile = join(scratch, 'manifest.json');
    await writeFile(manifestFile, manifest);
    const all = [...files, await kitFile('manifest.json', manifestFile)];

    const there = await t.exec(
      [node.nodeRuntime, '-e', hashScript, kitDir, ...all.map((f) => f.path)],
      {
        timeoutMs: 120_000,
      },
    );
    let have: Record<string, string | null> = {};
    try {
      have = JSON.parse(there.stdout.trim());
    } catch {
      // Nothing readable: copy every file.
    }
    const missing = all.filter((f) => have[f.path] !== f.sha256);
    const last = missing.filter((f) => f.path === 'manifest.json');
    const first = missing.filter((f) => f.path !== 'manifest.json');
    const dirs = [...new Set(missing.map((f) => posix.dirname(`${kitDir}/${f.path}`)))].sort();
    for (const d of dirs) await t.mkdirp(d);
    let bytes = 0;
    const copy = async (f: KitFile) => {
      try {
        const r = await t.putFile(f.local, `${kitDir}/${f.path}`, { sha256: f.sha256 });
        bytes += r.bytes;
      } catch (err) {
        // Another controller copying the same kit into a shared home (NFS) may have won the
        // race for the part file: its copy, when whole, is as good as ours.
        const again = await t.exec([node.nodeRuntime, '-e', hashScript, kitDir, f.path], {
          timeoutMs: 120_000,
        });
        const now = (() => {
          try {
            return (JSON.parse(again.stdout.trim()) as Record<string, string | null>)[f.path];
          } catch {
            return undefined;
          }
        })();
        if (now !== f.sha256) throw err;
      }
    };
    await mapLimit(first, copyConcurrency, copy);
    await mapLimit(last, 1, copy);
    const pruned = missing.length === 0 ? [] : await pruneKits(t, node, base, digest);
    const profile = basename(kit.profileDir);
    const asNames = new Set(kit.files.map((f) => f.as));
    return agentOf(t, node, runtime, {
      kitDir,
      entry: loaderOf(kit.bundle) === undefined ? 'cli.cjs' : loaderName,
      profileArg: `${kitDir}/profiles/${profile}`,
      searchPath: `${kitDir}/profiles`,
      ...(kit.packs === undefined || kit.packs.length === 0
        ? {}
        : { packsPath: `${kitDir}/packs` }),
      ...(kit.trust === undefined ? {} : { trustPath: `${kitDir}/trust/${basename(kit.trust)}` }),
      filePath: (as) => {
        if (!asNames.has(as)) throw new Error(`no kit file ${as}`);
        return `${kitDir}/files/${posix.normalize(as)}`;
      },
      copied: { files: missing.length, bytes },
      pruned,
    });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/**
 * Runs pruneScript on the node. Pruning saves disk, nothing depends on it: a failure leaves the
 * old kits where they are and the new one ready.
 */
async function pruneKits(
  t: NodeTransport,
  node: TopologyNode,
  base: string,
  digest: string,
): Promise<string[]> {
  const r = await t
    .exec(
      [
        node.nodeRuntime,
        '-e',
        pruneScript,
        base.replace(/\/+$/, ''),
        digest,
        String(keptKits),
        String(kitQuietMs),
      ],
      { timeoutMs: 120_000 },
    )
    .catch(() => undefined);
  try {
    const gone = JSON.parse(r?.stdout.trim() ?? '') as unknown;
    return Array.isArray(gone) ? gone.filter((g): g is string => typeof g === 'string') : [];
  } catch {
    return [];
  }
}

/** One node's answer in {@link runOnNodes}. */
export interface NodeRun<A extends NodeAgent> {
  agent: A;
  result: AgentRunResult;
  seconds: number;
}

/**
 * Runs one uplift command on many nodes (facts, check), at most `concurrency` at once, in the
 * agents' order; what the bench measures against running them one by one.
 */
export function runOnNodes<A extends NodeAgent>(
  agents: readonly A[],
  args: (agent: A) => string[],
  o: { concurrency: number; timeoutMs?: number },
): Promise<NodeRun<A>[]> {
  return mapLimit(agents, o.concurrency, async (agent) => {
    const start = performance.now();
    const result = await agent.run(args(agent), {
      ...(o.timeoutMs === undefined ? {} : { timeoutMs: o.timeoutMs }),
    });
    return { agent, result, seconds: (performance.now() - start) / 1000 };
  });
}
