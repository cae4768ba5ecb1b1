import { describe, expect, it } from 'vitest';
import { compileGlob, compileKeyPattern, matchesAnyGlob } from './glob.ts';

describe('compileGlob', () => {
  it.each`
    glob                   | path                         | matches
    ${'var/**'}            | ${'var/run/skiff.pid'}       | ${true}
    ${'var/**'}            | ${'var'}                     | ${true}
    ${'var/**'}            | ${'variables/x'}             | ${false}
    ${'var/**'}            | ${'var2'}                    | ${false}
    ${'var/run/*.pid'}     | ${'var/run/skiff.pid'}       | ${true}
    ${'var/run/*.pid'}     | ${'var/run/old/skiff.pid'}   | ${false}
    ${'bin/start_*'}       | ${'bin/start_all'}           | ${true}
    ${'bin/start_*'}       | ${'bin/stop_all'}            | ${false}
    ${'**/*.log'}          | ${'server.log'}              | ${true}
    ${'**/*.log'}          | ${'tomcat/admin/logs/a.log'} | ${true}
    ${'tomcat/*/logs/**'}  | ${'tomcat/admin/logs/a.log'} | ${true}
    ${'tomcat/*/logs/**'}  | ${'tomcat/a/b/logs/a.log'}   | ${false}
    ${'conf/a?.xml'}       | ${'conf/ab.xml'}             | ${true}
    ${'conf/a?.xml'}       | ${'conf/a/.xml'}             | ${false}
    ${'conf/(x).txt'}      | ${'conf/(x).txt'}            | ${true}
    ${'.skiff/**'}         | ${'.skiff/manifest.json'}    | ${true}
    ${'.skiff/**'}         | ${'xskiff/manifest.json'}    | ${false}
    ${'data/**'}           | ${'data/.lock'}              | ${true}
    ${'conf/*.{yml,yaml}'} | ${'conf/a.yaml'}             | ${true}
    ${'data/db.sqlite'}    | ${'data/db.sqlite'}          | ${true}
    ${'data/db.sqlite'}    | ${'data/db.sqlite-wal'}      | ${false}
  `('$glob matches $path: $matches', ({ glob, path, matches }) => {
    expect(compileGlob(glob).matches(path)).toBe(matches);
  });

  it('compiles a glob once', () => {
    expect(compileGlob('logs/**')).toBe(compileGlob('logs/**'));
  });

  it('matchesAnyGlob takes compiled globs and source text', () => {
    expect(matchesAnyGlob(['a/**', compileGlob('b/*.txt')], 'b/x.txt')).toBe(true);
    expect(matchesAnyGlob(['a/**'], 'c')).toBe(false);
  });
});

describe('compileKeyPattern', () => {
  it.each`
    pattern       | key             | matches
    ${'server.*'} | ${'server.a.b'} | ${true}
    ${'/a/*'}     | ${'/a/b/c'}     | ${true}
    ${'a?'}       | ${'ab'}         | ${false}
    ${'a?'}       | ${'a?'}         | ${true}
    ${'x'}        | ${'xy'}         | ${false}
  `('$pattern matches $key: $matches', ({ pattern, key, matches }) => {
    expect(compileKeyPattern(pattern).matches(key)).toBe(matches);
  });
});
