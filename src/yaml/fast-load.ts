import {
  CORE_SCHEMA,
  constructFromEvents,
  defineMappingTag,
  defineScalarTag,
  EVENT_ID,
  NOT_RESOLVED,
  parseEvents,
} from 'js-yaml';

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

const digits = [...'0123456789'];
const loadOnly = () => false;

const nullTag = defineScalarTag('tag:yaml.org,2002:null', {
  implicit: true,
  implicitFirstChars: ['', '~', 'n', 'N'],
  resolve: (s) => (nullTest.test(s) ? null : NOT_RESOLVED),
  identify: loadOnly,
});

const boolTag = defineScalarTag('tag:yaml.org,2002:bool', {
  implicit: true,
  implicitFirstChars: ['t', 'T', 'f', 'F'],
  resolve: (s) => (boolTest.test(s) ? s[0] === 't' || s[0] === 'T' : NOT_RESOLVED),
  identify: loadOnly,
});

const intTag = defineScalarTag('tag:yaml.org,2002:int', {
  implicit: true,
  implicitFirstChars: ['-', '+', ...digits],
  resolve: (s) => {
    if (intOctTest.test(s)) return parseInt(s.substring(2), 8);
    if (intTest.test(s)) return parseInt(s, 10);
    if (intHexTest.test(s)) return parseInt(s.substring(2), 16);
    return NOT_RESOLVED;
  },
  identify: loadOnly,
});

const floatTag = defineScalarTag('tag:yaml.org,2002:float', {
  implicit: true,
  implicitFirstChars: ['-', '+', '.', ...digits],
  resolve: (s) => {
    if (floatNaNTest.test(s)) {
      if (s.slice(-3).toLowerCase() === 'nan') return Number.NaN;
      return s[0] === '-' ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
    }
    if (floatExpTest.test(s) || floatTest.test(s)) return parseFloat(s);
    return NOT_RESOLVED;
  },
  identify: loadOnly,
});

const mapTag = defineMappingTag('tag:yaml.org,2002:map', {
  create: () => ({}) as Record<string, unknown>,
  addPair: (map, key, value) => {
    if (typeof key !== 'string' || key === '__proto__') return 'a key the fast loader declines';
    map[key] = value;
    return '';
  },
  has: (map, key) => typeof key === 'string' && Object.hasOwn(map, key),
  keys: (map) => Object.keys(map),
  get: (map, key) => map[key as string],
  identify: loadOnly,
});

const schema = CORE_SCHEMA.withTags(nullTag, boolTag, intTag, floatTag, mapTag);

/**
 * The value of a one-document YAML text, as parseYaml's `doc.toJS()` gives it; undefined when the
 * text uses a form this reader declines, or is not valid YAML. Never throws.
 */
export function loadYamlFast(text: string): unknown {
  try {
    const events = parseEvents(text, {});
    let documents = 0;
    for (const e of events) {
      if (e.type === EVENT_ID.DOCUMENT) {
        documents++;
        if (e.directives.length > 0) return undefined;
      } else if (e.type === EVENT_ID.ALIAS) return undefined;
      else if (e.type !== EVENT_ID.POP && e.tagStart !== -1) return undefined;
    }
    if (documents !== 1) return undefined;
    const [value] = constructFromEvents(events, { source: text, schema });
    return value;
  } catch {
    return undefined;
  }
}
