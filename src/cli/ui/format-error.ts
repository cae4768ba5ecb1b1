import pc from 'picocolors';
import { formatLocation, UpliftError } from '../../errors/index.ts';

/**
 * The operator-facing rendering of an error: code, place, message, hint, and then what is true of
 * the installation: the promise that nothing changed, or (when the error knows) the state it may
 * be in and the command that continues. An error that knows neither claims nothing.
 */
export function formatError(err: UpliftError): string {
  const lines: string[] = [];
  const where = err.location ? `  ${formatLocation(err.location)}` : '';
  lines.push(`${pc.red(pc.bold('error'))} ${pc.bold(err.code)}${where}`);
  lines.push(`  ${err.message}`);
  for (const d of err.details.slice(1, 20)) {
    const at = d.location ? `${formatLocation(d.location)}  ` : '';
    lines.push(`  ${pc.dim(at)}${d.message}`);
  }
  if (err.details.length > 20) lines.push(`  … and ${err.details.length - 20} more`);
  // A hint's command stands on a line of its own (docs/output.md), indented under the hint.
  if (err.hint) lines.push(`  ${pc.cyan('hint:')} ${err.hint.replaceAll('\n', '\n    ')}`);
  if (err.unchanged) {
    lines.push('  Nothing was changed.');
    // This command changed nothing, but the installation may still be mid-way (an earlier run).
    if (err.state !== undefined) lines.push(`  ${pc.cyan('state:')} ${err.state}`);
  } else if (err.state !== undefined || err.next !== undefined)
    lines.push(
      err.state === undefined
        ? '  The installation may have been changed.'
        : `  The installation may have been changed: ${err.state}`,
    );
  if (err.next !== undefined)
    lines.push(`  ${pc.cyan('next:')} ${err.next.replaceAll('\n', '\n    ')}`);
  return `${lines.join('\n')}\n`;
}

/** An unexpected error: say it is a bug and give what a report needs. */
export function formatInternalError(err: unknown, version: string): string {
  const stack = err instanceof Error ? (err.stack ?? err.message) : String(err);
  return [
    `${pc.red(pc.bold('internal error'))}: this is a bug in uplift ${version} (node ${process.version}, ${process.platform}-${process.arch}).`,
    'Please report it with the command you ran and this trace:',
    stack,
    '',
  ].join('\n');
}

export { UpliftError };
