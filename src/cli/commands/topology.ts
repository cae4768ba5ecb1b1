import { stat } from 'node:fs/promises';
import { ExitCode } from '../../errors/index.ts';
import { formatAddress, openTopology, type Topology } from '../../topology/index.ts';
import type { CommandResult } from '../types.ts';

/**
 * `uplift topology check`: the topology as uplift reads it, with every node's address (never a
 * secret: addresses carry none, and keys are named by file only). Files it names that are missing
 * here are warnings, since a topology may be checked away from the controller.
 */
export async function handler(opts: {
  topology?: string;
  inventory?: string;
}): Promise<CommandResult> {
  const t = await openTopology(opts);
  const warnings = await missingFiles(t);
  const environments = t.environments.map((e) => ({
    name: e.name,
    deployments: e.deployments.map((d) => ({
      name: d.name,
      type: d.type,
      profile: d.profile,
      to: d.to,
      ...(d.channel !== undefined ? { channel: d.channel } : {}),
      nodeCount: d.nodes.length,
      nodes: d.nodes.map((n) => ({
        name: n.name,
        address: formatAddress(n.address),
        ...(n.ssh ? { hostKey: n.ssh.hostKey.kind } : {}),
        ...(n.role ? { role: n.role } : {}),
        ...(n.side ? { side: n.side } : {}),
      })),
      ...(d.balancer ? { balancer: d.balancer.kind } : {}),
    })),
  }));
  const lines = [`${t.file}: valid (${t.digest})`];
  for (const e of environments) {
    lines.push(`environment ${e.name}`);
    for (const d of e.deployments) {
      const n = d.nodeCount === 1 ? '1 node' : `${d.nodeCount} nodes`;
      lines.push(`  ${d.name}: ${d.type}, profile ${d.profile}, to ${d.to}, ${n}`);
      for (const node of d.nodes) {
        const tag = node.role ?? (node.side ? `side ${node.side}` : undefined);
        lines.push(`    ${node.name}  ${node.address}${tag ? `  (${tag})` : ''}`);
      }
    }
  }
  return {
    data: { file: t.file, digest: t.digest, environments, warnings },
    text: `${lines.join('\n')}\n`,
    warnings,
    exitCode: ExitCode.ok,
  };
}

async function missingFiles(t: Topology): Promise<string[]> {
  const wanted = new Map<string, string>();
  // The first field that names a path speaks for it; the others would repeat the warning.
  const want = (path: string, what: string) => {
    if (!wanted.has(path)) wanted.set(path, what);
  };
  for (const e of t.environments)
    for (const d of e.deployments) {
      const where = `${e.name}/${d.name}`;
      if (d.packs) want(d.packs, `${where}: packs`);
      if (d.trust) want(d.trust, `${where}: trust`);
      if (d.profile.startsWith('/')) want(d.profile, `${where}: profile`);
      for (const n of d.nodes) {
        if (n.address.kind === 'local') want(n.address.path, `${where}/${n.name}: at`);
        if (n.ssh?.identity) want(n.ssh.identity, `${where}/${n.name}: identity`);
        if (n.ssh?.hostKey.kind === 'known-hosts')
          want(n.ssh.hostKey.file, `${where}/${n.name}: knownHosts`);
      }
    }
  const out: string[] = [];
  for (const [path, what] of wanted)
    if ((await stat(path).catch(() => undefined)) === undefined)
      out.push(`${what} names ${path}, which does not exist here`);
  return out;
}
