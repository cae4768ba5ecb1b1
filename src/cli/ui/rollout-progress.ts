import type { RolloutEvent } from '../../rollout/index.ts';

/**
 * The live view of a rollout on standard error: on a terminal one line per node, rewritten in
 * place as its steps start and end; otherwise one plain line per event (logs keep every line).
 */
export function rolloutProgress(io: { stderr: (s: string) => void; stderrIsTty: boolean }) {
  const lines: string[] = [];
  const rows = new Map<string, number>();
  let drawn = 0;

  const redraw = () => {
    // Back to the first line of the view, then every line again, each cleared first.
    let out = drawn > 0 ? `\u001b[${drawn}F` : '';
    for (const l of lines) out += `\u001b[2K${l}\n`;
    drawn = lines.length;
    io.stderr(out);
  };

  return (e: RolloutEvent): void => {
    const line = describe(e);
    if (!io.stderrIsTty) {
      io.stderr(`${line}\n`);
      return;
    }
    const key = e.type === 'node' ? `${e.deployment}/${e.node}` : `${e.type}:${lines.length}`;
    const at = rows.get(key);
    if (at === undefined) {
      rows.set(key, lines.length);
      lines.push(line);
    } else lines[at] = line;
    redraw();
  };
}

/** One event as a line for people. */
export function describe(e: RolloutEvent): string {
  switch (e.type) {
    case 'node': {
      const extra = [
        e.seconds === undefined ? undefined : `${e.seconds} s`,
        e.version,
        e.code,
      ].filter((x) => x !== undefined);
      return `${e.env}/${e.deployment}/${e.node}: ${e.step} ${e.state}${extra.length > 0 ? ` (${extra.join(', ')})` : ''}`;
    }
    case 'deployment':
      return `${e.env}/${e.deployment}: ${e.state}${e.reason ? ` (${e.reason})` : ''}${e.claimedBy ? ` by ${e.claimedBy}` : ''}`;
    case 'run':
      return `${e.env}: run ${e.runId} ${e.outcome}`;
  }
}
