import { z } from 'zod';

/**
 * The topology file format (`uplift.yaml`), as written: environments in promotion order, their
 * deployments and nodes. Every object is strict, so a misspelt field is an error with its position.
 * `load.ts` turns a parsed file into the `Topology` of ./types.ts (defaults filled in, addresses
 * parsed, paths resolved) and applies the rules a schema cannot say (./rules.ts).
 * `docs/topology.md` explains each field with a complete example; keep the two in step.
 */

/** A name an operator types (`--env prod`, `--node st2`) and the audit log records. */
export const Name = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'use letters, digits, dots, dashes or underscores');

const PositiveInt = z.number().int().positive();
/**
 * The longest wait any `…Seconds` field may ask for: 24 hours. Node's timers hold at most 2^31-1 ms
 * (24.8 days) and fire at once beyond it, so a larger value would mean no wait at all.
 */
export const maxSeconds = 86_400;
const tooLong = `at most ${maxSeconds} (24 hours)`;
const Seconds = z.number().nonnegative().max(maxSeconds, tooLong);
const PositiveSeconds = z.number().int().positive().max(maxSeconds, tooLong);
/** A command as an argument vector: run without a shell, so nothing in it is interpreted. */
const Argv = z.array(z.string().min(1)).min(1, 'give the program and its arguments as a list');
const NonEmpty = z.string().min(1);
/** The name of an environment variable, as a POSIX shell takes it. */
const EnvName = z
  .string()
  .regex(
    /^[A-Za-z_][A-Za-z0-9_]*$/,
    'use letters, digits and underscores, not starting with a digit',
  );

export const DeploymentType = z.enum([
  'standalone',
  'standard-cluster',
  'enterprise-cluster',
  'streaming',
  'active-passive',
  'rolling',
]);

/** Settings every deployment and node takes unless it sets its own. */
export const TopologyDefaults = z.strictObject({
  concurrency: PositiveInt.optional(),
  nodeTimeoutSeconds: PositiveSeconds.optional(),
  nodeRuntime: NonEmpty.optional(),
  agentDir: NonEmpty.optional(),
  identity: NonEmpty.optional(),
  knownHosts: NonEmpty.optional(),
  connectTimeoutSeconds: PositiveSeconds.optional(),
  packs: NonEmpty.optional(),
  trust: NonEmpty.optional(),
  to: NonEmpty.optional(),
  channel: NonEmpty.optional(),
});

export const NodeEntry = z.strictObject({
  name: Name,
  /** A local folder (absolute, or `./…` from the topology file) or `ssh://user@host:port/path`. */
  at: NonEmpty,
  /** A pinned public key: `ssh-ed25519 AAAA…` (ssh nodes). */
  hostKey: NonEmpty.optional(),
  /** An OpenSSH known_hosts file (ssh nodes). */
  knownHosts: NonEmpty.optional(),
  identity: NonEmpty.optional(),
  connectTimeoutSeconds: PositiveSeconds.optional(),
  nodeRuntime: NonEmpty.optional(),
  agentDir: NonEmpty.optional(),
  role: z.enum(['backend', 'edge']).optional(),
  side: z.enum(['a', 'b']).optional(),
  balancerServer: NonEmpty.optional(),
});

/**
 * How traffic moves between the sides of an active-passive deployment, by `kind` (the registry in
 * src/balancer; docs/topology.md, "Load balancers").
 */
export const BalancerEntry = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({
      kind: z.literal('haproxy'),
      socket: NonEmpty,
      backend: NonEmpty,
      drainTimeoutSeconds: Seconds.optional(),
    }),
    z.strictObject({
      kind: z.literal('command'),
      drain: Argv,
      enable: Argv,
      sessions: Argv.optional(),
      drainTimeoutSeconds: Seconds.optional(),
    }),
  ],
  { error: 'write kind: haproxy or kind: command' },
);

export const RollingEntry = z.strictObject({
  maxUnavailable: PositiveInt.optional(),
  pauseSeconds: Seconds.optional(),
  maxFailureRatio: z.number().min(0).max(1).optional(),
});

export const DeploymentEntry = z.strictObject({
  name: Name,
  type: DeploymentType,
  /** A profile name, or a folder (`./profiles/x`, `/opt/profiles/x`) resolved from the topology file. */
  profile: NonEmpty,
  to: NonEmpty.optional(),
  channel: NonEmpty.optional(),
  packs: NonEmpty.optional(),
  trust: NonEmpty.optional(),
  concurrency: PositiveInt.optional(),
  nodeTimeoutSeconds: PositiveSeconds.optional(),
  afterStart: Argv.optional(),
  /**
   * Names of the controller's environment variables given to every uplift command on the
   * deployment's nodes (a smoke test's account, say). Only names are written here; the values
   * are read when the rollout starts and never logged or stored.
   */
  passEnv: z.array(EnvName).optional(),
  balancer: BalancerEntry.optional(),
  rolling: RollingEntry.optional(),
  nodes: z.array(NodeEntry).min(1, 'list at least one node'),
});

export const EnvironmentEntry = z.strictObject({
  name: Name,
  deployments: z.array(DeploymentEntry).min(1, 'list at least one deployment'),
});

export const TopologyFile = z.strictObject({
  topology: z.literal(1, 'write topology: 1 (the format version) at the top of the file'),
  defaults: TopologyDefaults.optional(),
  environments: z.array(EnvironmentEntry).min(1, 'list at least one environment'),
});
export type TopologyFile = z.infer<typeof TopologyFile>;
export type DeploymentEntry = z.infer<typeof DeploymentEntry>;
export type NodeEntry = z.infer<typeof NodeEntry>;
