import { ExitCode } from '../../errors/index.ts';
import { formatBytes } from '../../util/index.ts';
import { renderVendorPackReport, verifyVendorPack } from '../../vendor-pack/index.ts';
import type { CommandResult } from '../types.ts';
import type { ProgressIo } from './backup.ts';

export interface VendorPackVerifyOptions {
  profile?: string;
  catalog?: string;
  platform?: string;
  installed?: string;
  /** true: always show progress; false: never; undefined: when standard error is a terminal. */
  progress?: boolean;
}

/** `uplift vendor-pack verify FILE`: checks a vendor's own pack before it is unzipped or applied. */
export async function handler(
  file: string,
  opts: VendorPackVerifyOptions,
  io: ProgressIo,
): Promise<CommandResult> {
  const show = opts.progress ?? io.stderrIsTty;
  const started = performance.now();
  const report = await verifyVendorPack(file, {
    profile: opts.profile,
    catalogFile: opts.catalog,
    platform: opts.platform,
    installed: opts.installed,
    onProgress: show
      ? (bytes, total) => {
          const seconds = Math.max((performance.now() - started) / 1000, 0.001);
          const line = `hashing ${formatBytes(bytes)}/${formatBytes(total)}  ${(bytes / 1_048_576 / seconds).toFixed(0)} MiB/s`;
          io.stderr(
            io.stderrIsTty ? `\r\u001b[K${line}${bytes >= total ? '\n' : ''}` : `${line}\n`,
          );
        }
      : undefined,
  });
  return { data: report, text: renderVendorPackReport(report), exitCode: ExitCode.ok };
}
