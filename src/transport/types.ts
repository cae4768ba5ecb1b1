/**
 * How the controller reaches a node: one interface, implemented for this machine (local) and for
 * SSH (ssh2). See docs/topology.md ("Transports").
 */

export interface ExecOptions {
  /** Kills the command (SIGTERM, then SIGKILL) and rejects with UPLIFT_TRANSPORT_TIMEOUT. */
  timeoutMs?: number;
  env?: Record<string, string>;
  /** Working folder on the node. */
  cwd?: string;
  /** Each complete line of standard output as it arrives (the agent's JSON events). */
  onStdoutLine?: (line: string) => void;
  signal?: AbortSignal;
}

export interface ExecResult {
  /** Exit code, or null when the command ended by a signal. */
  code: number | null;
  signal?: string;
  stdout: string;
  stderr: string;
}

export interface RemoteStat {
  size: number;
  mode: number;
  isDirectory: boolean;
}

export interface PutOptions {
  /** Refuse the copy (and remove it) unless the bytes on the node hash to this. */
  sha256: string;
  mode?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface NodeTransport {
  /** `local` or `ssh://user@host:port`: for messages; never holds a secret. */
  readonly label: string;
  /** Runs argv on the node (no shell: the words are quoted for the remote shell by SSH). */
  exec(argv: string[], o?: ExecOptions): Promise<ExecResult>;
  /**
   * Copies a file to the node: into `<remote>.part`, resumed from what a cut copy left when that
   * prefix still matches, hashed on arrival, then renamed into place.
   */
  putFile(
    local: string,
    remote: string,
    o: PutOptions,
  ): Promise<{ bytes: number; resumedFrom: number }>;
  readFile(remote: string): Promise<Buffer | undefined>;
  stat(remote: string): Promise<RemoteStat | undefined>;
  mkdirp(remote: string, mode?: number): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  remove(remote: string): Promise<void>;
  close(): Promise<void>;
}
