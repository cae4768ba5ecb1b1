import type { SourceLocation, UpliftErrorDetail } from '../errors/index.ts';
import { failTopology, type Locate, resolveTopology } from './resolve.ts';
import { TopologyFile } from './schema.ts';
import type { Topology } from './types.ts';

/**
 * An Ansible inventory (INI or YAML) read into one model, and that model turned into a topology
 * (docs/topology.md, "Ansible inventory"). The design: the inventory replaces uplift.yaml. A group
 * that sets `uplift_type` in its own vars is a deployment; its hosts (and those of its child groups)
 * are the nodes; `uplift_env` names its environment; `uplift_environments` in the `all` group gives
 * the promotion order. Variables inherit the way Ansible's do (all < parent groups < group < host).
 * The result goes through the same schema and rules as uplift.yaml; errors point at inventory lines.
 */

export interface InventoryVar {
  value: unknown;
  at: SourceLocation;
  /** The group (or `host NAME`) that sets it, for messages. */
  owner: string;
}

export interface InventoryGroup {
  name: string;
  at: SourceLocation;
  vars: Map<string, InventoryVar>;
  hosts: string[];
  children: string[];
}

export interface InventoryHost {
  name: string;
  at: SourceLocation;
  vars: Map<string, InventoryVar>;
}

export interface Inventory {
  file: string;
  /** In the order the inventory first names them; `all` first. */
  groups: Map<string, InventoryGroup>;
  hosts: Map<string, InventoryHost>;
}

export function emptyInventory(file: string): Inventory {
  const inv: Inventory = { file, groups: new Map(), hosts: new Map() };
  groupOf(inv, 'all', { file, line: 1, col: 1 });
  return inv;
}

/** The group named `name`, created at `at` when new. */
export function groupOf(inv: Inventory, name: string, at: SourceLocation): InventoryGroup {
  let g = inv.groups.get(name);
  if (g === undefined) {
    g = { name, at, vars: new Map(), hosts: [], children: [] };
    inv.groups.set(name, g);
  }
  return g;
}

/** Adds a host to a group (once), with the vars written on this line. */
export function addHost(
  inv: Inventory,
  group: InventoryGroup,
  name: string,
  at: SourceLocation,
  vars: Iterable<[string, InventoryVar]>,
): void {
  let h = inv.hosts.get(name);
  if (h === undefined) {
    h = { name, at, vars: new Map() };
    inv.hosts.set(name, h);
  }
  for (const [k, v] of vars) h.vars.set(k, v);
  if (!group.hosts.includes(name)) group.hosts.push(name);
}

export class InventoryProblems {
  readonly list: UpliftErrorDetail[] = [];
  add(at: SourceLocation, message: string, hint: string): void {
    this.list.push({ message, location: at, hint });
  }
}

/** The most hosts one host pattern may name (docs/topology.md, "Ansible inventory"). */
export const maxRangeHosts = 10_000;

function isPort(text: string): boolean {
  return /^\d{1,5}$/.test(text) && Number(text) >= 1 && Number(text) <= 65535;
}

function tooMany(body: string): string {
  return `"[${body}]" names more than ${maxRangeHosts} hosts, the most one host pattern may name`;
}

/**
 * Expands an Ansible host range: `node[1:3]` is node1, node2, node3; `db[01:10:2]` keeps the
 * zero padding and steps by 2; `[a:c]` ranges letters. Several ranges in one name multiply.
 */
