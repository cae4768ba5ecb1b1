import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fail, listText, pass, skip, warn } from '../result.ts';
import type { Check, CheckContext, CheckResult } from '../types.ts';

export const id = 'tomcat-port';

const serverXml = 'tomcat/admin/conf/server.xml';

/** The guide: "Make sure the port number for Tomcat JK2 is greater than 1024 (the default is 8009)". */
const highestReserved = 1024;

async function run(ctx: CheckContext): Promise<CheckResult> {
  const text = await readFile(join(ctx.install, serverXml), 'utf8').catch(() => undefined);
  const connectors =
    text !== undefined
      ? findConnectorPorts(text).map((c) => ({ port: c.port, where: `${serverXml}:${c.line}` }))
      : portsFromFacts(ctx);
  if (connectors === undefined) {
    return skip(`the installation has no Tomcat connector (no ${serverXml})`);
  }
  if (connectors.length === 0) {
    return warn(
      `${serverXml} has no Connector with a port`,
      `check the Connector port= lines of ${serverXml}: the port must be above ${highestReserved}`,
    );
  }
  const details = { connectors: connectors.map(({ port, where }) => ({ port, where })) };
  const low = connectors.filter((c) => c.port <= highestReserved);
  if (low.length > 0) {
    const ports = [...new Set(low.map((c) => c.port))];
    return fail(
      `Tomcat connector port ${listText(low.map((c) => `${c.port} (${c.where})`))} is not above ${highestReserved}`,
      `change every occurrence of port ${listText(ports.map(String))} in ${serverXml} (Connector port= and jvmRoute) to a port above ${highestReserved}, e.g. 8009`,
      details,
    );
  }
  return pass(
    `Tomcat connector port${connectors.length === 1 ? '' : 's'} ${listText(connectors.map((c) => String(c.port)))} above ${highestReserved}`,
    details,
  );
}

/** The ports detection read from server.xml, for an installation uplift cannot read itself. */
function portsFromFacts(ctx: CheckContext): { port: number; where: string }[] | undefined {
  const p = ctx.facts.ports;
  const all = p?.tomcatConnectors ?? (p?.tomcatConnector === undefined ? [] : [p.tomcatConnector]);
  if (all.length === 0) return undefined;
  return all.map((port) => ({ port: Number(port), where: 'the facts (ports.tomcatConnectors)' }));
}

/** Every `<Connector … port="N"` of a Tomcat server.xml, with the line of its port; comments skipped. */
function findConnectorPorts(xml: string): { port: number; line: number }[] {
  // Blank out comments but keep their line breaks, so line numbers stay right.
  const blanked = xml.replace(/<!--[\s\S]*?-->/g, (c) => c.replace(/[^\n]/g, ' '));
  const out: { port: number; line: number }[] = [];
  for (const m of blanked.matchAll(/<Connector\b[^>]*?\bport\s*=\s*["'](\d+)["']/g)) {
    const at = m.index + m[0].lastIndexOf('port');
    out.push({ port: Number(m[1]), line: blanked.slice(0, at).split('\n').length });
  }
  return out;
}

export const api: Check = { id, title: 'Tomcat connector port above 1024', run };
