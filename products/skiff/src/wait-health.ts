import { readFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';
import { join, resolve } from 'node:path';
import { isProcessRunning } from './process-state.ts';
import { readProperties } from './settings.ts';

// `node lib/wait-health.js PID TIMEOUT_SECONDS`: bin/start_all's wait until /health answers.
const home = resolve(import.meta.dirname, '..');
const pid = Number(process.argv[2]);
const deadline = Date.now() + Number(process.argv[3] ?? 30) * 1000;
const props = readProperties(join(home, 'conf/skiff.properties'));
const tls = props.get('tls.enabled') === 'true';
const host = props.get('http.host') || '127.0.0.1';

function readPort(): number | undefined {
  try {
    return Number(readFileSync(join(home, 'var/run/skiff.port'), 'utf8').trim());
  } catch {
    return undefined;
  }
}

function probe(url: string): Promise<string | undefined> {
  return new Promise((done) => {
    // The probe only asks whether this server is up; the certificate is the operator's business.
    const req = (tls ? httpsGet : httpGet)(
      url,
      { timeout: 2000, rejectUnauthorized: false },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => {
          body += c.toString();
        });
        res.on('end', () => done(res.statusCode === 200 ? body : undefined));
      },
    );
    req.on('error', () => done(undefined));
    req.on('timeout', () => req.destroy());
  });
}

let outcome = 1;
while (Date.now() < deadline) {
  if (!isProcessRunning(pid)) {
    console.error(`skiff (pid ${pid}) exited while starting; see var/log/server.log`);
    outcome = 3;
    break;
  }
  const port = readPort();
  const url = port ? `${tls ? 'https' : 'http'}://${host}:${port}` : undefined;
  const body = url ? await probe(`${url}/health`) : undefined;
  if (url && body) {
    const { version } = JSON.parse(body) as { version: string };
    console.log(`skiff ${version} is up at ${url} (pid ${pid})`);
    outcome = 0;
    break;
  }
  await new Promise((r) => setTimeout(r, 100));
}
if (outcome === 1) console.error(`skiff did not answer on /health in time; see var/log/server.log`);
process.exitCode = outcome;
