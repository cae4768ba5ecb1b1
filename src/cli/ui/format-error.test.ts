import { stripVTControlCharacters } from 'node:util';
import { describe, expect, it } from 'vitest';
import { UpliftError } from '../../errors/index.ts';
import { formatError } from './format-error.ts';

const render = (err: UpliftError) => stripVTControlCharacters(formatError(err));

describe('formatError: what it says about the installation', () => {
  it('bad input: the promise that nothing changed', () => {
    const err = new UpliftError('UPLIFT_USAGE', '--to "x" is not a version', {
      hint: 'Write a version from the catalog: --to "5.5 GA".',
    });

    expect(render(err)).toMatchInlineSnapshot(`
      "error UPLIFT_USAGE
        --to "x" is not a version
        hint: Write a version from the catalog: --to "5.5 GA".
        Nothing was changed.
      "
    `);
  });

  it('a failure that does not know: no claim either way', () => {
    const err = new UpliftError('UPLIFT_BACKUP_WRITE_FAILED', 'cannot write /b.tar.gz: ENOSPC', {
      hint: 'Free space on the filesystem of /b.tar.gz.',
    });

    expect(render(err)).toMatchInlineSnapshot(`
      "error UPLIFT_BACKUP_WRITE_FAILED
        cannot write /b.tar.gz: ENOSPC
        hint: Free space on the filesystem of /b.tar.gz.
      "
    `);
  });

  it('a failure that knows nothing changed (a verify): the promise', () => {
    const err = new UpliftError('UPLIFT_FETCH_MISMATCH', 'p.upk: SHA-256 differs', {
      unchanged: true,
    });

    expect(render(err)).toContain('  Nothing was changed.\n');
  });

  it('an incomplete run: the state the installation is in and the command that continues', () => {
    const err = new UpliftError('UPLIFT_APPLY_ROLLBACK_FAILED', 'the rollback of hop 2 failed', {
      hint: 'Look at the cause below, fix it, then run the command named.',
      state: 'the old files are back but the service is stopped',
      next: 'uplift rollback --install /opt/skiff',
    });

    expect(render(err)).toMatchInlineSnapshot(`
      "error UPLIFT_APPLY_ROLLBACK_FAILED
        the rollback of hop 2 failed
        hint: Look at the cause below, fix it, then run the command named.
        The installation may have been changed: the old files are back but the service is stopped
        next: uplift rollback --install /opt/skiff
      "
    `);
  });

  it('an incomplete run that names only the next command', () => {
    const err = new UpliftError('UPLIFT_APPLY_INCOMPLETE', 'a run is incomplete', {
      next: 'uplift resume --install /opt/skiff',
    });

    expect(render(err)).toContain(
      '  The installation may have been changed.\n  next: uplift resume --install /opt/skiff\n',
    );
  });

  it('a refusal because an earlier run is incomplete: nothing changed now, and what continues', () => {
    const err = new UpliftError('UPLIFT_APPLY_INCOMPLETE', 'a run on /opt/skiff did not finish', {
      unchanged: true,
      state: 'hop 2 stopped after its switch',
      next: 'uplift resume --install /opt/skiff',
    });

    expect(render(err)).toMatchInlineSnapshot(`
      "error UPLIFT_APPLY_INCOMPLETE
        a run on /opt/skiff did not finish
        Nothing was changed.
        state: hop 2 stopped after its switch
        next: uplift resume --install /opt/skiff
      "
    `);
  });

  it('an incomplete run that knows neither: never "Nothing was changed."', () => {
    const err = new UpliftError('UPLIFT_APPLY_ROLLBACK_FAILED', 'the rollback of hop 2 failed');

    expect(render(err)).not.toMatch(/Nothing was changed|may have been changed/);
  });
});