export function expandHostRange(pattern: string): string[] | string {
  const m = /^(.*?)\[([^\]]*)\](.*)$/.exec(pattern);
  if (m === null) return [pattern];
  const [, pre, body, post] = m as unknown as [string, string, string, string];
  const parts = body.split(':');
  if (parts.length < 2 || parts.length > 3)
    return `"[${body}]" is not a range: write [start:end] or [start:end:step]`;
  const [beg, end, stepText] = parts as [string, string, string | undefined];
  const step = stepText === undefined || stepText === '' ? 1 : Number(stepText);
  if (!Number.isInteger(step) || step < 1)
    return `the step of "[${body}]" must be a whole number above 0`;
  let items: string[];
  if (/^\d+$/.test(beg) && /^\d+$/.test(end)) {
    const width = beg.length > 1 && beg.startsWith('0') ? beg.length : 0;
    if (Number(beg) > Number(end)) return `"[${body}]" ends before it starts`;
    if (Math.floor((Number(end) - Number(beg)) / step) + 1 > maxRangeHosts) return tooMany(body);
    items = [];
    for (let i = Number(beg); i <= Number(end); i += step)
      items.push(String(i).padStart(width, '0'));
  } else if (/^[a-z]$/.test(beg) && /^[a-z]$/.test(end)) {
    if (beg > end) return `"[${body}]" ends before it starts`;
    items = [];
    for (let c = beg.charCodeAt(0); c <= end.charCodeAt(0); c += step)
      items.push(String.fromCharCode(c));
  } else return `"[${body}]" is not a range of numbers or of single lower-case letters`;
  const rest = expandHostRange(post);
  if (typeof rest === 'string') return rest;
  if (items.length * rest.length > maxRangeHosts) return tooMany(body);
  return items.flatMap((i) => rest.map((r) => `${pre}${i}${r}`));
}

/** `host:2222` names the port as Ansible allows; `node[1:3]` is a range, not a port. */
export function splitPort(text: string): { pattern: string; port?: number } {
  const m = /^(.*):(\d+)$/.exec(text);
  if (m === null) return { pattern: text };
  const pre = m[1] as string;
  const opened = (pre.match(/\[/g) ?? []).length;
  const closed = (pre.match(/\]/g) ?? []).length;
  // A colon outside brackets is part of a bare IPv6 address, which has no port here.
  if (opened !== closed || pre.replace(/\[[^\]]*\]/g, '').includes(':')) return { pattern: text };
  return { pattern: pre, port: Number(m[2]) };
}

/** Deployment fields a deployment group's vars (or its ancestors') give. */
const deploymentVars = {
  uplift_type: 'type',
  uplift_profile: 'profile',
  uplift_to: 'to',
  uplift_channel: 'channel',
  uplift_packs: 'packs',
  uplift_trust: 'trust',
  uplift_concurrency: 'concurrency',
  uplift_node_timeout_seconds: 'nodeTimeoutSeconds',
  uplift_after_start: 'afterStart',
  uplift_balancer: 'balancer',
  uplift_rolling: 'rolling',
} as const;

/** Node fields a host's vars (or its groups') give; `uplift_path` and the ansible_* vars build `at`. */
const nodeVars = {
  uplift_host_key: 'hostKey',
  uplift_known_hosts: 'knownHosts',
  uplift_identity: 'identity',
  uplift_connect_timeout_seconds: 'connectTimeoutSeconds',
  uplift_node_runtime: 'nodeRuntime',
  uplift_agent_dir: 'agentDir',
  uplift_role: 'role',
  uplift_side: 'side',
  uplift_balancer_server: 'balancerServer',
} as const;

const sshOnly = new Set(['hostKey', 'knownHosts', 'identity', 'connectTimeoutSeconds']);
const otherVars = new Set(['uplift_path', 'uplift_env', 'uplift_environments']);

const hint = 'see docs/topology.md, "Ansible inventory", for the variables uplift reads';

