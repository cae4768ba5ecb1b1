import { nodeCommands } from './node-commands.ts';
import {
  act,
  balancerAction,
  command,
  type DeploymentRun,
  edgeMayStart,
  nodeOf,
  type Run,
  serverOf,
  shortCommandMs,
  statusOf,
} from './run-context.ts';
import type { NodeStatus } from './types.ts';

/**
 * The failure policy: every node of the deployment whose version differs from before the run is
 * rolled back (`rollback --whole-run`), in the reverse order of its upgrade, without two versions
 * running where the type forbids it; then the nodes that ran before run again, and the balancer's
 * servers are as they were. Interrupted nodes are taken back first (`resume --abort`).
 */
export async function restoreDeployment(
  run: Run,
  dr: DeploymentRun,
  shouldRun: Set<string>,
): Promise<{ notRestored: string[]; tookBack: number }> {
  const { d } = dr;
  let tookBack = 0;
  const byName = (n: string) => nodeOf(d, n);
  const status = new Map<string, NodeStatus | undefined>();
  const refresh = async (names: string[]) => {
    for (const n of names) status.set(n, await statusOf(await run.target(d, byName(n))));
  };
  await refresh(d.nodes.map((n) => n.name));
  for (const n of d.nodes) {
    if (status.get(n.name)?.interrupted !== true) continue;
    const t = await run.target(d, n);
    await act(
      run,
      dr,
      n.name,
      'resume',
      'node.resume',
      { after: 'rolled-back' },
      () => command(t, nodeCommands.resume(t, true), d.nodeTimeoutSeconds * 1000),
      { abort: true },
    );
    tookBack++;
    await refresh([n.name]);
  }
  const changed = (n: string) => {
    const was = dr.baseline[n]?.version;
    const now = status.get(n)?.version;
    return was !== undefined && was !== '' && now !== undefined && now !== was;
  };
  const order = [
    ...[...dr.upgraded].reverse(),
    ...d.nodes
      .map((n) => n.name)
      .reverse()
      .filter((n) => !dr.upgraded.includes(n)),
  ].filter(changed);

  const rollBack = async (n: string) => {
    const t = await run.target(d, byName(n));
    await act(
      run,
      dr,
      n,
      'rollback',
      'node.rollback',
      { before: 'rolling-back', after: 'rolled-back' },
      async () => {
        const r = await command(t, nodeCommands.rollback(t), d.nodeTimeoutSeconds * 1000);
        return r.ok ? { ok: true, version: dr.baseline[n]?.version } : r;
      },
    );
  };
  const stopNew = async (names: string[]) => {
    for (const n of names) {
      if (status.get(n)?.running !== true) continue;
      const t = await run.target(d, byName(n));
      await act(
        run,
        dr,
        n,
        'stop',
        'node.stop',
        { after: 'stopped' },
        () => command(t, nodeCommands.stop(t), shortCommandMs),
        { restore: true },
      );
    }
  };

  if (d.type === 'active-passive') {
    const b = await run.balancer(d);
    const sides = [...new Set(order.map((n) => byName(n).side ?? 'a'))];
    for (const side of sides) {
      const mine = d.nodes.filter((n) => (n.side ?? 'a') === side);
      const others = d.nodes.filter((n) => (n.side ?? 'a') !== side);
      for (const o of others)
        if (status.get(o.name)?.running === true)
          await balancerAction(run, dr, o, 'enable', () => b.enable(serverOf(o)));
      for (const m of mine) await balancerAction(run, dr, m, 'drain', () => b.drain(serverOf(m)));
      const s = (d.balancer?.drainTimeoutSeconds ?? 120) * 1000;
      for (const m of mine)
        await balancerAction(run, dr, m, 'drain', () => b.waitDrained(serverOf(m), s), {
          wait: true,
        });
      for (const n of order) if ((byName(n).side ?? 'a') === side) await rollBack(n);
    }
  } else {
    if (d.type === 'standard-cluster') await stopNew(order);
    if (d.type === 'streaming') {
      const edges = order.filter((n) => byName(n).role !== 'backend');
      await stopNew(edges);
      // A backend goes back only once no edge of the new version runs beside an old backend.
      await stopNew(order.filter((n) => byName(n).role === 'backend'));
    }
    for (const n of order) await rollBack(n);
  }

  await refresh(d.nodes.map((n) => n.name));
  // A node that does not answer may run any version (its apply may go on where the controller
  // cannot see it): where two versions must never run together, nothing is started beside it.
  const unknown = d.nodes.filter((n) => status.get(n.name) === undefined);
  const mayStart =
    unknown.length === 0 || (d.type !== 'standard-cluster' && d.type !== 'streaming');
  const startOrder =
    d.type === 'streaming'
      ? [
          ...d.nodes.filter((n) => n.role === 'backend'),
          ...d.nodes.filter((n) => n.role !== 'backend'),
        ]
      : d.nodes;
  for (const n of mayStart ? startOrder : []) {
    if (!shouldRun.has(n.name) || status.get(n.name)?.running === true) continue;
    const t = await run.target(d, n);
    await act(
      run,
      dr,
      n.name,
      'start',
      'node.start',
      { after: 'started' },
      async () => {
        if (d.type === 'streaming' && n.role !== 'backend') {
          const may = await edgeMayStart(run, dr, n);
          if (!may.ok) return may;
        }
        return command(t, nodeCommands.start(t), d.nodeTimeoutSeconds * 1000);
      },
      { restore: true },
    );
  }
  if (d.type === 'active-passive') {
    const b = await run.balancer(d);
    for (const n of d.nodes) {
      const was =
        dr.balancerBefore.get(serverOf(n)) ?? ((n.side ?? 'a') === 'a' ? 'ready' : 'drain');
      await balancerAction(
        run,
        dr,
        n,
        was === 'ready' ? 'enable' : 'drain',
        () => (was === 'ready' ? b.enable(serverOf(n)) : b.drain(serverOf(n))),
        { restore: true },
      );
    }
  }
  await refresh(d.nodes.map((n) => n.name));
  const notRestored = d.nodes
    .map((n) => n.name)
    .filter(
      (n) =>
        changed(n) ||
        status.get(n) === undefined ||
        (shouldRun.has(n) && status.get(n)?.running !== true),
    );
  return { notRestored, tookBack: tookBack + order.length };
}
