import { parse as parseYamlValue } from 'yaml';
import type { SourceLocation } from '../errors/index.ts';
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
 * Ansible's INI inventory dialect, which the `ini` package does not read (a host line is
 * `name key=value …` with shell-style quoting, and a section header carries `:vars` or
 * `:children`). Lines before any header are ungrouped hosts. `#` and `;` start comment lines; on a
 * host line a `#` that starts a word starts a comment, as in Ansible (which splits with shlex).
 *
 * Values are read as Ansible reads literals: quoted text is a string, whole numbers are numbers,
 * true/false (any case) are booleans, `[…]` and `{…}` are lists and maps (JSON or YAML flow),
 * anything else is a string.
 */
export function readIniInventory(
  text: string,
  file: string,
  problems: InventoryProblems,
): Inventory {
  const inv = emptyInventory(file);
  let group = groupOf(inv, 'ungrouped', { file, line: 1, col: 1 });
  inv.groups.get('all')?.children.push('ungrouped');
  let kind: 'hosts' | 'vars' | 'children' = 'hosts';
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = index + 1;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#') || trimmed.startsWith(';')) return;
    const col = raw.length - raw.trimStart().length + 1;
    const at: SourceLocation = { file, line, col };
    const header = /^\[([^\]]*)\]\s*(?:[#;].*)?$/.exec(trimmed);
    if (header) {
      const [name, section, extra] = (header[1] as string).split(':');
      if (
        name === undefined ||
        name === '' ||
        extra !== undefined ||
        !['hosts', 'vars', 'children', undefined].includes(section)
      ) {
        problems.add(
          at,
          `"${trimmed}" is not a group header`,
          'write [group], [group:vars] or [group:children]',
        );
        return;
      }
      group = groupOf(inv, name, at);
      kind = (section ?? 'hosts') as typeof kind;
      if (name !== 'all' && !isChildOfAnother(inv, name)) {
        const all = inv.groups.get('all') as InventoryGroup;
        if (!all.children.includes(name)) all.children.push(name);
      }
      return;
    }
    if (kind === 'vars') {
      const eq = trimmed.indexOf('=');
      if (eq <= 0) {
        problems.add(
          at,
          `${group.name}:vars: the line is not key=value`,
          'write one variable per line as key=value',
        );
        return;
      }
      const key = trimmed.slice(0, eq).trim();
      const value = readValue(key, trimmed.slice(eq + 1).trim(), at, problems);
      group.vars.set(key, { value, at, owner: `group ${group.name}` });
      return;
    }
    const words = splitWords(raw, problems, at);
    const [first, ...rest] = words ?? [];
    if (first === undefined) return;
    if (kind === 'children') {
      const child = groupOf(inv, first.text, { file, line, col: first.col });
      if (!group.children.includes(child.name)) group.children.push(child.name);
      const all = inv.groups.get('all') as InventoryGroup;
      all.children = all.children.filter((c) => c !== child.name);
      return;
    }
    const vars: [string, InventoryVar][] = [];
    for (const w of rest) {
      const eq = w.text.indexOf('=');
      const wat = { file, line, col: w.col };
      if (eq <= 0) {
        problems.add(
          wat,
          `host ${first.text}: the word at column ${w.col} is not key=value`,
          'write host variables as key=value; quote a value with spaces',
        );
        continue;
      }
      const key = w.text.slice(0, eq);
      vars.push([
        key,
        {
          value: readValue(key, w.text.slice(eq + 1), wat, problems),
          at: wat,
          owner: `host ${first.text}`,
        },
      ]);
    }
    const hostAt = { file, line, col: first.col };
    const { pattern, port } = splitPort(first.text);
    const names = expandHostRange(pattern);
    if (typeof names === 'string') {
      problems.add(
        hostAt,
        `host ${first.text}: ${names}`,
        'correct the range, or list the hosts one per line',
      );
      return;
    }
    if (port !== undefined)
      vars.push(['ansible_port', { value: port, at: hostAt, owner: `host ${first.text}` }]);
    for (const name of names)
      addHost(
        inv,
        group,
        name,
        hostAt,
        vars.map(([k, v]) => [k, { ...v, owner: `host ${name}` }]),
      );
  });
  return inv;
}

function isChildOfAnother(inv: Inventory, name: string): boolean {
  for (const g of inv.groups.values())
    if (g.name !== 'all' && g.children.includes(name)) return true;
  return false;
}

interface Word {
  text: string;
  col: number;
}

/** Splits a host line the way shlex does with comments on: quotes group, `#` at a word's start ends the line. */
function splitWords(
  raw: string,
  problems: InventoryProblems,
  at: SourceLocation,
): Word[] | undefined {
  const words: Word[] = [];
  let i = 0;
  while (i < raw.length) {
    while (i < raw.length && /\s/.test(raw[i] as string)) i++;
    if (i >= raw.length || raw[i] === '#') break;
    const col = i + 1;
    let text = '';
    while (i < raw.length && !/\s/.test(raw[i] as string)) {
      const c = raw[i] as string;
      if (c === '"' || c === "'") {
        const close = findClose(raw, i + 1, c);
        if (close < 0) {
          problems.add(
            { ...at, col: i + 1 },
            `the quote opened here is not closed`,
            `close the ${c} on the same line`,
          );
          return undefined;
        }
        const inner = raw.slice(i + 1, close);
        text += c === '"' ? inner.replace(/\\(["\\])/g, '$1') : inner;
        i = close + 1;
      } else {
        text += c;
        i++;
      }
    }
    words.push({ text, col });
  }
  return words;
}

function findClose(raw: string, from: number, quote: string): number {
  for (let j = from; j < raw.length; j++) {
    if (quote === '"' && raw[j] === '\\') j++;
    else if (raw[j] === quote) return j;
  }
  return -1;
}

/**
 * A value as Ansible's INI reader takes it (see the module comment). Only uplift's own variables
 * are read as lists and maps: another tool's variable (a password among them) is never parsed, so
 * never quoted in an error.
 */
function readValue(
  key: string,
  text: string,
  at: SourceLocation,
  problems: InventoryProblems,
): unknown {
  const quoted = /^(["'])(.*)\1$/s.exec(text);
  if (quoted) return quoted[2];
  if (/^[-+]?\d+$/.test(text)) return Number(text);
  if (/^true$/i.test(text)) return true;
  if (/^false$/i.test(text)) return false;
  if (key.startsWith('uplift_') && (text.startsWith('[') || text.startsWith('{'))) {
    try {
      return parseYamlValue(text);
    } catch (err) {
      problems.add(
        at,
        `"${text}" is not a list or map: ${(err as Error).message.split('\n')[0]}`,
        'write it as JSON, e.g. ["a", "b"] or {"key": "value"}',
      );
      return text;
    }
  }
  return text;
}
