import { z } from 'zod';
import { Source } from '../catalog/schema.ts';
import { Rule } from '../rules/schema.ts';
import { isUnsafeKey, unsafeKeys } from '../util/index.ts';

/**
 * The `detection` section of a profile: how to read an installation. Every object is strict, so a
 * misspelt field is an error with its line and column. `docs/detection.md` explains each field
 * with the skiff and SecureTransport profiles as examples; keep the two in step.
 */

/**
 * Provenance of a detection entry, as in a catalog (docs/detection.md): `source: { doc, section }`
 * or `illustrative: true` with a `reason`. Required on stock values (what the vendor ships, a
 * default the product uses), optional elsewhere; an illustrative input marks every fact it decides.
 */
const provenance = {
  source: Source.optional(),
  illustrative: z.boolean().optional(),
  reason: z.string().min(1).optional(),
};

/** A path inside the installation, `/`-separated, never leaving it. */
const InstallPath = z
  .string()
  .min(1)
  .refine((p) => !p.startsWith('/') && !p.includes('\\') && !p.split('/').includes('..'), {
    message: 'write a path relative to the installation directory, with / and without ..',
  });

/** A glob over installation paths: `*` and `?` stay inside one folder, `**` crosses folders. */
const Glob = InstallPath;

/** No segment of a path may reach `Object.prototype` (src/util/safe-keys.ts). */
const hasNoUnsafeKey = (path: string) => !path.split('.').some(isUnsafeKey);
const unsafeKeyMessage = `no segment may be ${unsafeKeys.join(', ')}`;

/** A dotted fact path (`data.historyFiles`, `settings.Direct.Connection.When.Proxy.Down`). */
const FactPath = z
  .string()
  .regex(/^[A-Za-z_][\w-]*(\.[^.\s]+)*$/, 'write a dotted fact path such as data.historyFiles')
  .refine(hasNoUnsafeKey, { message: unsafeKeyMessage });

/** A dotted key inside a JSON or YAML document (`version`, `engines.node`). */
const KeyPath = z.string().min(1).refine(hasNoUnsafeKey, { message: unsafeKeyMessage });

const Regex = z.string().refine(
  (s) => {
    try {
      new RegExp(s, 'm');
      return true;
    } catch {
      return false;
    }
  },
  { message: 'not a valid regular expression' },
);

/** A value that depends on the installed version: the first entry whose pattern matches wins. */
const ByVersion = z
  .array(
    z.strictObject({
      ...provenance,
      /** A catalog version pattern (`>=5.5 GA`); absent = any version. */
      versions: z.string().min(1).optional(),
      value: z.unknown(),
    }),
  )
  .min(1);

const SelectPath = z.union([
  z.string().min(1).refine(hasNoUnsafeKey, { message: unsafeKeyMessage }),
  /** `all: true` collects every match into a list instead of taking the first. */
  z.strictObject({
    path: z.string().min(1).refine(hasNoUnsafeKey, { message: unsafeKeyMessage }),
    all: z.boolean().default(false),
  }),
]);
export type SelectPath = z.infer<typeof SelectPath>;

export const ConfigFormat = z.enum(['properties', 'xml', 'yaml', 'json', 'ini', 'env', 'regex']);
export type ConfigFormat = z.infer<typeof ConfigFormat>;

