import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectFacts } from '../../src/detect/index.ts';
import { loadProfile } from '../../src/profile/index.ts';
import { repoRoot, runCliProcess } from '../util/run-cli.ts';

/** The built CLI on the illustrative SecureTransport installation (test/fixtures/securetransport-install). */
const install = join(repoRoot, 'test/fixtures/securetransport-install/SecureTransport');

describe('uplift facts and plan on the documented SecureTransport layout', () => {
  it('facts --json prints the same facts as the API', async () => {
    const profile = await loadProfile('securetransport');

    const res = runCliProcess(['facts', '--install', install, '--json']);

    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout)).toStrictEqual(await detectFacts(profile, install));
  });

  it('the text view shows the leftover pid files and the Tomcat connector', () => {
    const res = runCliProcess(['facts', '--install', install]);

    expect(res.code).toBe(0);
    expect(res.stdout).toContain('securetransport 5.3.6 Patch 2');
    expect(res.stdout).toMatch(/tm\s+leftover pid file \(pid 4194309 not running\)/);
    expect(res.stdout).toMatch(/tomcatConnector\s+8009/);
    expect(res.stdout).toContain('no vendor manifest');
    // The facts the invented stock java.security lists decided are named, with the reason.
    expect(res.stdout.replace(/\s+/g, ' ')).toContain(
      '[illustrative] security.javaSecurityCustomized: the 5.5 documents do not give the stock java.security lists',
    );
  });

  it('plan --install plans from the version file and applies the java.security action', () => {
    const res = runCliProcess(['plan', '--install', install, '--to', '5.5 GA', '--json']);

    expect(res.code).toBe(0);
    const plan = JSON.parse(res.stdout);
    expect(plan.from).toBe('5.3.6 Patch 2');
    expect(plan.profile).toBe('securetransport');
    const javaSecurity = plan.incompatibilities.find(
      (i: { id: string }) => i.id === 'java-security-disabled-algorithms',
    );
    expect(javaSecurity.outcome).toBe('applies');
    expect(plan.customizedFiles).toBeUndefined();
  });

  it('should error and not write if the vendor manifest given does not exist', () => {
    const res = runCliProcess([
      'facts',
      '--install',
      install,
      '--vendor-manifest',
      join(install, 'no-such-manifest.json'),
      '--json',
    ]);

    expect(res.code).toBe(2);
    expect(JSON.parse(res.stdout).error.code).toBe('UPLIFT_FILE_NOT_FOUND');
  });
});
