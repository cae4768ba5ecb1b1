import { EVENT_ID, getScalarValue, parseEvents, SCALAR_STYLE } from 'js-yaml';

/*
 * A fast reader for large YAML inputs (a catalog of 10,000 releases): js-yaml builds plain values
 * about 20 times faster than yaml@2 builds its positioned document. It must mean exactly what
 * parseYaml (yaml@2, YAML 1.2, core schema) means, so its plain scalars resolve by yaml@2's own
 * core-schema tests below, and every form where the two libraries could differ is declined:
 * directives (`%YAML 1.1` changes the schema), explicit tags, aliases (and so `<<` merges, and
 * yaml@2's alias-count limit), keys that are not strings (yaml@2 and js-yaml stringify them
 * differently) and `__proto__`. A declined or refused text goes to parseYaml, which also gives the
 * positions that error messages need.
 */

// yaml@2 dist/schema/core: null, bool, int (oct, dec, hex), float (nan/inf, exp, plain), in this
// order; each result is computed as yaml@2 computes it (parseInt / parseFloat, no finiteness check).
const nullTest = /^(?:~|[Nn]ull|NULL)?$/;
const boolTest = /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/;
const intOctTest = /^0o[0-7]+$/;
const intTest = /^[-+]?[0-9]+$/;
const intHexTest = /^0x[0-9a-fA-F]+$/;
const floatNaNTest = /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/;
const floatExpTest = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/;
const floatTest = /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/;

/** The value of a plain scalar, as yaml@2's core schema resolves it. */
function resolvePlain(s: string): unknown {
  switch (s[0]) {
    case undefined:
    case '~':
    case 'n':
    case 'N':
      if (nullTest.test(s)) return null;
      return s;
    case 't':
    case 'T':
    case 'f':
    case 'F':
      if (boolTest.test(s)) return s[0] === 't' || s[0] === 'T';
      return s;
    case '-':
    case '+':
    case '.':
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7':
    case '8':
    case '9':
      return resolveNumber(s);
    default:
      return s;
  }
}

function resolveNumber(s: string): unknown {
  if (intOctTest.test(s)) return parseInt(s.substring(2), 8);
  if (intTest.test(s)) return parseInt(s, 10);
  if (intHexTest.test(s)) return parseInt(s.substring(2), 16);
  if (floatNaNTest.test(s)) {
    if (s.slice(-3).toLowerCase() === 'nan') return Number.NaN;
    return s[0] === '-' ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  }
  if (floatExpTest.test(s) || floatTest.test(s)) return parseFloat(s);
  return s;
}

/** Thrown inside loadYamlFast for a form it declines. */
const declined = new Error('declined');

interface Frame {
  value: unknown[] | Record<string, unknown>;
  isMap: boolean;
  key: string | undefined;
}

/**
 * The value of a one-document YAML text, as parseYaml's `doc.toJS()` gives it; undefined when the
 * text uses a form this reader declines, or is not valid YAML. Never throws.
 *
 * js-yaml's parser gives the events; the values are built here rather than by js-yaml's
 * constructor, which handles tags, anchors and merges that this reader declines, at a cost.
 */
export function loadYamlFast(text: string): unknown {
  try {
    const events = parseEvents(text, {});
    let documents = 0;
    let root: unknown;
    const stack: Frame[] = [];
    const add = (v: unknown) => {
      const top = stack[stack.length - 1];
      if (top === undefined) root = v;
      else if (!top.isMap) (top.value as unknown[]).push(v);
      else if (top.key === undefined) {
        if (typeof v !== 'string' || v === '__proto__') throw declined;
        if (Object.hasOwn(top.value, v)) throw declined;
        top.key = v;
      } else {
        (top.value as Record<string, unknown>)[top.key] = v;
        top.key = undefined;
      }
    };
    for (const e of events) {
      switch (e.type) {
        case EVENT_ID.DOCUMENT:
          if (++documents > 1 || e.directives.length > 0) return undefined;
          break;
        case EVENT_ID.SCALAR: {
          if (e.tagStart !== -1) return undefined;
          const s = getScalarValue(text, e);
          add(e.style === SCALAR_STYLE.PLAIN ? resolvePlain(s) : s);
          break;
        }
        case EVENT_ID.SEQUENCE:
          if (e.tagStart !== -1) return undefined;
          stack.push({ value: [], isMap: false, key: undefined });
          break;
        case EVENT_ID.MAPPING:
          if (e.tagStart !== -1) return undefined;
          stack.push({ value: {}, isMap: true, key: undefined });
          break;
        case EVENT_ID.POP: {
          const done = stack.pop();
          if (done?.key !== undefined) throw declined;
          if (done !== undefined) add(done.value);
          break;
        }
        default:
          // An alias: its meaning (and yaml@2's limit on aliases) is left to parseYaml.
          return undefined;
      }
    }
    return documents === 1 ? root : undefined;
  } catch {
    return undefined;
  }
}
