import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readFile, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import type { Host, InstallFacts, ServiceFact } from './types.ts';
import { walk } from './walk.ts';

/**
 * The few facts the checks need, read straight from an installation laid out as
 * products/skiff/layout.md describes (securetransport shares the `var/run`, `var/db/hist` and
 * `tomcat/` parts). Detection (src/detect) reads far more; this stays thin on purpose, and only
 * what it cannot read (an external database's version) has to come from `--facts` or `--fact`.
 */
export async function gatherFacts(install: string, host: Host): Promise<InstallFacts> {
  const [version, owner, services, customizedFiles, sizes, properties, tomcatConnector] =
    await Promise.all([
      readFile(join(install, 'version'), 'utf8').then(
        (s) => s.trim() || undefined,
        () => undefined,
      ),
      readOwner(install, host),
      readServices(install, host),
      compareWithManifest(install),
      measure(install),
      readProperties(join(install, 'conf/skiff.properties')),
      readTomcatConnectorPort(install),
    ]);
  const facts: InstallFacts = { platform: hostPlatform() };
  if (version !== undefined) facts.version = version;
  if (owner !== undefined) facts.owner = owner;
  facts.services = services;
  if (customizedFiles !== undefined) facts.customizedFiles = customizedFiles;
  facts.data = sizes;
  const ports: NonNullable<InstallFacts['ports']> = {};
  if (tomcatConnector !== undefined) ports.tomcatConnector = tomcatConnector;
  const httpPort = Number(properties.get('http.port'));
  if (properties.has('http.port') && Number.isInteger(httpPort)) ports.http = httpPort;
  facts.ports = ports;
  const dbType = properties.get('db.type');
  if (dbType !== undefined) facts.database = { type: dbType, external: dbType !== 'sqlite' };
  return facts;
}

/** The platform in the catalog's spelling (`linux-x86-64`), so the plan can pick packs. */
function hostPlatform(): NonNullable<InstallFacts['platform']> {
  const arch = process.arch === 'x64' ? 'x86-64' : process.arch;
  const os = process.platform === 'win32' ? 'windows' : process.platform;
  return { os, arch, id: `${os}-${arch}` };
}

async function readOwner(install: string, host: Host): Promise<InstallFacts['owner']> {
  const s = await stat(install).catch(() => undefined);
  if (s === undefined) return undefined;
  const user = await host.userName(s.uid);
  return { uid: s.uid, ...(user === undefined ? {} : { user }), root: s.uid === 0 };
}

/** Pid files in var/run; a pid counts as running only when its process names the installation. */
async function readServices(install: string, host: Host): Promise<ServiceFact[]> {
  const dir = join(install, 'var/run');
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith('.pid'));
  const processes = names.length > 0 ? await host.processes() : [];
  return Promise.all(
    names.sort().map(async (file) => {
      const text = await readFile(join(dir, file), 'utf8').catch(() => '');
      const n = Number(text.trim());
      const pid = /^\d+$/.test(text.trim()) && n > 0 ? n : null;
      const proc = pid === null ? undefined : processes.find((p) => p.pid === pid);
      // Where /proc is not readable, a live pid is all there is to go on.
      const running =
        pid !== null &&
        host.isAlive(pid) &&
        (processes.length === 0 || (proc !== undefined && namesInstall(proc.argv, install)));
      return { name: file.slice(0, -4), pidFile: `var/run/${file}`, pid, running };
    }),
  );
}

/**
 * True when an argument is a path inside the installation (`/opt/skiff/lib/server.js`,
 * `-Dhome=/opt/skiff/conf`). The installation's own path alone does not count: that is how
 * `uplift check --install /opt/skiff` itself names it.
 */
export function namesInstall(argv: readonly string[], install: string): boolean {
  const inside = install.endsWith(sep) ? install : install + sep;
  return argv.some((a) => a.includes(inside) && a !== inside);
}

interface ManifestFile {
  path: string;
  size: number;
  sha256: string;
}

/** Folders that hold the customer's data and uplift's state, never vendor files. */
export const notVendor = ['var', 'data', '.skiff', '.uplift'];

/** Changed, added and removed files against `.skiff/manifest.json`; undefined without one. */
async function compareWithManifest(
  install: string,
): Promise<{ changed: string[]; added: string[]; removed: string[] } | undefined> {
  const text = await readFile(join(install, '.skiff/manifest.json'), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  let files: ManifestFile[];
  try {
    files = (JSON.parse(text) as { files: ManifestFile[] }).files;
    if (!Array.isArray(files)) return undefined;
  } catch {
    return undefined;
  }
  const vendor = new Set(files.map((f) => f.path));
  const changed: string[] = [];
  const removed: string[] = [];
  // A few files at a time: hashing them all at once would open every file of the release.
  for (let i = 0; i < files.length; i += 16) {
    await Promise.all(
      files.slice(i, i + 16).map(async (f) => {
        const s = await lstat(join(install, f.path)).catch(() => undefined);
        if (s === undefined || !s.isFile()) removed.push(f.path);
        else if (s.size !== f.size || (await sha256File(join(install, f.path))) !== f.sha256)
          changed.push(f.path);
      }),
    );
  }
  const added: string[] = [];
  await walk(
    install,
    (rel) => {
      if (!vendor.has(rel)) added.push(rel);
    },
    notVendor,
  );
  return { changed: changed.sort(), added: added.sort(), removed: removed.sort() };
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The installation's size (what a backup copies) and its history folders' file count and size. */
async function measure(install: string): Promise<NonNullable<InstallFacts['data']>> {
  let installBytes = 0;
  let historyFiles = 0;
  let historyBytes = 0;
  await walk(install, (rel, s) => {
    installBytes += s.size;
    if (rel.startsWith('var/db/hist/')) {
      historyFiles++;
      historyBytes += s.size;
    }
  });
  return { installBytes, historyFiles, historyBytes };
}

/** `key=value` lines; enough for the two keys read here (detection uses a full parser). */
async function readProperties(file: string): Promise<Map<string, string>> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const out = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*([^#!\s][^=:\s]*)\s*[=:]\s*(.*?)\s*$/.exec(line);
    if (m) out.set(m[1] as string, m[2] as string);
  }
  return out;
}

/** The lowest Connector port of tomcat/admin/conf/server.xml: the one the 1024 rule is about. */
async function readTomcatConnectorPort(install: string): Promise<number | undefined> {
  const text = await readFile(join(install, 'tomcat/admin/conf/server.xml'), 'utf8').catch(
    () => undefined,
  );
  if (text === undefined) return undefined;
  const ports = findConnectorPorts(text).map((c) => c.port);
  return ports.length > 0 ? Math.min(...ports) : undefined;
}

/** Every `<Connector … port="N"` of a Tomcat server.xml with its 1-based line; comments skipped. */
export function findConnectorPorts(xml: string): { port: number; line: number }[] {
  const blanked = xml.replace(/<!--[\s\S]*?-->/g, (c) => c.replace(/[^\n]/g, ' '));
  const out: { port: number; line: number }[] = [];
  for (const m of blanked.matchAll(/<Connector\b[^>]*?\bport\s*=\s*["'](\d+)["']/g)) {
    const at = m.index + m[0].lastIndexOf('port');
    const line = blanked.slice(0, at).split('\n').length;
    out.push({ port: Number(m[1]), line });
  }
  return out;
}
