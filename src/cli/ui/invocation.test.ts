import { describe, expect, it } from 'vitest';
import { invocationPrefix, withInvocation } from './invocation.ts';

describe('invocationPrefix', () => {
  it.each([
    [
      'npx (npm_command=exec)',
      { npm_command: 'exec' },
      '/p/node_modules/.bin/uplift',
      'npx uplift',
    ],
    ['a project bin run by path', {}, '/p/node_modules/.bin/uplift', 'npx uplift'],
    [
      'a global install on the PATH',
      { PATH: '/usr/bin:/usr/local/bin' },
      '/usr/local/bin/uplift',
      'uplift',
    ],
    ['a bin link off the PATH', { PATH: '/usr/bin' }, '/opt/x/uplift', '/opt/x/uplift'],
    [
      'a checkout, from its root',
      { npm_command: 'run-script' },
      '/p/dist/cli/main.js',
      'node dist/cli/main.js',
    ],
    ['a checkout, from elsewhere', {}, '/q/dist/cli/main.js', 'node /q/dist/cli/main.js'],
  ])('%s', (_, env, script, prefix) => {
    expect(invocationPrefix({ env, script, cwd: '/p' })).toBe(prefix);
  });
});

describe('withInvocation', () => {
  const commands = ['plan', 'paths', 'rollback'];

  it('rewrites uplift commands and nothing else', () => {
    const text =
      'run uplift paths; see .uplift/sample and `uplift rollback --install x`; uplift is here; npx uplift plan';

    expect(withInvocation(text, 'npx uplift', commands)).toBe(
      'run npx uplift paths; see .uplift/sample and `npx uplift rollback --install x`; uplift is here; npx uplift plan',
    );
    expect(withInvocation(text, 'uplift', commands)).toBe(text);
  });
});
