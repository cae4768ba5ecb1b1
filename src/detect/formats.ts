import { DOMParser } from '@xmldom/xmldom';
import { getProperties } from 'properties-file';
import { UpliftError } from '../errors/index.ts';
import { lookupFact } from '../rules/index.ts';
import { isUnsafeKey, parseXmlText, withoutUnsafeKeys } from '../util/index.ts';
import { parseYaml } from '../yaml/index.ts';
import type { ConfigFormat } from './schema.ts';
import { compileXPath, evaluateXPath, type XmlNode } from './xpath.ts';

/** A configuration file read into values that facts can take. */
export interface ConfigDocument {
  /** The whole file as facts (not for XML): flat keys for properties and env, sections for INI, trees for YAML/JSON. */
  values: Record<string, unknown> | undefined;
  /** The values at a path: an XPath for XML, a dotted key for the others. Empty when nothing matches. */
  select(path: string): unknown[];
  /**
   * Keys left out because they could reach `Object.prototype` (`__proto__`, `constructor`,
   * `prototype`; src/util/safe-keys.ts), with their line when the format tells it.
   */
  dropped: DroppedKey[];
}

export interface DroppedKey {
  key: string;
  line?: number;
}

export interface ParseOptions {
  /** The `regex` format's regular expression (named groups; see docs/detection.md). */
  pattern?: string;
}

/**
 * Reads a configuration file. `file` is how messages name it (its path in the installation).
 * Throws UPLIFT_DETECT_CONFIG naming file:line when the text cannot be parsed, and
 * UPLIFT_PROFILE_INVALID when a profile's select path is outside what the format supports.
 * Never lets a key of the file reach `Object.prototype`: such keys are in `dropped`.
 */
export function parseConfig(
  text: string,
  format: ConfigFormat,
  file: string,
  opts: ParseOptions = {},
): ConfigDocument {
  switch (format) {
    case 'properties':
      return readProperties(text, file);
    case 'ini':
      return readIni(text, file);
    case 'env':
      return readEnv(text, file);
    case 'regex':
      return readRegex(text, opts.pattern ?? '');
    case 'yaml':
      return fromTree(parseYaml(text, file, 'UPLIFT_DETECT_CONFIG').value);
    case 'json':
      return fromTree(readJson(text, file));
    case 'xml':
      return readXml(text, file);
  }
}

/**
 * Properties, INI and XML values are text; facts compare `true` and `8009` as the product means
 * them. Only `true`/`false` and plain integers convert, the way `--fact` flags do: `5.10` and
 * `0755` stay strings.
 */
export function toScalar(text: string): string | number | boolean {
  if (/^(true|false)$/i.test(text)) return text.toLowerCase() === 'true';
  if (/^-?(0|[1-9]\d*)$/.test(text) && Number.isSafeInteger(Number(text))) return Number(text);
  return text;
}

function fromValues(values: Record<string, unknown>, dropped: DroppedKey[]): ConfigDocument {
  return {
    values,
    dropped,
    select: (path) => {
      const found = lookupFact(values, path);
      return found.found ? [found.value] : [];
    },
  };
}

/** A parsed YAML or JSON tree; its unsafe keys are left out wherever they are. */
function fromTree(tree: unknown): ConfigDocument {
  const paths: string[] = [];
  const values = withoutUnsafeKeys(asRecord(tree), paths);
  return fromValues(
    values,
    paths.map((key) => ({ key })),
  );
}

function asRecord(value: unknown): Record<string, unknown> {
  if (value === null || value === undefined) return {};
  if (typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  return { value };
}

const unsafeKeyLine = /^\s*(__proto__|constructor|prototype)(?=[\s=:]|$)/;

/** The lines whose key is unsafe, for the warning; the keys themselves are left out below. */
function unsafeLines(lines: readonly string[], key: (line: string) => string | undefined) {
  const out: DroppedKey[] = [];
  for (const [i, line] of lines.entries()) {
    const k = key(line);
    if (k !== undefined && isUnsafeKey(k)) out.push({ key: k, line: i + 1 });
  }
  return out;
}

function splitLines(text: string): string[] {
  return text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);
}

function readProperties(text: string, file: string): ConfigDocument {
  let map: Record<string, string>;
  try {
    map = getProperties(text);
  } catch (cause) {
    // The library names the bad escape but not where it is; find its line for the operator.
    const lines = text.split(/\r\n|\r|\n/);
    const index = lines.findIndex((l) => /\\u(?![0-9a-fA-F]{4})/.test(l));
    throw configError(file, index === -1 ? undefined : index + 1, messageOf(cause), cause);
  }
  // The library assigns keys to a plain object: `__proto__` is lost there (a string cannot be a
  // prototype), `constructor` and `prototype` become keys; neither reaches facts.
  const dropped = unsafeLines(splitLines(text), (l) => unsafeKeyLine.exec(l)?.[1]);
  const values: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(map)) if (!isUnsafeKey(k)) values[k] = toScalar(v);
  return fromValues(values, dropped);
}

