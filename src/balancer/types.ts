/**
 * A load balancer uplift moves traffic with (active/passive deployments): HAProxy through its
 * runtime API, or commands of the operator's for any other balancer. Chosen from an explicit
 * registry (./index.ts) by the topology's `balancer.kind`.
 */

export interface ServerState {
  /** The server's name in the balancer. */
  server: string;
  /** `ready` takes new connections; `drain` keeps open ones only; `maint` takes none. */
  admin: 'ready' | 'drain' | 'maint';
  /** Sessions open on the server now. */
  sessions: number;
  /**
   * The weight it takes new connections with once `ready` (HAProxy: its user weight); 0 takes
   * none. Absent when the balancer cannot tell.
   */
  weight?: number;
  /** A backup server: sent traffic only when every other server is down. Absent when unknown. */
  backup?: boolean;
}

export interface Balancer {
  readonly label: string;
  /** Stop sending new connections to a server; open ones go on. */
  drain(server: string): Promise<void>;
  /** Send connections to a server again. */
  enable(server: string): Promise<void>;
  state(server: string): Promise<ServerState>;
  /** Resolves when the server has no session open, rejects (UPLIFT_BALANCER_DRAIN_TIMEOUT) after the timeout. */
  waitDrained(server: string, timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}
