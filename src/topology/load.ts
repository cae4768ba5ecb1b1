import { resolve } from 'node:path';
import { UpliftError, unreadableFileError } from '../errors/index.ts';
import { readRegularFile } from '../util/index.ts';
import { describeIssues, formatPath, locate, parseYaml } from '../yaml/index.ts';
import { InventoryProblems, inventoryTopology } from './inventory.ts';
import { readIniInventory } from './inventory-ini.ts';
import { readYamlInventory } from './inventory-yaml.ts';
import { failTopology, resolveTopology } from './resolve.ts';
import { TopologyFile } from './schema.ts';
import type { Topology } from './types.ts';

/** The topology file uplift reads when none is named: `uplift.yaml` in the working folder. */
export const defaultTopologyFile = 'uplift.yaml';

/** Reads and validates a topology file (docs/topology.md). Every problem is UPLIFT_TOPOLOGY_INVALID. */
export async function loadTopology(file: string = defaultTopologyFile): Promise<Topology> {
  const path = resolve(file);
  return parseTopology(
    await readInput(path, 'give --topology the topology file (uplift.yaml; docs/topology.md)'),
    path,
  );
}

/** Validates topology text read from `file` (an absolute path: relative paths in it resolve from its folder). */
export function parseTopology(text: string, file: string): Topology {
  const y = parseYaml(text, file, 'UPLIFT_TOPOLOGY_INVALID');
  const parsed = TopologyFile.safeParse(y.value);
  if (!parsed.success)
    failTopology(
      'UPLIFT_TOPOLOGY_INVALID',
      file,
      describeIssues(y, parsed.error, 'docs/topology.md'),
    );
  return resolveTopology(
    file,
    parsed.data,
    (path) => ({ location: locate(y, path), field: formatPath(path) }),
    'UPLIFT_TOPOLOGY_INVALID',
  );
}

/**
 * Reads an Ansible inventory as the whole topology (docs/topology.md, "Ansible inventory"): YAML
 * when the name ends in .yml, .yaml or .json, else INI (`hosts`, `hosts.ini`). Every problem is
 * UPLIFT_INVENTORY_INVALID at its line.
 */
export async function loadInventory(file: string): Promise<Topology> {
  const path = resolve(file);
  return parseInventory(
    await readInput(
      path,
      'give --inventory an Ansible inventory file (hosts.yml or an INI hosts file)',
    ),
    path,
  );
}

/** Validates inventory text read from `file` (absolute). */
export function parseInventory(text: string, file: string): Topology {
  const problems = new InventoryProblems();
  const inv = /\.(ya?ml|json)$/i.test(file)
    ? readYamlInventory(text, file, problems)
    : readIniInventory(text, file, problems);
  if (problems.list.length > 0) failTopology('UPLIFT_INVENTORY_INVALID', file, problems.list);
  return inventoryTopology(inv, problems);
}

/** The topology a command line names: `--inventory FILE`, else `--topology FILE`, else ./uplift.yaml. */
export async function openTopology(o: {
  topology?: string;
  inventory?: string;
}): Promise<Topology> {
  refuseBoth(o.topology, o.inventory);
  return o.inventory !== undefined ? loadInventory(o.inventory) : loadTopology(o.topology);
}

/** The largest topology or inventory file uplift reads: 16 MiB, far more than any fleet needs. */
export const maxInputBytes = 16 * 1024 * 1024;

/**
 * A file's text, or the coded error for one that cannot be read. A device, a pipe or a folder, and
 * a file larger than `maxInputBytes`, are refused before anything is read: `/dev/zero` never ends.
 */
export async function readInput(file: string, hint: string): Promise<string> {
  try {
    return await readRegularFile(file, 'utf8', { maxBytes: maxInputBytes });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EFBIG')
      throw new UpliftError(
        'UPLIFT_FILE_UNREADABLE',
        `${file} is larger than ${maxInputBytes / 1024 / 1024} MiB, the most uplift reads`,
        { hint, location: { file }, unchanged: true, cause: err },
      );
    throw unreadableFileError(err, file, hint) ?? err;
  }
}

/** Refuses a command line that names both a topology file and an inventory. */
export function refuseBoth(topology: string | undefined, inventory: string | undefined): void {
  if (topology !== undefined && inventory !== undefined)
    throw new UpliftError('UPLIFT_USAGE', '--topology and --inventory were both given', {
      hint: 'give one: an inventory describes the whole topology itself (docs/topology.md, "Ansible inventory")',
    });
}
