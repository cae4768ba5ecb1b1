import { createServer, request, type Server } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';

/**
 * A forward HTTP proxy on 127.0.0.1 that records what it relays: `CONNECT host:port` tunnels
 * (what undici's ProxyAgent uses) and absolute-form `GET http://…` requests.
 */
export interface TestProxy {
  url: string;
  /** `CONNECT 127.0.0.1:1234` or `GET http://127.0.0.1:1234/index.json`, in order. */
  relayed: string[];
  close(): Promise<void>;
}

export async function startProxy(): Promise<TestProxy> {
  const sockets = new Set<Socket>();
  const relayed: string[] = [];
  const server: Server = createServer((req, res) => {
    relayed.push(`${req.method} ${req.url}`);
    const target = new URL(req.url ?? '');
    const up = request(
      {
        host: target.hostname,
        port: target.port,
        path: `${target.pathname}${target.search}`,
        method: req.method,
        headers: req.headers,
      },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      },
    );
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  server.on('connect', (req, client: Socket, head: Buffer) => {
    relayed.push(`CONNECT ${req.url}`);
    const [host, port] = (req.url ?? '').split(':');
    const upstream = connect(Number(port), host ?? '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    relayed,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
