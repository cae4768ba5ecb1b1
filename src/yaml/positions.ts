import {
  type Document,
  isCollection,
  isMap,
  isNode,
  isPair,
  isScalar,
  LineCounter,
  type Node,
  parseDocument,
  visit,
  type YAMLError,
} from 'yaml';
import type { z } from 'zod';
import type { UpliftCode } from '../errors/index.ts';
import { type SourceLocation, UpliftError, type UpliftErrorDetail } from '../errors/index.ts';

/** A YAML document parsed with the positions needed to point an operator at a line and column. */
export interface PositionedYaml {
  file: string;
  doc: Document.Parsed;
  lines: LineCounter;
  /** The document's plain value (`doc.toJS()`), built once, with aliases expanded within yaml@2's limit. */
  value: unknown;
}

/** Parses YAML text, or throws `yamlCode` naming the line and column of the first syntax error. */
export function parseYaml(text: string, file: string, yamlCode: UpliftCode): PositionedYaml {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const details = doc.errors.map((e) => ({
      message: firstLine(e.message),
      location: { file, ...(e.pos[0] >= 0 ? lines.linePos(faultOffset(doc, e, text)) : {}) },
    }));
    const first = details[0] as UpliftErrorDetail;
    throw new UpliftError(yamlCode, `${file} is not valid YAML: ${first.message}`, {
      location: first.location,
      details,
      hint: 'fix the YAML syntax at that line (indentation, quotes, a missing colon) and run again',
    });
  }
  return { file, doc, lines, value: plainValue(doc, lines, file, yamlCode) };
}

/** How many aliases are tried one by one to find the one at fault when the whole document is refused. */
const maxAliasesToBlame = 1000;

/**
 * The document's plain value, or `yamlCode` when it cannot be built: yaml@2 refuses aliases that
 * would expand beyond its limit (an "alias bomb", a few lines that mean billions of values) with a
 * ReferenceError that has no position; the alias at fault is the first one that alone is refused.
 */
function plainValue(
  doc: Document.Parsed,
  lines: LineCounter,
  file: string,
  yamlCode: UpliftCode,
): unknown {
  try {
    return doc.toJS();
  } catch (err) {
    let at: Node | undefined;
    let tried = 0;
    visit(doc, {
      Alias(_key, node) {
        if (++tried > maxAliasesToBlame) return visit.BREAK;
        try {
          node.toJS(doc);
        } catch {
          at = node;
          return visit.BREAK;
        }
        return undefined;
      },
    });
    const pos = at?.range ? lines.linePos(at.range[0]) : undefined;
    const why = err instanceof Error ? firstLine(err.message) : String(err);
    throw new UpliftError(yamlCode, `${file} cannot be read: ${why}`, {
      location: { file, ...pos },
      hint: 'write the values out instead of nesting aliases (*name) that repeat each other, and run again',
      unchanged: true,
      cause: err,
    });
  }
}

/**
 * Where an operator should look for a syntax error. The parser reports an unclosed quote or flow
 * collection where it gave up looking for the close (the end of the file, or the next line less
 * indented); the fault is where it opened, so point at the quoted scalar or the `[`/`{` that
 * spans the reported offset.
 */
function faultOffset(doc: Document.Parsed, e: YAMLError, text: string): number {
  const at = e.pos[0];
  const unclosedQuote = e.code === 'MISSING_CHAR' && /quote/i.test(e.message);
  const unclosedFlow = e.code === 'BAD_INDENT' && /^Flow (sequence|map)/.test(e.message);
  if (!unclosedQuote && !unclosedFlow) return at;
  let opened: Node | undefined;
  visit(doc, {
    Node(_key, node) {
      const r = node.range;
      if (!r || r[0] >= at || at > r[2] + 1) return;
      if (
        unclosedQuote &&
        isScalar(node) &&
        (node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE')
      )
        opened = node;
      // The innermost one left open: a collection nested in it may be closed (its range can still
      // reach the reported offset), and one around it may be closed later in the text.
      if (unclosedFlow && isCollection(node) && node.flow) {
        const end = text.slice(r[0], r[1]).trimEnd().at(-1);
        if (end !== (isMap(node) ? '}' : ']')) opened = node;
      }
    },
  });
  return opened?.range?.[0] ?? at;
}

/** The location of the node at `path`, or of its nearest ancestor that exists. */
export function locate(y: PositionedYaml, path: readonly PropertyKey[]): SourceLocation {
  const keys = path.map((k) => (typeof k === 'symbol' ? String(k) : k));
  for (let n = keys.length; n >= 0; n--) {
    const node = y.doc.getIn(keys.slice(0, n), true);
    if (isNode(node) && node.range) {
      const pos = y.lines.linePos(node.range[0]);
      return { file: y.file, line: pos.line, col: pos.col, path: formatPath(keys) };
    }
  }
  return { file: y.file, path: formatPath(keys) };
}

/** The location of a key inside the map at `path` (for "unknown field" errors). */
export function locateKey(
  y: PositionedYaml,
  path: readonly PropertyKey[],
  key: string,
): SourceLocation {
  const map = y.doc.getIn(path.map(String), true);
  if (isMap(map)) {
    for (const item of map.items) {
      if (isPair(item) && isScalar(item.key) && String(item.key.value) === key && item.key.range) {
        const pos = y.lines.linePos(item.key.range[0]);
        return { file: y.file, line: pos.line, col: pos.col, path: formatPath([...path, key]) };
      }
    }
  }
  return locate(y, [...path, key]);
}

/** `releases[3].notes.fixed[0].id`: the way an operator reads a field path. */
export function formatPath(path: readonly PropertyKey[]): string {
  let s = '';
  for (const k of path) {
    if (typeof k === 'number') s += `[${k}]`;
    else s += s === '' ? String(k) : `.${String(k)}`;
  }
  return s === '' ? '(top level)' : s;
}

/**
 * Turns zod issues into positioned details: the field, what was wrong, where. `docs` is the page
 * that lists the format's fields, named in the hint for an unknown one.
 */
export function describeIssues(
  y: PositionedYaml,
  error: z.ZodError,
  docs = 'docs/catalog.md',
): UpliftErrorDetail[] {
  const details: UpliftErrorDetail[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const location = locateKey(y, issue.path, key);
        details.push({
          message: `${location.path}: unknown field "${key}"`,
          location,
          hint: `remove the field or correct its spelling (see ${docs} for the fields)`,
        });
      }
      continue;
    }
    const location = locate(y, issue.path);
    details.push({ message: `${formatPath(issue.path)}: ${issue.message}`, location });
  }
  return details;
}

function firstLine(s: string): string {
  return s.split('\n')[0] ?? s;
}
