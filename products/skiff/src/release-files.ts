import type { ReleaseInfo } from './release.ts';

/**
 * The server modules copied from products/skiff/dist into a release's lib/. The other modules
 * of products/skiff (release builder, installer, sample) are uplift's, not the product's.
 */
export function libModules(release: ReleaseInfo): string[] {
  return [
    'accounts',
    'cron',
    'file-store',
    'http-server',
    'process-state',
    'proxy',
    'release',
    ...(release.features.schedulerProcess ? ['run-scheduler'] : []),
    'runtime',
    'scheduler',
    'server',
    'settings',
    'tracking',
    'wait-health',
    'xferlog',
  ];
}

const shellHelpers = `SKIFF_HOME=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd) || exit 1
cd "$SKIFF_HOME" || exit 1

# Whether a pid runs. A zombie (exited, never reaped: some containers' init reaps nothing) still
# answers kill -0, so on Linux the state letter in /proc decides.
is_running() {
  [ -n "$1" ] && kill -0 "$1" 2>/dev/null || return 1
  if [ -r "/proc/$1/stat" ]; then
    case $(sed 's/.*) //' "/proc/$1/stat") in Z*|X*) return 1 ;; esac
  fi
  return 0
}
`;

function startAll(r: ReleaseInfo): string {
  const { schedulerProcess } = r.features;
  return `#!/bin/sh
# Starts skiff ${r.version} in the background and waits until it answers on /health.
# Settings come from conf/start-script.conf (HEAP_MB, HTTP_PORT${schedulerProcess ? ', SCHEDULER_HEAP_MB' : ''}, START_TIMEOUT).
# Exit status: 0 when skiff is up (or already running), non-zero when it did not start.
set -u
${shellHelpers}
# The last KEY=VALUE line for a key, without comments and surrounding blanks (SKF-523).
conf_value() {
  [ -f conf/start-script.conf ] || return 0
  sed -n "s/^[[:space:]]*$1[[:space:]]*=\\([^#]*\\).*$/\\1/p" conf/start-script.conf |
    tail -n 1 | sed 's/^[[:space:]]*//; s/[[:space:]]*$//'
}
# A string value of .skiff/runtime.json, written by the installer one key per line.
runtime_value() {
  sed -n "s/^ *\\"$1\\": *\\"\\(.*\\)\\",\\{0,1\\}$/\\1/p" .skiff/runtime.json 2>/dev/null
}
number() {
  case $2 in
    '' | *[!0-9]*)
      echo "start_all: $1 in conf/start-script.conf must be a whole number, got '$2'" >&2
      exit 2
      ;;
  esac
}

NODE=$(runtime_value node)
[ -n "$NODE" ] || NODE=node
# The server loads better-sqlite3 and yaml from here (see lib/runtime.js).
NODE_PATH=$(runtime_value nodeModules)
export NODE_PATH

HEAP_MB=$(conf_value HEAP_MB)
HEAP_MB=\${HEAP_MB:-512}
number HEAP_MB "$HEAP_MB"
HTTP_PORT=$(conf_value HTTP_PORT)
if [ -n "$HTTP_PORT" ]; then
  number HTTP_PORT "$HTTP_PORT"
  SKIFF_HTTP_PORT=$HTTP_PORT
  export SKIFF_HTTP_PORT
fi
START_TIMEOUT=$(conf_value START_TIMEOUT)
START_TIMEOUT=\${START_TIMEOUT:-30}
number START_TIMEOUT "$START_TIMEOUT"
${
  schedulerProcess
    ? `SCHEDULER_HEAP_MB=$(conf_value SCHEDULER_HEAP_MB)
SCHEDULER_HEAP_MB=\${SCHEDULER_HEAP_MB:-256}
number SCHEDULER_HEAP_MB "$SCHEDULER_HEAP_MB"
`
    : ''
}
mkdir -p var/run var/log var/tmp var/db/hist data

if [ -f var/run/skiff.pid ] && is_running "$(cat var/run/skiff.pid)"; then
  echo "skiff is already running (pid $(cat var/run/skiff.pid))"
  exit 0
fi
rm -f var/run/skiff.pid var/run/skiff.port

nohup "$NODE" --max-old-space-size="$HEAP_MB" lib/server.js >>var/log/server.log 2>&1 </dev/null &
pid=$!
echo "$pid" >var/run/skiff.pid

if ! "$NODE" lib/wait-health.js "$pid" "$START_TIMEOUT"; then
  is_running "$pid" && kill -TERM "$pid" 2>/dev/null
  rm -f var/run/skiff.pid var/run/skiff.port
  tail -n 5 var/log/server.log >&2
  exit 1
fi
${
  schedulerProcess
    ? `
if ! { [ -f var/run/scheduler.pid ] && is_running "$(cat var/run/scheduler.pid)"; }; then
  nohup "$NODE" --max-old-space-size="$SCHEDULER_HEAP_MB" lib/run-scheduler.js >>var/log/scheduler.log 2>&1 </dev/null &
  echo "$!" >var/run/scheduler.pid
fi
`
    : ''
}`;
}

