import { posix } from 'node:path';
import type { TopologyNode } from '../topology/types.ts';
import { kitQuietMs } from './agent.ts';
import type { NodeTransport } from './types.ts';

/**
 * The packs folder beside a node's kits (`<agentDir>/packs`), shared by the kits of every build:
 * a rollout sends the packs its plan needs there, only those the node lacks or has with other
 * bytes, and removes the packs nobody sent for a day (docs/topology.md, "The agent on each node").
 */

/** A pack to have on the node: its file name in the folder, where it is here, its SHA-256. */
export interface PackToSend {
  name: string;
  local: string;
  sha256: string;
}

export interface PacksSent {
  /** Packs copied now. */
  sent: string[];
  /** Packs the node had already, with the same bytes. */
  kept: string[];
  /** Files removed: other packs (and unfinished copies) nobody sent for {@link packQuietMs}. */
  pruned: string[];
  bytes: number;
}

/**
 * How long a pack no rollout sent stays: a day, as a kit does. A pack a run still needs was
 * sent when that run started (and marked then), and a new run of the same environment cannot
 * start before it ends.
 */
export const packQuietMs = kitQuietMs;

/**
 * On the node, in one command: makes folder `d`; hashes each wanted pack it has and marks it used
 * (its mtime set to now); removes the other files (`.part` copies of wanted packs excepted) whose
 * mtime is more than `quiet` ms ago. Prints `{ have: { name: sha256 | null }, pruned: [names] }`.
 */
const packsScript =
  "const fs=require('fs'),c=require('crypto'),p=require('path');const[d,q,...f]=process.argv.slice(1);fs.mkdirSync(d,{recursive:true});const now=Date.now(),t=new Date(now),w=new Set(f),o={},b=Buffer.alloc(1<<20);for(const x of f){try{const fd=fs.openSync(p.join(d,x),'r');const h=c.createHash('sha256');let n;while((n=fs.readSync(fd,b,0,b.length,null))>0)h.update(b.subarray(0,n));fs.closeSync(fd);o[x]=h.digest('hex');fs.utimesSync(p.join(d,x),t,t)}catch{o[x]=null}}const gone=[];for(const e of fs.readdirSync(d,{withFileTypes:true})){if(!e.isFile())continue;if(w.has(e.name.replace(/\\.part$/,'')))continue;try{const s=fs.statSync(p.join(d,e.name));if(now-s.mtimeMs<Number(q))continue;fs.rmSync(p.join(d,e.name));gone.push(e.name)}catch{}}console.log(JSON.stringify({have:o,pruned:gone}))";

/**
 * Puts `packs` in folder `dir` of the node: asks the node what it has (one command, which also
 * prunes, see packsScript), then copies each missing or different pack through the resumable,
 * hash-checked putFile. A node whose answer cannot be read gets every pack.
 */
export async function putPacks(
  t: NodeTransport,
  node: TopologyNode,
  dir: string,
  packs: PackToSend[],
): Promise<PacksSent> {
  for (const p of packs)
    if (p.name !== posix.basename(p.name) || p.name.endsWith('.part'))
      throw new Error(`not a pack file name: ${p.name}`);
  const r = await t.exec(
    [node.nodeRuntime, '-e', packsScript, dir, String(packQuietMs), ...packs.map((p) => p.name)],
    { timeoutMs: 600_000 },
  );
  let have: Record<string, string | null> = {};
  let pruned: string[] = [];
  try {
    const answer = JSON.parse(r.stdout.trim()) as {
      have?: Record<string, string | null>;
      pruned?: unknown;
    };
    have = answer.have ?? {};
    if (Array.isArray(answer.pruned))
      pruned = answer.pruned.filter((x): x is string => typeof x === 'string');
  } catch {
    // Nothing readable: copy every pack (into a folder made here).
    await t.mkdirp(dir);
  }
  const out: PacksSent = { sent: [], kept: [], pruned, bytes: 0 };
  for (const p of packs) {
    if (have[p.name] === p.sha256) {
      out.kept.push(p.name);
      continue;
    }
    const put = await t.putFile(p.local, `${dir}/${p.name}`, { sha256: p.sha256 });
    out.sent.push(p.name);
    out.bytes += put.bytes;
  }
  return out;
}
