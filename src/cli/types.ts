import type { ExitCode } from '../errors/index.ts';

/** What a command handler returns; handlers never print, so text and JSON render the same result. */
export interface CommandResult {
  /** The machine-readable result, printed under `--json` / `--format json`. */
  data: unknown;
  /** The view for people (or Markdown when asked). */
  text: string;
  exitCode: ExitCode;
  /** Printed on standard error (`warning: …`) whatever the format; --json results repeat them in `data`. */
  warnings?: string[];
}

/** Where the CLI writes; tests pass their own. */
export interface CliIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  /** True when stdout is a terminal, so colour and width apply. */
  isTty: boolean;
  /** The terminal's width in columns, when stdout is one; text wraps to 80 otherwise. */
  columns?: number;
  /** How to run uplift again as it was run (`npx uplift`, `uplift`, `node dist/cli/main.js`); default `uplift`. */
  invokedAs?: string;
}