function stopAll(r: ReleaseInfo): string {
  return `#!/bin/sh
# Stops skiff ${r.version}: SIGTERM, then SIGKILL after STOP_TIMEOUT seconds (default 20).
# Removes the pid files. Exit status 0 when nothing of skiff runs any more.
set -u
${shellHelpers}
STOP_TIMEOUT=\${STOP_TIMEOUT:-20}

for pidfile in var/run/scheduler.pid var/run/skiff.pid; do
  [ -f "$pidfile" ] || continue
  pid=$(cat "$pidfile")
  if is_running "$pid"; then
    kill -TERM "$pid"
    tenths=0
    while is_running "$pid"; do
      if [ "$tenths" -ge $((STOP_TIMEOUT * 10)) ]; then
        echo "stop_all: pid $pid did not stop within \${STOP_TIMEOUT}s; killing it" >&2
        kill -KILL "$pid" 2>/dev/null
        break
      fi
      sleep 0.1 2>/dev/null || sleep 1
      tenths=$((tenths + 1))
    done
  fi
  rm -f "$pidfile"
done
rm -f var/run/skiff.port
echo "skiff stopped"
`;
}

function skiffProperties(r: ReleaseInfo): string {
  const direct =
    r.features.proxyDirectFallback === 'when-enabled'
      ? `# When the proxy is unreachable, outbound transfers connect directly only if this is true.
Direct.Connection.When.Proxy.Down=false
`
      : `# When the proxy is unreachable, outbound transfers connect directly.
`;
  return `# skiff ${r.version} server settings. Restart skiff (bin/stop_all, bin/start_all) after a change.
http.host=127.0.0.1
# 0 picks a free port at every start; the port in use is written to var/run/skiff.port.
http.port=0
# HTTPS with the protocols and ciphers of conf/security.properties.
tls.enabled=false
tls.cert=conf/tls/server.crt
tls.key=conf/tls/server.key
# sqlite: var/db/skiff.db
db.type=sqlite
# Outbound transfers (POST /send) go through this HTTP proxy when proxy.host is set.
proxy.host=
proxy.port=
${direct}`;
}

function securityProperties(r: ReleaseInfo): string {
  // Commented out: unset keys mean "this version's defaults", so a fresh installation has no
  // custom cipher set and an upgrade brings the new version's defaults with it.
  return `# TLS settings of the HTTPS listener (tls.enabled=true in conf/skiff.properties).
# Protocols, comma-separated; skiff accepts the range from the lowest to the highest listed.
# Default of skiff ${r.version}:
#tls.protocols=${r.features.tls.protocols.join(',')}
# Cipher suites in OpenSSL notation, most preferred first. Default of skiff ${r.version}:
#tls.ciphers=${r.features.tls.ciphers}
`;
}

function startScriptConf(r: ReleaseInfo): string {
  return `# Settings of bin/start_all, one KEY=VALUE per line; lines starting with # are comments.
# Heap of the server process, in MB.
HEAP_MB=512
${
  r.features.schedulerProcess
    ? `# Heap of the scheduler process, in MB.
SCHEDULER_HEAP_MB=256
`
    : ''
}# When set, overrides http.port of conf/skiff.properties.
HTTP_PORT=
# Seconds bin/start_all waits for /health before it gives up.
START_TIMEOUT=30
`;
}

const crontab = `# Jobs of skiff's built-in cron emulation, in crontab(5) format:
#   minute hour day-of-month month day-of-week command
# Commands: <install>/bin/skiff-purge --days N     deletes uploads older than N days
#           <install>/bin/skiff-archive --days N   moves file tracking older than N days to var/db/hist/
# Example: 15 2 * * * /opt/skiff/bin/skiff-purge --days 30
`;

const schedulerYaml = `# Jobs of skiff's scheduler (conf/crontab is no longer read).
# Each job: name, type (purge: delete uploads older than \`days\`; archive: move file tracking
# older than \`days\` to var/db/hist/), schedule (a cron expression), days.
# Example:
#   - name: nightly-purge
#     type: purge
#     schedule: "15 2 * * *"
#     days: 30
jobs: []
`;

/** Every file of a release tree except lib/*.js, with its mode. */
export function releaseFiles(r: ReleaseInfo): Map<string, { content: string; mode: number }> {
  const files = new Map<string, { content: string; mode: number }>();
  const add = (path: string, content: string, mode = 0o644) => files.set(path, { content, mode });
  add('version', `${r.version}\n`);
  add('bin/start_all', startAll(r), 0o755);
  add('bin/stop_all', stopAll(r), 0o755);
  add('conf/skiff.properties', skiffProperties(r));
  add('conf/security.properties', securityProperties(r));
  add('conf/accounts.json', `${JSON.stringify({ accounts: [] }, null, 2)}\n`);
  if (r.features.startScriptConf) add('conf/start-script.conf', startScriptConf(r));
  if (r.features.jobsFrom === 'crontab') add('conf/crontab', crontab);
  else add('conf/scheduler.yaml', schedulerYaml);
  add('lib/package.json', `${JSON.stringify({ type: 'module', private: true }, null, 2)}\n`);
  add('lib/release.json', `${JSON.stringify(r, null, 2)}\n`);
  return files;
}