const SettingsFile = z
  .strictObject({
    ...provenance,
    file: InstallPath,
    format: ConfigFormat,
    /** Fact path that receives the whole file (keys as written, values as scalars). */
    into: FactPath.optional(),
    /** Fact path → where in the file: XPath (subset) for XML, a dotted key for the others. */
    select: z.record(FactPath, SelectPath).optional(),
    /** Values the product uses when the file does not set them, recorded under `into`. */
    defaults: z
      .record(
        z.string().refine((k) => !isUnsafeKey(k), { message: unsafeKeyMessage }),
        z.unknown(),
      )
      .optional(),
    /** A missing required file is an error; a missing optional one only leaves its facts out. */
    required: z.boolean().default(false),
    /** `format: regex` only: named groups `key` and `value`, or one group per setting. */
    pattern: Regex.optional(),
  })
  .refine((s) => s.into !== undefined || s.select !== undefined, {
    message: 'give into (the whole file) or select (some values), or both',
  })
  .refine((s) => s.format !== 'xml' || s.into === undefined, {
    message: 'an XML file has no flat keys: use select with XPath expressions',
    path: ['into'],
  })
  .refine((s) => s.defaults === undefined || s.into !== undefined, {
    message: 'defaults go under into; add into',
    path: ['defaults'],
  })
  .refine((s) => (s.format === 'regex') === (s.pattern !== undefined), {
    message: 'format regex needs a pattern with named groups, and pattern goes with format regex',
    path: ['pattern'],
  })
  .refine((s) => s.pattern === undefined || /\(\?<[A-Za-z_$][\w$]*>/.test(s.pattern), {
    message:
      'name what the pattern reads with groups: (?<key>...) and (?<value>...), or (?<name>...)',
    path: ['pattern'],
  });
export type SettingsFile = z.infer<typeof SettingsFile>;

/**
 * A command uplift runs to read a fact: no shell, the installation as working directory (or
 * `cwd` inside it), stdout and stderr captured. In `argv`, `${install}` is the installation's
 * absolute path and `${node}` the Node.js running uplift; a relative program path
 * (`node_modules/.bin/verdaccio`) is relative to the working directory.
 */
const Command = z.strictObject({
  argv: z.array(z.string().min(1)).min(1),
  cwd: InstallPath.optional(),
  /** Killed after this long; the fact stays unknown (default 10). */
  timeoutSeconds: z.number().positive().max(300).default(10),
});
export type Command = z.infer<typeof Command>;

const VersionPattern = Regex.refine((s) => s.includes('(?<version>'), {
  message: 'name the version with a group (?<version>...)',
});

const versionSources = ['file', 'json', 'yaml', 'xml', 'command'] as const;

/**
 * Where the installed version is written; exactly one source. `file` + `pattern` searches a text
 * file line by line; `json`/`yaml` + `path` take a dotted key; `xml` + `xpath` an XPath;
 * `command` + `pattern` searches a command's output (stdout, then stderr).
 */
const VersionSource = z
  .strictObject({
    ...provenance,
    file: InstallPath.optional(),
    json: InstallPath.optional(),
    yaml: InstallPath.optional(),
    xml: InstallPath.optional(),
    command: Command.optional(),
    /** Searched line by line; the named group `version` is the version. Optional after json/yaml/xml. */
    pattern: VersionPattern.optional(),
    /** `json`/`yaml`: the dotted key holding the version (`version`, `project.version`). */
    path: KeyPath.optional(),
    /** `xml`: an XPath (docs/detection.md subset) whose first match is the version. */
    xpath: z.string().min(1).optional(),
  })
  .superRefine((v, ctx) => {
    const kinds = versionSources.filter((k) => v[k] !== undefined);
    if (kinds.length !== 1) {
      ctx.addIssue({ code: 'custom', message: `give exactly one of ${versionSources.join(', ')}` });
      return;
    }
    const kind = kinds[0];
    if ((kind === 'file' || kind === 'command') && v.pattern === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['pattern'],
        message: `${kind} needs a pattern with a group (?<version>...)`,
      });
    if ((kind === 'json' || kind === 'yaml') !== (v.path !== undefined))
      ctx.addIssue({
        code: 'custom',
        path: ['path'],
        message: 'path goes with json or yaml, and they need it',
      });
    if ((kind === 'xml') !== (v.xpath !== undefined))
      ctx.addIssue({
        code: 'custom',
        path: ['xpath'],
        message: 'xpath goes with xml, and xml needs it',
      });
  });
export type VersionSource = z.infer<typeof VersionSource>;

/** A fact read from a command's output. */
const CommandFact = z.strictObject({
  ...provenance,
  fact: FactPath,
  /** Only run when this holds for the facts read so far. */
  when: Rule.optional(),
  command: Command,
  /**
   * Searched line by line in stdout, then stderr; the named group `value` is the fact (read as
   * `true`/`false`/integer/text). Default: the first line of stdout that is not blank.
   */
  pattern: Regex.refine((s) => s.includes('(?<value>'), {
    message: 'name the value with a group (?<value>...)',
  }).optional(),
});
export type CommandFact = z.infer<typeof CommandFact>;

