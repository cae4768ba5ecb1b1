import { describe, expect, it } from 'vitest';
import { compileGlob } from './glob.ts';

describe('compileGlob', () => {
  it.each`
    glob                  | path                         | matches
    ${'var/**'}           | ${'var/run/skiff.pid'}       | ${true}
    ${'var/**'}           | ${'var'}                     | ${false}
    ${'var/**'}           | ${'variables/x'}             | ${false}
    ${'var/run/*.pid'}    | ${'var/run/skiff.pid'}       | ${true}
    ${'var/run/*.pid'}    | ${'var/run/old/skiff.pid'}   | ${false}
    ${'bin/start_*'}      | ${'bin/start_all'}           | ${true}
    ${'bin/start_*'}      | ${'bin/stop_all'}            | ${false}
    ${'**/*.log'}         | ${'server.log'}              | ${true}
    ${'**/*.log'}         | ${'tomcat/admin/logs/a.log'} | ${true}
    ${'tomcat/*/logs/**'} | ${'tomcat/admin/logs/a.log'} | ${true}
    ${'tomcat/*/logs/**'} | ${'tomcat/a/b/logs/a.log'}   | ${false}
    ${'conf/a?.xml'}      | ${'conf/ab.xml'}             | ${true}
    ${'conf/a?.xml'}      | ${'conf/a/.xml'}             | ${false}
    ${'conf/(x).txt'}     | ${'conf/(x).txt'}            | ${true}
    ${'.skiff/**'}        | ${'.skiff/manifest.json'}    | ${true}
    ${'.skiff/**'}        | ${'xskiff/manifest.json'}    | ${false}
  `('$glob matches $path: $matches', ({ glob, path, matches }) => {
    expect(compileGlob(glob).matches(path)).toBe(matches);
  });
});
