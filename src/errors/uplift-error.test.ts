import { describe, expect, it } from 'vitest';
import { codes, ExitCode, type UpliftCode, UpliftError } from './index.ts';

const allCodes = Object.keys(codes) as UpliftCode[];
const beforeAnyWrite = new Set<number>([ExitCode.badInput, ExitCode.blocked, ExitCode.locked]);

describe('UpliftError: unchanged', () => {
  it.each(allCodes)(
    '%s promises "nothing changed" by default only when its exit code is 2, 3 or 4',
    (code) => {
      const err = new UpliftError(code, 'm');

      expect(err.unchanged).toBe(beforeAnyWrite.has(codes[code]));
    },
  );

  it('never promises it for a run left incomplete (exit 5), unless the thrower says so', () => {
    const failed = new UpliftError('UPLIFT_APPLY_ROLLBACK_FAILED', 'm');
    const known = new UpliftError('UPLIFT_APPLY_ROLLBACK_FAILED', 'm', { unchanged: true });

    expect(failed.exitCode).toBe(ExitCode.incomplete);
    expect(failed.unchanged).toBe(false);
    expect(known.unchanged).toBe(true);
  });

  it('takes an explicit unchanged: false over the default of a bad-input code', () => {
    const err = new UpliftError('UPLIFT_USAGE', 'm', { unchanged: false });

    expect(err.unchanged).toBe(false);
  });

  it('follows the exit code the thrower gives, not the code’s usual one', () => {
    const locked = new UpliftError('UPLIFT_RESTORE_INCOMPLETE', 'm', { exitCode: ExitCode.locked });
    const failed = new UpliftError('UPLIFT_USAGE', 'm', { exitCode: ExitCode.failed });

    expect(locked.unchanged).toBe(true);
    expect(failed.unchanged).toBe(false);
  });

  it('carries state and next into --json', () => {
    const err = new UpliftError('UPLIFT_APPLY_ROLLBACK_FAILED', 'rollback of hop 2 failed', {
      state: 'the new files are in place and the service is stopped',
      next: 'uplift rollback --install /opt/skiff',
    });

    expect(err.toJSON()).toMatchObject({
      code: 'UPLIFT_APPLY_ROLLBACK_FAILED',
      unchanged: false,
      state: 'the new files are in place and the service is stopped',
      next: 'uplift rollback --install /opt/skiff',
    });
  });
});
