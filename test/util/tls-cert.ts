import { execFileSync } from 'node:child_process';

/**
 * A self-signed EC certificate for localhost and 127.0.0.1 (openssl req -x509), valid `days`:
 * its private key written to `keyOut`, the certificate (PEM) to `certOut`.
 */
export function selfSignedCert(keyOut: string, certOut: string, days = 1): void {
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-days',
      String(days),
      '-keyout',
      keyOut,
      '-out',
      certOut,
    ],
    { stdio: 'ignore' },
  );
}
