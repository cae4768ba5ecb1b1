import { locate, locateKey, type PositionedYaml, parseYaml } from '../yaml/index.ts';
import {
  addHost,
  emptyInventory,
  expandHostRange,
  groupOf,
  type Inventory,
  type InventoryGroup,
  type InventoryProblems,
  type InventoryVar,
  splitPort,
} from './inventory.ts';

/**
 * Ansible's YAML inventory: top-level groups (usually just `all`), each with `hosts` (name →
 * vars or nothing), `vars` and `children` (name → group). A group named in several places is
 * one group. Host names take `[1:3]` ranges and a `:port`, as in Ansible.
 */
export function readYamlInventory(
  text: string,
  file: string,
  problems: InventoryProblems,
): Inventory {
  const y = parseYaml(text, file, 'UPLIFT_INVENTORY_INVALID');
  const doc: unknown = y.value;
  const inv = emptyInventory(file);
  if (doc === null || doc === undefined) return inv;
  if (!isMap(doc)) {
    problems.add(
      locate(y, []),
      'an inventory is a map of groups (all: { hosts, vars, children })',
      'start the file with all:',
    );
    return inv;
  }
  for (const [name, body] of Object.entries(doc)) {
    readGroup(y, inv, problems, name, body, [name]);
    const all = inv.groups.get('all') as InventoryGroup;
    if (name !== 'all' && !all.children.includes(name)) all.children.push(name);
  }
  return inv;
}

function readGroup(
  y: PositionedYaml,
  inv: Inventory,
  problems: InventoryProblems,
  name: string,
  body: unknown,
  path: string[],
): void {
  const group = groupOf(inv, name, locateKey(y, path.slice(0, -1), name));
  if (body === null || body === undefined) return;
  if (!isMap(body)) {
    problems.add(
      locate(y, path),
      `group ${name}: expected a map with hosts, vars or children`,
      'write the group as a map, or leave it empty',
    );
    return;
  }
  for (const [key, value] of Object.entries(body)) {
    const at = locateKey(y, path, key);
    if (value === null || value === undefined) continue;
    if (key === 'vars') {
      if (!isMap(value)) {
        problems.add(at, `group ${name}: vars must be a map`, 'write vars as name: value lines');
        continue;
      }
      for (const [k, v] of Object.entries(value))
        group.vars.set(k, varAt(y, [...path, 'vars'], k, v, `group ${name}`));
    } else if (key === 'hosts') {
      if (!isMap(value)) {
        problems.add(
          at,
          `group ${name}: hosts must be a map of host names`,
          'write each host as "name:" with its variables under it',
        );
        continue;
      }
      for (const [pattern, vars] of Object.entries(value)) {
        const hostPath = [...path, 'hosts', pattern];
        const hostAt = locateKey(y, [...path, 'hosts'], pattern);
        const { pattern: bare, port } = splitPort(pattern);
        const names = expandHostRange(bare);
        if (typeof names === 'string') {
          problems.add(
            hostAt,
            `host ${pattern}: ${names}`,
            'correct the range, or list the hosts one by one',
          );
          continue;
        }
        if (vars !== null && vars !== undefined && !isMap(vars)) {
          problems.add(
            hostAt,
            `host ${pattern}: its variables must be a map`,
            'write the variables as name: value under the host',
          );
          continue;
        }
        for (const host of names) {
          const own: [string, InventoryVar][] = Object.entries(vars ?? {}).map(([k, v]) => [
            k,
            varAt(y, hostPath, k, v, `host ${host}`),
          ]);
          if (port !== undefined)
            own.push(['ansible_port', { value: port, at: hostAt, owner: `host ${host}` }]);
          addHost(inv, group, host, hostAt, own);
        }
      }
    } else if (key === 'children') {
      if (!isMap(value)) {
        problems.add(
          at,
          `group ${name}: children must be a map of groups`,
          'write each child group as "name:" with its hosts, vars or children',
        );
        continue;
      }
      for (const [child, childBody] of Object.entries(value)) {
        readGroup(y, inv, problems, child, childBody, [...path, 'children', child]);
        if (!group.children.includes(child)) group.children.push(child);
      }
    } else
      problems.add(
        at,
        `group ${name}: unknown key "${key}"`,
        'a group has hosts, vars and children only; put variables under vars',
      );
  }
}

function varAt(
  y: PositionedYaml,
  path: string[],
  key: string,
  value: unknown,
  owner: string,
): InventoryVar {
  return { value, at: locateKey(y, path, key), owner };
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
