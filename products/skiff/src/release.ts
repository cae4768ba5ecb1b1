import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * What makes one skiff version behave as that version. The release builder computes it from the
 * version and writes it to `lib/release.json`; the server reads nothing else to decide.
 */
export interface ReleaseFeatures {
  /** `transfers` before 5.3.3 GA, `file_tracking` from 5.3.3 GA (different columns). */
  trackingTable: 'transfers' | 'file_tracking';
  /** Where the scheduler's jobs come from: `conf/crontab` before 5.5 GA, `conf/scheduler.yaml` after. */
  jobsFrom: 'crontab' | 'scheduler.yaml';
  /**
   * What an outbound transfer does when the configured proxy is unreachable: before 5.5 GA it
   * always connects directly; from 5.5 GA only when `Direct.Connection.When.Proxy.Down=true`.
   */
  proxyDirectFallback: 'always' | 'when-enabled';
  /** From 5.4 GA the scheduler runs as its own process with its own heap (SCHEDULER_HEAP_MB). */
  schedulerProcess: boolean;
  /** `conf/start-script.conf` exists from 5.3.0 GA. */
  startScriptConf: boolean;
  /** From 5.3.6 GA an upload may carry `X-Skiff-Sha256`; a mismatch rejects the upload. */
  uploadChecksum: boolean;
  /** From 5.5 GA `/healthz` answers beside `/health`. */
  healthz: boolean;
  /** 5.2.1 SP9 only: per-folder quotas, a table no later release reads. */
  folderQuotas: boolean;
  tls: {
    /** Used when `tls.protocols` is not set in conf/security.properties. */
    protocols: string[];
    /** Used when `tls.ciphers` is not set. */
    ciphers: string;
    /** Protocols this version refuses to start with. */
    unsupportedProtocols: string[];
  };
}

/** The content of `lib/release.json`. */
export interface ReleaseInfo {
  product: 'skiff';
  version: string;
  date: string;
  features: ReleaseFeatures;
}

export function readReleaseInfo(home: string): ReleaseInfo {
  return JSON.parse(readFileSync(join(home, 'lib/release.json'), 'utf8')) as ReleaseInfo;
}