/** The topology an inventory describes. Every problem is UPLIFT_INVENTORY_INVALID at its line. */
export function inventoryTopology(inv: Inventory, problems: InventoryProblems): Topology {
  const { file } = inv;
  const parents = parentsOf(inv, problems);
  const depth = depthsOf(inv, parents);
  const byDepth = (a: string, b: string) =>
    (depth.get(a) ?? 0) - (depth.get(b) ?? 0) || (a < b ? -1 : a > b ? 1 : 0);

  for (const g of inv.groups.values()) for (const [k, v] of g.vars) checkVarName(k, v, problems);
  for (const h of inv.hosts.values()) for (const [k, v] of h.vars) checkVarName(k, v, problems);

  const ancestors = (name: string): string[] => {
    const out = new Set<string>();
    const walk = (n: string) => {
      for (const p of parents.get(n) ?? [])
        if (!out.has(p)) {
          out.add(p);
          walk(p);
        }
    };
    walk(name);
    out.add('all');
    out.delete(name);
    return [...out];
  };
  const merged = (groups: string[], own?: Map<string, InventoryVar>) => {
    const vars = new Map<string, InventoryVar>();
    for (const g of [...new Set(groups)].sort(byDepth))
      for (const [k, v] of inv.groups.get(g)?.vars ?? []) vars.set(k, v);
    for (const [k, v] of own ?? []) vars.set(k, v);
    return vars;
  };
  const hostGroups = new Map<string, string[]>();
  for (const g of inv.groups.values())
    for (const h of g.hosts) hostGroups.set(h, [...(hostGroups.get(h) ?? []), g.name]);

  const where = new Map<string, { location: SourceLocation; field: string }>();
  const mark = (path: (string | number)[], location: SourceLocation, field: string) =>
    where.set(path.join('\u0000'), { location, field });

  // Environments in promotion order.
  const allVars = inv.groups.get('all')?.vars ?? new Map<string, InventoryVar>();
  const order = allVars.get('uplift_environments');
  let envOrder: string[] | undefined;
  if (order !== undefined) {
    const v = order.value;
    const list = typeof v === 'string' ? v.split(',').map((s) => s.trim()) : v;
    if (!Array.isArray(list) || list.some((s) => typeof s !== 'string' || s === ''))
      problems.add(
        order.at,
        'uplift_environments: expected a list of environment names',
        'write uplift_environments: [test, preprod, prod] in promotion order',
      );
    else envOrder = list as string[];
  }

  const envs = new Map<
    string,
    { groups: [InventoryGroup, Map<string, InventoryVar>][]; first: InventoryVar }
  >();
  for (const g of inv.groups.values()) {
    if (!g.vars.has('uplift_type')) continue;
    const vars = merged([...ancestors(g.name), g.name]);
    const env = vars.get('uplift_env');
    if (env === undefined || typeof env.value !== 'string') {
      problems.add(
        env?.at ?? g.at,
        `group ${g.name}: sets uplift_type but names no environment`,
        `set uplift_env: the environment of ${g.name} (in its vars or a parent group's)`,
      );
      continue;
    }
    const e = envs.get(env.value) ?? { groups: [], first: env };
    envs.set(env.value, e);
    e.groups.push([g, vars]);
  }

  if (envs.size === 0 && problems.list.length === 0)
    problems.add(
      { file, line: 1, col: 1 },
      'no group of the inventory is a deployment',
      'set uplift_type (and uplift_env, uplift_profile) in the vars of each group that is a deployment',
    );
  if (envOrder === undefined && envs.size > 1) {
    const second = [...envs.values()][1] as { first: InventoryVar };
    problems.add(
      second.first.at,
      `the inventory names several environments (${[...envs.keys()].join(', ')}) but not their promotion order`,
      `set uplift_environments: [${[...envs.keys()].join(', ')}] (in promotion order) in the all group's vars`,
    );
  }
  for (const [name, e] of envs)
    if (envOrder !== undefined && !envOrder.includes(name))
      problems.add(
        e.first.at,
        `${e.first.owner}: uplift_env "${name}" is not in uplift_environments`,
        `add ${name} to uplift_environments in the all group's vars, in its place in the promotion order`,
      );

  const environments = (envOrder ?? [...envs.keys()]).map((name, i) => {
    const e = envs.get(name);
    mark(
      ['environments', i],
      e?.first.at ?? order?.at ?? { file },
      e ? `${e.first.owner}: uplift_env` : 'uplift_environments',
    );
    const deployments = (e?.groups ?? []).map(([g, vars], k) =>
      deploymentOf(g, vars, ['environments', i, 'deployments', k]),
    );
    return { name, deployments };
  });
  if (problems.list.length > 0) failTopology('UPLIFT_INVENTORY_INVALID', file, problems.list);
  const raw = { topology: 1, environments };

  const locate: Locate = (path) => {
    for (let n = path.length; n >= 0; n--) {
      const hit = where.get(path.slice(0, n).join('\u0000'));
      if (hit) return hit;
    }
    return { location: { file }, field: 'the inventory' };
  };
  const parsed = TopologyFile.safeParse(raw);
  if (!parsed.success)
    failTopology(
      'UPLIFT_INVENTORY_INVALID',
      file,
      parsed.error.issues.map((issue) => {
        const path = issue.path as (string | number)[];
        const { location, field } = locate(path);
        return { message: `${field}: ${issue.message}`, location, hint };
      }),
    );
  return resolveTopology(file, parsed.data, locate, 'UPLIFT_INVENTORY_INVALID');

  function deploymentOf(
    g: InventoryGroup,
    vars: Map<string, InventoryVar>,
    path: (string | number)[],
  ): Record<string, unknown> {
    mark(path, g.at, `group ${g.name}`);
    mark([...path, 'name'], g.at, `group ${g.name}`);
    const dep: Record<string, unknown> = { name: g.name };
    for (const [v, field] of Object.entries(deploymentVars)) {
      const got = vars.get(v);
      if (got === undefined) continue;
      dep[field] = got.value;
      mark([...path, field], got.at, `${got.owner}: ${v}`);
    }
    const nodes: unknown[] = [];
    for (const h of hostsUnder(g.name)) {
      const host = inv.hosts.get(h) as InventoryHost;
      const i = nodes.length;
      const node = nodeOf(
        host,
        merged(hostGroups.get(h)?.flatMap((x) => [x, ...ancestors(x)]) ?? [], host.vars),
        [...path, 'nodes', i],
      );
      if (node) nodes.push(node);
    }
    mark([...path, 'nodes'], g.at, `group ${g.name}`);
    dep.nodes = nodes;
    return dep;
  }

  function hostsUnder(name: string, seen = new Set<string>()): string[] {
    if (seen.has(name)) return [];
    seen.add(name);
    const g = inv.groups.get(name);
    if (g === undefined) return [];
    return [...new Set([...g.hosts, ...g.children.flatMap((c) => hostsUnder(c, seen))])];
  }

  function nodeOf(
    host: InventoryHost,
    vars: Map<string, InventoryVar>,
    path: (string | number)[],
  ): Record<string, unknown> | undefined {
    mark(path, host.at, `host ${host.name}`);
    mark([...path, 'name'], host.at, `host ${host.name}`);
    const pathVar = vars.get('uplift_path');
    if (pathVar === undefined || typeof pathVar.value !== 'string' || pathVar.value === '') {
      problems.add(
        pathVar?.at ?? host.at,
        `host ${host.name}: no uplift_path (the installation folder)`,
        `set uplift_path=/opt/product on the host line of ${host.name}, or in its group's vars`,
      );
      return undefined;
    }
    const text = (k: string) => {
      const v = vars.get(k)?.value;
      return v === undefined || v === null ? undefined : String(v);
    };
    const connection = text('ansible_connection');
    const hostName = text('ansible_host') ?? host.name;
    const port = text('ansible_port') ?? text('ansible_ssh_port');
    const local =
      connection === 'local' ||
      (hostName === 'localhost' && port === undefined && connection === undefined);
    if (connection !== undefined && !['local', 'ssh', 'paramiko', 'smart'].includes(connection)) {
      const at = vars.get('ansible_connection')?.at ?? host.at;
      problems.add(
        at,
        `host ${host.name}: ansible_connection=${connection} is not supported`,
        'uplift reaches nodes over ssh, or locally with ansible_connection=local',
      );
      return undefined;
    }
    let at: string;
    if (local) at = pathVar.value;
    else {
      const user = text('ansible_user') ?? text('ansible_ssh_user');
      if (user === undefined) {
        problems.add(
          host.at,
          `host ${host.name}: no ansible_user (who logs in over ssh)`,
          `set ansible_user on the host line of ${host.name}, or in its group's vars`,
        );
        return undefined;
      }
      if (!pathVar.value.startsWith('/')) {
        problems.add(
          pathVar.at,
          `host ${host.name}: uplift_path must be an absolute path on an ssh node, got "${pathVar.value}"`,
          'write the installation folder from the root: uplift_path=/opt/product',
        );
        return undefined;
      }
      if (port !== undefined && !isPort(port)) {
        const portVar = vars.get('ansible_port') ?? vars.get('ansible_ssh_port');
        problems.add(
          portVar?.at ?? host.at,
          `host ${host.name}: ansible_port must be a port number from 1 to 65535, got "${port}"`,
          'correct the port, or leave ansible_port out for the ssh default, 22',
        );
        return undefined;
      }
      const h = hostName.includes(':') ? `[${hostName}]` : hostName;
      const p = pathVar.value.split('/').map(encodeURIComponent).join('/');
      at = `ssh://${encodeURIComponent(user)}@${h}:${port ?? 22}${p}`;
    }
    mark([...path, 'at'], pathVar.at, `${pathVar.owner}: uplift_path`);
    const node: Record<string, unknown> = { name: host.name, at };
    const key = vars.get('ansible_ssh_private_key_file') ?? vars.get('ansible_private_key_file');
    const entries: [string, InventoryVar | undefined][] = [
      ...Object.entries(nodeVars).map(
        ([v, f]) => [f, vars.get(v)] as [string, InventoryVar | undefined],
      ),
    ];
    if (!vars.has('uplift_identity') && key) entries.push(['identity', key]);
    // A host's own host key policy overrides one its groups give (a pinned key over the fleet's
    // known_hosts file); two given at one level stay two, and are refused.
    const pinned = vars.get('uplift_host_key');
    const listed = vars.get('uplift_known_hosts');
    const isHost = (v: InventoryVar | undefined) => v?.owner.startsWith('host ') === true;
    if (pinned && listed && isHost(pinned) !== isHost(listed)) {
      const drop = isHost(pinned) ? 'knownHosts' : 'hostKey';
      entries.splice(
        entries.findIndex(([f]) => f === drop),
        1,
      );
    }
    for (const [field, got] of entries) {
      if (got === undefined || (local && sshOnly.has(field))) continue;
      node[field] = got.value;
      mark(
        [...path, field],
        got.at,
        `${got.owner}: ${Object.entries(nodeVars).find(([, f]) => f === field)?.[0] ?? 'ansible_ssh_private_key_file'}`,
      );
    }
    return node;
  }
}

