// Where a running skiff answers, read the way skiff's own bin/start_all reads it:
// the port it wrote to var/run/skiff.port, http.host and tls.enabled from conf/skiff.properties.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

function readProperties(file) {
  const m = new Map();
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return m;
  }
  for (const line of text.split(/\r?\n/)) {
    const t = line.trim();
    if (t === '' || t.startsWith('#') || t.startsWith('!')) continue;
    const i = t.search(/[=:]/);
    if (i > 0) m.set(t.slice(0, i).trim(), t.slice(i + 1).trim());
  }
  return m;
}

/**
 * { url, tls, ca } of the installation's server, or { problem } when it names no port yet.
 * With TLS, the server's own certificate (tls.cert) is the one trusted: a probe must not
 * accept any certificate, and skiff installations use their own.
 */
export function skiffEndpoint(install) {
  let port;
  try {
    port = Number(readFileSync(join(install, 'var/run/skiff.port'), 'utf8').trim());
  } catch {
    return { problem: 'var/run/skiff.port does not exist yet' };
  }
  if (!Number.isInteger(port) || port <= 0) return { problem: 'var/run/skiff.port names no port' };
  const props = readProperties(join(install, 'conf/skiff.properties'));
  const host = props.get('http.host') || '127.0.0.1';
  const tls = props.get('tls.enabled') === 'true';
  const ca = tls ? readFileSync(join(install, props.get('tls.cert') || 'conf/tls/server.crt')) : undefined;
  return { url: `${tls ? 'https' : 'http'}://${host}:${port}`, tls, ca };
}

/** One request; resolves { status, body } or rejects. */
export async function request(endpoint, path, { method = 'GET', headers, body, timeoutMs = 5000 } = {}) {
  const mod = endpoint.tls ? await import('node:https') : await import('node:http');
  return new Promise((resolve, reject) => {
    const req = mod.request(
      `${endpoint.url}${path}`,
      {
        method,
        headers,
        timeout: timeoutMs,
        ...(endpoint.tls ? { ca: endpoint.ca, checkServerIdentity: () => undefined } : {}),
      },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}
