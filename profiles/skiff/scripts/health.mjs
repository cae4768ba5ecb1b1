// skiff's readiness probe: `node health.mjs INSTALL VERSION` exits 0 when GET /health answers
// 200 with that version, over HTTPS (trusting the installation's own certificate) when
// tls.enabled=true. It prints what it saw either way.
import { request, skiffEndpoint } from './skiff-url.mjs';

const [install, version] = process.argv.slice(2);
const endpoint = skiffEndpoint(install);
if (endpoint.problem) {
  console.log(endpoint.problem);
  process.exit(1);
}
try {
  const r = await request(endpoint, '/health', { timeoutMs: 3000 });
  const health = JSON.parse(r.body.toString('utf8'));
  if (r.status === 200 && (!version || health.version === version)) {
    console.log(`${endpoint.url}/health: ${health.version}`);
    process.exit(0);
  }
  console.log(`${endpoint.url}/health answered ${r.status} with version ${health.version ?? '(none)'}, expected ${version}`);
} catch (err) {
  console.log(`${endpoint.url}/health: ${err.message}`);
}
process.exit(1);
