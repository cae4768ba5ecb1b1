import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectOutbound } from './proxy.ts';

let partner: Server;
let proxy: Server;
let partnerPort = 0;
let proxyPort = 0;
let deadPort = 0;

const listen = (s: Server) =>
  new Promise<number>((done) =>
    s.listen(0, '127.0.0.1', () => done((s.address() as { port: number }).port)),
  );

beforeAll(async () => {
  // The partner answers every connection with "hello"; the proxy tunnels CONNECT to the partner.
  partner = createServer((c) => c.end('hello'));
  partnerPort = await listen(partner);
  proxy = createServer((c) => {
    c.once('data', (head) => {
      const [, target] = /^CONNECT (\S+)/.exec(head.toString()) ?? [];
      const port = Number(target?.split(':')[1]);
      const out = connect(port, '127.0.0.1', () => {
        c.write('HTTP/1.1 200 Connection established\r\n\r\n');
        out.pipe(c);
        c.pipe(out);
      });
    });
  });
  proxyPort = await listen(proxy);
  // A port that refuses connections: bound once, then closed.
  const gone = createServer();
  deadPort = await listen(gone);
  await new Promise((r) => gone.close(r));
});

afterAll(() => {
  partner.close();
  proxy.close();
});

function read(socket: Socket): Promise<string> {
  return new Promise((done) => {
    let text = '';
    socket.on('data', (c: Buffer) => {
      text += c.toString();
    });
    socket.on('end', () => done(text));
  });
}

describe('connectOutbound', () => {
  const target = () => ({ host: '127.0.0.1', port: partnerPort });

  it('connects directly without a proxy', async () => {
    const { socket, via } = await connectOutbound(target(), { directWhenProxyDown: false });

    expect(via).toBe('direct');
    expect(await read(socket)).toBe('hello');
  });

  it('tunnels through a proxy that is up', async () => {
    const { socket, via } = await connectOutbound(target(), {
      proxy: { host: '127.0.0.1', port: proxyPort },
      directWhenProxyDown: false,
    });

    expect(via).toBe('proxy');
    expect(await read(socket)).toBe('hello');
  });

  it('falls back to a direct connection when the proxy is down and that is allowed (before 5.5 GA)', async () => {
    const { socket, via } = await connectOutbound(target(), {
      proxy: { host: '127.0.0.1', port: deadPort },
      directWhenProxyDown: true,
    });

    expect(via).toBe('direct');
    expect(await read(socket)).toBe('hello');
  });

  it('fails when the proxy is down and direct connections are not allowed (5.5 GA default)', async () => {
    await expect(
      connectOutbound(target(), {
        proxy: { host: '127.0.0.1', port: deadPort },
        directWhenProxyDown: false,
      }),
    ).rejects.toMatchObject({ code: 'SKIFF_PROXY_DOWN' });
  });

  it('fails when the partner refuses, naming it', async () => {
    await expect(
      connectOutbound({ host: '127.0.0.1', port: deadPort }, { directWhenProxyDown: true }),
    ).rejects.toMatchObject({
      code: 'SKIFF_CONNECT_FAILED',
      message: expect.stringContaining(`127.0.0.1:${deadPort}`),
    });
  });
});