const Service = z.strictObject({
  /** The service's name; default: the pid file's name without `.pid`. */
  name: z.string().min(1).optional(),
  /** A pid file, or a glob (`var/run/*.pid`) that finds every leftover pid file. */
  pidFile: Glob,
});
export type Service = z.infer<typeof Service>;

const measureKinds = ['sqlite', 'countFiles', 'sumBytes', 'countLines'] as const;

const Measure = z
  .strictObject({
    ...provenance,
    fact: FactPath,
    /** Only measured when this holds for the facts read so far (an embedded database). */
    when: Rule.optional(),
    /** A SQLite database, opened read-only; the first of `queries` that runs gives the value. */
    sqlite: InstallPath.optional(),
    queries: z.array(z.string().min(1)).min(1).optional(),
    /** Regular files under a folder, recursively (0 when the folder is absent). */
    countFiles: InstallPath.optional(),
    /** Bytes of the regular files under a folder, recursively (`.` = the whole installation). */
    sumBytes: InstallPath.optional(),
    /** Lines of a file that are not blank and not skipped (0 when the file is absent). */
    countLines: InstallPath.optional(),
    /** Lines matching this are not counted; default: blank lines and `#` comments. */
    skip: Regex.optional(),
  })
  .superRefine((m, ctx) => {
    const kinds = measureKinds.filter((k) => m[k] !== undefined);
    if (kinds.length !== 1)
      ctx.addIssue({
        code: 'custom',
        message: `give exactly one of ${measureKinds.join(', ')}`,
      });
    if ((m.sqlite === undefined) !== (m.queries === undefined))
      ctx.addIssue({
        code: 'custom',
        path: ['queries'],
        message: 'sqlite needs queries, and queries need sqlite',
      });
    if (m.skip !== undefined && m.countLines === undefined)
      ctx.addIssue({ code: 'custom', path: ['skip'], message: 'skip goes with countLines' });
  });
export type Measure = z.infer<typeof Measure>;

const deriveKinds = [
  'from',
  'isSet',
  'fileExists',
  'fileCustomized',
  'differs',
  'anyOf',
  'value',
] as const;

const Derivation = z
  .strictObject({
    ...provenance,
    fact: FactPath,
    /** Only derived when this holds for the facts read so far. */
    when: Rule.optional(),
    /** Copy a fact (usually a raw setting) to a catalog fact. */
    from: FactPath.optional(),
    /** True when the fact is present and not empty. */
    isSet: FactPath.optional(),
    /** True when the file exists in the installation. */
    fileExists: InstallPath.optional(),
    /** True when a file matching the glob was changed, added or removed (needs a vendor manifest). */
    fileCustomized: Glob.optional(),
    /** True when the fact differs from the vendor's value (`vendor`/`vendorByVersion`); absent = the vendor's value. */
    differs: FactPath.optional(),
    /** True when any of these facts is true, false when all are false, unknown otherwise. */
    anyOf: z.array(FactPath).min(1).optional(),
    /** A fixed value. */
    value: z.unknown().optional(),
    /** Splits a string on this separator into a trimmed list (`from`, `differs`). */
    split: z.string().min(1).optional(),
    /** The value when `from` finds nothing. */
    default: z.unknown().optional(),
    defaultByVersion: ByVersion.optional(),
    vendor: z.unknown().optional(),
    vendorByVersion: ByVersion.optional(),
  })
  .superRefine((d, ctx) => {
    const kinds = deriveKinds.filter((k) => d[k] !== undefined);
    if (kinds.length !== 1)
      ctx.addIssue({ code: 'custom', message: `give exactly one of ${deriveKinds.join(', ')}` });
    const only = (field: keyof typeof d, kind: string, okWith: readonly string[]) => {
      if (d[field] !== undefined && !okWith.some((k) => d[k as keyof typeof d] !== undefined))
        ctx.addIssue({ code: 'custom', path: [field], message: `${field} goes with ${kind}` });
    };
    only('split', 'from or differs', ['from', 'differs']);
    only('default', 'from', ['from']);
    only('defaultByVersion', 'from', ['from']);
    only('vendor', 'differs', ['differs']);
    only('vendorByVersion', 'differs', ['differs']);
    if (d.differs !== undefined && d.vendor === undefined && d.vendorByVersion === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['differs'],
        message: 'differs needs the vendor value: vendor or vendorByVersion',
      });
  });
