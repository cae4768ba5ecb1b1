import { z } from 'zod';

/**
 * The profile's `lifecycle:` section: how a product starts, stops, proves it is ready and proves
 * it works (docs/profiles.md lists every field, with Verdaccio as the worked example). uplift
 * itself knows no product: apply, rollback, backup, restore and the checks do only what this
 * section says.
 *
 * Strings in `argv`, `cwd`, `env`, `url`, `headers`, `body`, `bodyMatch`, `ca`, `host`, `port`,
 * `pidFile` and `log` may use (in `bodyMatch` a value matches literally):
 * - `${install}`   the installation directory (absolute)
 * - `${profile}`   the profile folder (absolute): for scripts shipped with the profile
 * - `${node}`      the Node.js binary uplift runs on (for products run by Node.js)
 * - `${version}`   the version expected to run (the hop's target after the switch)
 * - `${file:REL}`  the trimmed first line of a file in the installation (a port file)
 * - `${fact:PATH}` a detected fact of the installation (`server.port`)
 */

/** A path inside the installation (relative, no `..`). */
const InstallPath = z
  .string()
  .min(1)
  .refine((s) => !s.startsWith('/') && !s.split('/').includes('..'), {
    message: 'write a path relative to the installation, without ..',
  });

/** A command: argv (no shell), working directory (relative to the installation), environment. */
export const Command = z.strictObject({
  /** The program and its arguments; a relative program path is resolved against `cwd`. */
  argv: z.array(z.string()).min(1),
  /** Working directory, relative to the installation; default the installation. */
  cwd: z.string().min(1).optional(),
  /** Added to uplift's environment (secrets are never logged: only names are printed). */
  env: z.record(z.string(), z.string()).optional(),
  /** Killed (SIGKILL) after this many seconds. */
  timeoutSeconds: z.number().positive().optional(),
});
export type Command = z.infer<typeof Command>;

/**
 * One service of the product. Started in the order listed, stopped in reverse.
 * Exactly one way to start it: `start` (a command that returns once the service runs in the
 * background, like an init script), `run` (a foreground command uplift starts detached, logging to
 * `log` and writing `pidFile` itself) or `systemd` (a unit, via systemctl).
 */
export const Service = z
  .strictObject({
    name: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'a lower-case name such as server'),
    /** A command that starts the service in the background and exits 0. */
    start: Command.optional(),
    /** A foreground command; uplift starts it detached and writes its pid to `pidFile`. */
    run: Command.extend({
      /** Where its standard output and error go, relative to the installation. */
      log: InstallPath.optional(),
    }).optional(),
    /** A systemd unit, started and stopped with systemctl (uplift must be allowed to). */
    systemd: z.strictObject({ unit: z.string().min(1) }).optional(),
    /** A command that stops it; without one, SIGTERM to its processes (never SIGKILL). */
    stop: Command.optional(),
    /** How long a stop may take before uplift gives up (default 60). */
    stopTimeoutSeconds: z.number().positive().optional(),
    /** The file holding its pid (relative to the installation); a glob finds several. */
    pidFile: InstallPath.optional(),
    /** Or: a live process whose command line matches this regex and whose cwd or argv is inside the installation. */
    processMatch: z.string().min(1).optional(),
  })
  .superRefine((s, ctx) => {
    const ways = [s.start, s.run, s.systemd].filter((w) => w !== undefined).length;
    if (ways !== 1)
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: 'give exactly one of start, run or systemd',
      });
    if (s.run && !s.pidFile)
      ctx.addIssue({
        code: 'custom',
        path: ['pidFile'],
        message: 'a run service needs pidFile: uplift writes the pid there',
      });
    if (s.run && s.pidFile && /[*?[\]{}]/.test(s.pidFile))
      ctx.addIssue({
        code: 'custom',
        path: ['pidFile'],
        message: 'a run service needs one pidFile, not a glob: uplift writes the pid there',
      });
    if (!s.systemd && !s.pidFile && !s.processMatch)
      ctx.addIssue({
        code: 'custom',
        path: ['pidFile'],
        message: 'say how to tell the service runs: pidFile or processMatch',
      });
  });
export type Service = z.infer<typeof Service>;

