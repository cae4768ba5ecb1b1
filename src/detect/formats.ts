import { DOMParser } from '@xmldom/xmldom';
import { getProperties } from 'properties-file';
import { UpliftError } from '../errors/index.ts';
import { lookupFact } from '../rules/index.ts';
import { parseXmlText } from '../util/index.ts';
import { parseYaml } from '../yaml/index.ts';
import type { ConfigFormat } from './schema.ts';
import { compileXPath, evaluateXPath, type XmlNode } from './xpath.ts';

/** A configuration file read into values that facts can take. */
export interface ConfigDocument {
  /** The whole file as facts (not for XML): flat keys for properties, sections for INI, trees for YAML/JSON. */
  values: Record<string, unknown> | undefined;
  /** The values at a path: an XPath for XML, a dotted key for the others. Empty when nothing matches. */
  select(path: string): unknown[];
}

/**
 * Reads a configuration file. `file` is how messages name it (its path in the installation).
 * Throws UPLIFT_DETECT_CONFIG naming file:line when the text cannot be parsed, and
 * UPLIFT_PROFILE_INVALID when a profile's select path is outside what the format supports.
 */
export function parseConfig(text: string, format: ConfigFormat, file: string): ConfigDocument {
  switch (format) {
    case 'properties':
      return fromValues(scalarValues(readProperties(text, file)));
    case 'ini':
      return fromValues(readIni(text, file));
    case 'yaml':
      return fromValues(asRecord(parseYaml(text, file, 'UPLIFT_DETECT_CONFIG').doc.toJS()));
    case 'json':
      return fromValues(asRecord(readJson(text, file)));
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

function fromValues(values: Record<string, unknown>): ConfigDocument {
  return {
    values,
    select: (path) => {
      const found = lookupFact(values, path);
      return found.found ? [found.value] : [];
    },
  };
}

function scalarValues(map: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(map)) out[k] = toScalar(v);
  return out;
}

function asRecord(value: unknown): Record<string, unknown> {
  if (value === null || value === undefined) return {};
  if (typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  return { value };
}

function readProperties(text: string, file: string): Record<string, string> {
  try {
    return getProperties(text);
  } catch (cause) {
    // The library names the bad escape but not where it is; find its line for the operator.
    const lines = text.split(/\r\n|\r|\n/);
    const index = lines.findIndex((l) => /\\u(?![0-9a-fA-F]{4})/.test(l));
    throw configError(file, index === -1 ? undefined : index + 1, messageOf(cause), cause);
  }
}

/** INI: `[section]` headers, `key = value` or `key: value`, `;` and `#` comments. */
function readIni(text: string, file: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  let section = out;
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith(';') || line.startsWith('#')) continue;
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header) {
      const name = (header[1] as string).trim();
      const existing = out[name];
      section =
        typeof existing === 'object' && existing !== null
          ? (existing as Record<string, unknown>)
          : {};
      out[name] = section;
      continue;
    }
    const pair = /^([^=:]+?)\s*[=:]\s*(.*)$/.exec(line);
    if (!pair) throw configError(file, i + 1, `expected [section] or key = value, got "${line}"`);
    const value = (pair[2] as string).replace(/^"(.*)"$/, '$1').replace(/^'(.*)'$/, '$1');
    section[pair[1] as string] = toScalar(value);
  }
  return out;
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