/** INI: `[section]` headers, `key = value` or `key: value`, `;` and `#` comments. */
function readIni(text: string, file: string): ConfigDocument {
  const out: Record<string, unknown> = {};
  const dropped: DroppedKey[] = [];
  let section = out;
  for (const [i, raw] of splitLines(text).entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith(';') || line.startsWith('#')) continue;
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header) {
      const name = (header[1] as string).trim();
      if (isUnsafeKey(name)) {
        // Its keys go nowhere: a section nobody reads.
        dropped.push({ key: name, line: i + 1 });
        section = {};
        continue;
      }
      const existing = Object.hasOwn(out, name) ? out[name] : undefined;
      section =
        typeof existing === 'object' && existing !== null
          ? (existing as Record<string, unknown>)
          : {};
      out[name] = section;
      continue;
    }
    const pair = /^([^=:]+?)\s*[=:]\s*(.*)$/.exec(line);
    if (!pair) throw configError(file, i + 1, `expected [section] or key = value, got "${line}"`);
    const key = pair[1] as string;
    if (isUnsafeKey(key)) {
      dropped.push({ key, line: i + 1 });
      continue;
    }
    const value = (pair[2] as string).replace(/^"(.*)"$/, '$1').replace(/^'(.*)'$/, '$1');
    section[key] = toScalar(value);
  }
  return fromValues(out, dropped);
}

/**
 * `.env` files as Docker Compose and dotenv read them: `KEY=VALUE` per line, an optional
 * `export ` prefix, `#` comments (whole lines, or after an unquoted value and a space), values in
 * double quotes (with `\n`, `\"` and `\\` escapes) or single quotes (literal), or bare (trimmed).
 */
function readEnv(text: string, file: string): ConfigDocument {
  const values: Record<string, unknown> = {};
  const dropped: DroppedKey[] = [];
  for (const [i, raw] of splitLines(text).entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const pair = /^(?:export\s+)?([A-Za-z_][\w.-]*)\s*=\s*(.*)$/.exec(line);
    if (!pair) throw configError(file, i + 1, `expected KEY=VALUE, got "${line}"`);
    const key = pair[1] as string;
    const rest = pair[2] as string;
    let value: string;
    const double = /^"((?:[^"\\]|\\.)*)"\s*(#.*)?$/.exec(rest);
    const single = /^'([^']*)'\s*(#.*)?$/.exec(rest);
    if (double) {
      value = (double[1] as string).replace(/\\(.)/g, (_, c: string) =>
        c === 'n' ? '\n' : c === 't' ? '\t' : c === 'r' ? '\r' : c,
      );
    } else if (single) value = single[1] as string;
    else if (/^["']/.test(rest))
      throw configError(file, i + 1, `the quote of ${key}'s value is not closed on its line`);
    else value = rest.replace(/\s+#.*$/, '').trim();
    if (isUnsafeKey(key)) {
      dropped.push({ key, line: i + 1 });
      continue;
    }
    values[key] = double || single ? value : toScalar(value);
  }
  return fromValues(values, dropped);
}

/**
 * Any text file through a regular expression (flags `gm`). With groups named `key` and `value`,
 * every match is one setting (a later one wins, as in properties); otherwise every other named
 * group is a setting named after the group, from the first match that sets it.
 */
function readRegex(text: string, pattern: string): ConfigDocument {
  const re = new RegExp(pattern, 'gm');
  const values: Record<string, unknown> = {};
  const dropped: DroppedKey[] = [];
  const lineAt = (index: number) => text.slice(0, index).split('\n').length;
  const put = (key: string, value: string, index: number, first: boolean) => {
    if (isUnsafeKey(key)) {
      dropped.push({ key, line: lineAt(index) });
      return;
    }
    if (first && Object.hasOwn(values, key)) return;
    values[key] = toScalar(value.trim());
  };
  const body = text.replace(/^\uFEFF/, '');
  for (const m of body.matchAll(re)) {
    if (m[0] === '' && m.index === body.length) break;
    const groups = m.groups ?? {};
    if (groups.key !== undefined && groups.value !== undefined) {
      put(groups.key, groups.value, m.index, false);
      continue;
    }
    for (const [name, value] of Object.entries(groups)) {
      if (value !== undefined && name !== 'key' && name !== 'value')
        put(name, value, m.index, true);
    }
  }
  return fromValues(values, dropped);
}

function readJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    // Node 20's JSON.parse gives a position for some errors only; the YAML parser (JSON is
    // YAML) often places the others.
    const pos = /at position (\d+)/.exec(messageOf(cause));
    if (!pos) parseYaml(text, file, 'UPLIFT_DETECT_CONFIG');
    const line = pos ? text.slice(0, Number(pos[1])).split('\n').length : undefined;
    throw configError(file, line, messageOf(cause), cause);
  }
}

function readXml(text: string, file: string): ConfigDocument {
  // Warnings (a missing quote xmldom could repair) do not stop detection; errors do,
  // because a half-read server.xml would report a port that is not the one in use.
  const { doc, error } = parseXmlText(DOMParser, text);
  if (error || !doc) {
    const f = error ?? { message: 'not an XML document' };
    throw configError(file, f.line, f.message, undefined, f.col);
  }
  const root = doc as unknown as XmlNode;
  return {
    values: undefined,
    dropped: [],
    select: (path) => {
      const xpath = compileXPath(path);
      if (typeof xpath === 'string') {
        throw new UpliftError('UPLIFT_PROFILE_INVALID', `XPath "${path}": ${xpath}`, {
          hint: "use the subset in docs/detection.md: //Name, /a/b, [@attr], [@attr='v'], [n], /@attr, /text()",
        });
      }
      return evaluateXPath(xpath, root).map(toScalar);
    },
  };
}

function configError(
  file: string,
  line: number | undefined,
  message: string,
  cause?: unknown,
  col?: number,
): UpliftError {
  return new UpliftError(
    'UPLIFT_DETECT_CONFIG',
    `${file}${line ? `:${line}` : ''} cannot be read: ${message}`,
    {
      cause,
      location: { file, line, col },
      hint: `fix ${file}${line ? ` at line ${line}` : ''}; the product would not read it either`,
    },
  );
}

function messageOf(e: unknown): string {
  return e instanceof Error ? (e.message.split('\n')[0] ?? e.message) : String(e);
}