function checkVarName(k: string, v: InventoryVar, problems: InventoryProblems): void {
  if (!k.startsWith('uplift_') || k in deploymentVars || k in nodeVars || otherVars.has(k)) return;
  problems.add(
    v.at,
    `${v.owner}: unknown variable ${k}`,
    `correct its spelling or remove it; ${hint}`,
  );
}

function parentsOf(inv: Inventory, problems: InventoryProblems): Map<string, string[]> {
  const parents = new Map<string, string[]>();
  for (const g of inv.groups.values())
    for (const c of g.children) {
      if (!inv.groups.has(c)) continue;
      parents.set(c, [...(parents.get(c) ?? []), g.name]);
    }
  // A cycle would make a group its own ancestor: refuse it where it closes.
  const state = new Map<string, 'open' | 'done'>();
  const visit = (n: string) => {
    state.set(n, 'open');
    for (const c of inv.groups.get(n)?.children ?? []) {
      if (state.get(c) === 'open')
        problems.add(
          inv.groups.get(n)?.at ?? { file: inv.file },
          `group ${n}: its children lead back to ${c}`,
          'remove the child entry that closes the loop',
        );
      else if (!state.has(c)) visit(c);
    }
    state.set(n, 'done');
  };
  for (const n of inv.groups.keys()) if (!state.has(n)) visit(n);
  return parents;
}

function depthsOf(inv: Inventory, parents: Map<string, string[]>): Map<string, number> {
  const depth = new Map<string, number>();
  const of = (n: string, guard = 0): number => {
    if (n === 'all') return 0;
    const known = depth.get(n);
    if (known !== undefined) return known;
    if (guard > inv.groups.size) return 1;
    const d = 1 + Math.max(0, ...(parents.get(n) ?? []).map((p) => of(p, guard + 1)));
    depth.set(n, d);
    return d;
  };
  for (const n of inv.groups.keys()) depth.set(n, of(n));
  return depth;
}