/** An HTTP(S) request and what its answer must be. */
export const HttpCheck = z.strictObject({
  url: z.string().min(1),
  method: z.string().min(1).default('GET'),
  headers: z.record(z.string(), z.string()).optional(),
  body: z.string().optional(),
  /** The expected status (default 200). */
  status: z.number().int().min(100).max(599).default(200),
  /** A regex the body must match. */
  bodyMatch: z.string().min(1).optional(),
  /** HTTPS: a CA file (PEM) to trust, relative to the installation (or absolute). */
  ca: z.string().min(1).optional(),
  /** HTTPS: the server certificate's SHA-256 fingerprint (hex, colons allowed); pins it instead of a CA. */
  pinnedSha256: z
    .string()
    .regex(/^([0-9A-Fa-f]{2}:?){31}[0-9A-Fa-f]{2}$/, 'write 32 bytes of hex, colons allowed')
    .optional(),
  /** HTTPS: the name the certificate must be for (default the URL's host). */
  servername: z.string().min(1).optional(),
});
export type HttpCheck = z.infer<typeof HttpCheck>;

/** A readiness probe or a smoke test: exactly one of `http`, `tcp`, `command`. */
export const Check = z
  .strictObject({
    name: z.string().min(1).optional(),
    http: HttpCheck.optional(),
    tcp: z
      .strictObject({
        host: z.string().min(1).default('127.0.0.1'),
        port: z.union([z.number().int().min(1).max(65535), z.string().min(1)]),
      })
      .optional(),
    /** Passes when it exits 0 (its output is shown when it fails). */
    command: Command.optional(),
  })
  .refine((c) => [c.http, c.tcp, c.command].filter((x) => x !== undefined).length === 1, {
    message: 'give exactly one of http, tcp or command',
  });
export type Check = z.infer<typeof Check>;

export const Lifecycle = z.strictObject({
  services: z
    .array(Service)
    .min(1)
    .superRefine((services, ctx) => {
      // Messages, events and the crash report name a service by its name.
      const seen = new Set<string>();
      services.forEach((s, i) => {
        if (seen.has(s.name))
          ctx.addIssue({
            code: 'custom',
            path: [i, 'name'],
            message: `two services are named ${s.name}: give each its own name`,
          });
        seen.add(s.name);
      });
    }),
  /**
   * How to tell the started version is ready: every probe passes, and keeps passing (with every
   * service alive) for `stableSeconds` in a row, so a crash right after start is caught.
   */
  readiness: z
    .strictObject({
      probes: z.array(Check).default([]),
      /** The whole wait, from start until ready (default 60). */
      timeoutSeconds: z.number().positive().default(60),
      /** Healthy this long in a row (default 3). */
      stableSeconds: z.number().min(0).default(3),
      /** Between two rounds of probes (default 200). */
      intervalMs: z.number().int().positive().default(200),
    })
    .default({ probes: [], timeoutSeconds: 60, stableSeconds: 3, intervalMs: 200 }),
  /** Run once the version is ready: they exercise the product the way a client does. */
  smoke: z
    .strictObject({
      tests: z.array(Check).default([]),
      timeoutSeconds: z.number().positive().default(120),
    })
    .default({ tests: [], timeoutSeconds: 120 }),
  /**
   * Checks a catalog's `settle` names: at a stop where something settles in the background (data
   * migrations), apply runs the check until it passes before the next hop (docs/profiles.md).
   */
  settleChecks: z
    .record(
      z.string().regex(/^[a-z0-9][a-z0-9._-]*$/i, 'a name such as background-migrations'),
      Check,
    )
    .default({}),
  /**
   * Commands run after the switch, before the start (a dependency rebuild). Each is journaled; a
   * rollback puts the old generation back, which undoes what they changed inside the
   * installation, then runs `undo` for what they changed outside it.
   */
  postSwitch: z
    .array(
      Command.extend({
        name: z.string().min(1),
        undo: Command.optional(),
      }),
    )
    .default([]),
});
export type Lifecycle = z.infer<typeof Lifecycle>;
export type LifecycleInput = z.input<typeof Lifecycle>;

/**
 * The profile's `paths:` section: what an upgrade does with each part of an installation.
 * Globs are picomatch globs relative to the installation; `dir/**` also matches `dir` itself.
 */
export const Paths = z.strictObject({
  /** Customer data, carried across untouched (hard-linked into the new version, never merged). */
  data: z.array(InstallPath).default([]),
  /**
   * Databases the product writes in place (SQLite files): customer data carried as copies, never
   * hard-linked. A pack's database migration may write only a file under `data` or here.
   */
  databases: z.array(InstallPath).default([]),
  /** Configuration the customer edits: three-way merged with the new version's. */
  config: z.array(InstallPath).default([]),
  /** Produced at run time (caches, pid files); not carried to the new version, not backed up. */
  generated: z.array(InstallPath).default([]),
});
export type Paths = z.infer<typeof Paths>;