export type Derivation = z.infer<typeof Derivation>;

const DetectionShape = z.strictObject({
  /** A wholly illustrative section (a test or demo profile): every entry inherits it. */
  ...provenance,
  /** Where the installed version is written; a folder is an installation when it yields a version. */
  version: VersionSource,
  settings: z.array(SettingsFile).default([]),
  /** Facts read from commands' output (`node --version`), after settings, before derive. */
  commands: z.array(CommandFact).default([]),
  services: z.array(Service).default([]),
  data: z.array(Measure).default([]),
  /** Catalog facts computed from the facts read so far, in order; the first known value of a fact wins. */
  derive: z.array(Derivation).default([]),
  /** The vendor's manifest of the installed version ({ files: [{ path, size, mode, sha256 }] }). */
  vendorManifest: InstallPath.optional(),
  /** Paths left out of the customized-files comparison (data, logs, runtime state). */
  ignore: z.array(Glob).default([]),
  /** Setting keys whose values never appear in facts; default: passwords, secrets, tokens, keys. */
  redact: z.array(z.string().min(1)).optional(),
  /** `process.platform-process.arch` → the catalog's platform id, for ids that differ from uplift's. */
  platformIds: z.record(z.string(), z.string()).optional(),
});
export const Detection = DetectionShape.superRefine(checkProvenance);
export type Detection = z.infer<typeof Detection>;
export type DetectionInput = z.input<typeof Detection>;

type ProvenanceFields = { source?: unknown; illustrative?: boolean; reason?: string };

/**
 * Every stock value carries provenance, its own or the section's; on any entry, a source and
 * illustrative exclude each other and illustrative needs its reason.
 */
function checkProvenance(d: z.infer<typeof DetectionShape>, ctx: z.RefinementCtx): void {
  const issue = (path: PropertyKey[], message: string) =>
    ctx.addIssue({ code: 'custom', path, message });
  const fields = (e: ProvenanceFields, path: PropertyKey[]) => {
    if (e.source !== undefined && e.illustrative === true)
      issue(
        [...path, 'illustrative'],
        'an entry with a source cannot also be illustrative: keep one',
      );
    else if (e.illustrative === true && e.reason === undefined)
      issue(
        [...path, 'illustrative'],
        'illustrative: true needs a reason: add reason: <what the sources do not state>',
      );
    else if (e.illustrative !== true && e.reason !== undefined)
      issue(
        [...path, 'reason'],
        'reason explains an illustrative entry: add illustrative: true, or remove reason',
      );
  };
  const whole = d.source !== undefined || d.illustrative === true;
  const stock = (e: ProvenanceFields, path: PropertyKey[], what: string) => {
    if (!whole && e.source === undefined && e.illustrative !== true)
      issue(
        path,
        `${what} has neither a source nor illustrative: true; add source: { doc: <document>, section: <its section> }, or illustrative: true with reason: <why the sources do not state it>`,
      );
  };
  fields(d, []);
  fields(d.version, ['version']);
  d.settings.forEach((s, i) => {
    fields(s, ['settings', i]);
    if (s.defaults !== undefined) stock(s, ['settings', i], `the defaults of ${s.file}`);
  });
  d.commands.forEach((c, i) => {
    fields(c, ['commands', i]);
  });
  d.data.forEach((m, i) => {
    fields(m, ['data', i]);
  });
  d.derive.forEach((x, i) => {
    fields(x, ['derive', i]);
    for (const key of ['vendorByVersion', 'defaultByVersion'] as const)
      (x[key] ?? []).forEach((v, j) => {
        fields(v, ['derive', i, key, j]);
      });
    const byVersionSourced = (list: readonly ProvenanceFields[] | undefined) =>
      list?.every((v) => v.source !== undefined || v.illustrative === true) === true;
    const hasStock =
      x.vendor !== undefined ||
      x.default !== undefined ||
      x.value !== undefined ||
      (x.vendorByVersion !== undefined && !byVersionSourced(x.vendorByVersion)) ||
      (x.defaultByVersion !== undefined && !byVersionSourced(x.defaultByVersion));
    if (hasStock) stock(x, ['derive', i], `the stock value of ${x.fact}`);
  });
}
