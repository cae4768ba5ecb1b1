import dedent from 'dedent';
import { describe, expect, it } from 'vitest';
import { parseConfig, toScalar } from './formats.ts';
import type { ConfigFormat } from './schema.ts';

describe('toScalar', () => {
  it.each`
    text                      | value
    ${'true'}                 | ${true}
    ${'FALSE'}                | ${false}
    ${'8009'}                 | ${8009}
    ${'-1'}                   | ${-1}
    ${'0'}                    | ${0}
    ${'0755'}                 | ${'0755'}
    ${'5.10'}                 | ${'5.10'}
    ${'1e3'}                  | ${'1e3'}
    ${''}                     | ${''}
    ${'TLSv1.2'}              | ${'TLSv1.2'}
    ${'99999999999999999999'} | ${'99999999999999999999'}
  `('reads "$text" as $value', ({ text, value }) => {
    expect(toScalar(text)).toStrictEqual(value);
  });
});

describe('parseConfig: values of the whole file', () => {
  it.each<{ name: string; format: ConfigFormat; text: string; values: unknown }>([
    {
      name: 'properties: separators, dotted keys, continuations, escapes, comments',
      format: 'properties',
      text: dedent`
        # comment
        ! also a comment
        http.port=8080
        proxy.host : proxy.example.com
        Direct.Connection.When.Proxy.Down true
        tls.ciphers=TLS_AES_128_GCM_SHA256:\
            TLS_AES_256_GCM_SHA384
        greeting=caf\u00e9
        empty=
      `,
      values: {
        'http.port': 8080,
        'proxy.host': 'proxy.example.com',
        'Direct.Connection.When.Proxy.Down': true,
        'tls.ciphers': 'TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384',
        greeting: 'café',
        empty: '',
      },
    },
    {
      name: 'start-script KEY=VALUE lines read as properties',
      format: 'properties',
      text: 'HEAP_MB=512\nHTTP_PORT=8443\nJAVA_OPTS="-Xss1m -Dx=y"\n',
      values: { HEAP_MB: 512, HTTP_PORT: 8443, JAVA_OPTS: '"-Xss1m -Dx=y"' },
    },
    {
      name: 'ini: sections, both separators, quotes, comments, keys before any section',
      format: 'ini',
      text: dedent`
        ; top comment
        mode = strict
        [database]
        type = postgresql
        port: 5432
        # comment
        password = "s3cret"
        [jobs]
        purge = '0 3 * * *'
      `,
      values: {
        mode: 'strict',
        database: { type: 'postgresql', port: 5432, password: 's3cret' },
        jobs: { purge: '0 3 * * *' },
      },
    },
    {
      name: 'yaml: typed values and nesting kept',
      format: 'yaml',
      text: 'jobs:\n  - { name: purge, cron: "0 3 * * *" }\nenabled: true\n',
      values: { jobs: [{ name: 'purge', cron: '0 3 * * *' }], enabled: true },
    },
    {
      name: 'yaml: an empty file has no values',
      format: 'yaml',
      text: '',
      values: {},
    },
    {
      name: 'json',
      format: 'json',
      text: '{ "db": { "type": "sqlite" }, "port": 8080 }',
      values: { db: { type: 'sqlite' }, port: 8080 },
    },
  ])('$name', ({ format, text, values }) => {
    expect(parseConfig(text, format, 'conf/x').values).toStrictEqual(values);
  });
});

describe('parseConfig: select', () => {
  const serverXml = dedent`
    <?xml version="1.0" encoding="UTF-8"?>
    <Server port="8005">
      <!-- <Connector port="80"/> commented out -->
      <Service name="Catalina">
        <Connector port="8080" protocol="HTTP/1.1"/>
        <Connector port="8009" protocol="AJP/1.3"/>
        <Engine name="Catalina" jvmRoute="node1">
          <Host name="localhost"><Alias>st.example.com</Alias></Host>
        </Engine>
      </Service>
    </Server>
  `;

  it.each`
    format          | text                                               | path                                          | values
    ${'xml'}        | ${serverXml}                                       | ${'//Connector/@port'}                        | ${[8080, 8009]}
    ${'xml'}        | ${serverXml}                                       | ${"//Connector[@protocol='AJP/1.3']/@port"}   | ${[8009]}
    ${'xml'}        | ${serverXml}                                       | ${'//Connector[2]/@port'}                     | ${[8009]}
    ${'xml'}        | ${serverXml}                                       | ${'/Server/Service/Engine/@jvmRoute'}         | ${['node1']}
    ${'xml'}        | ${serverXml}                                       | ${'/Server/@port'}                            | ${[8005]}
    ${'xml'}        | ${serverXml}                                       | ${'//Alias/text()'}                           | ${['st.example.com']}
    ${'xml'}        | ${serverXml}                                       | ${'//Engine//Alias'}                          | ${['st.example.com']}
    ${'xml'}        | ${serverXml}                                       | ${'/Server/*/Connector[@protocol]/@protocol'} | ${['HTTP/1.1', 'AJP/1.3']}
    ${'xml'}        | ${serverXml}                                       | ${'//Connector/@missing'}                     | ${[]}
    ${'xml'}        | ${'<a:root xmlns:a="urn:x"><a:b v="1"/></a:root>'} | ${'//b/@v'}                                   | ${[1]}
    ${'properties'} | ${'tls.protocols=TLSv1.2,TLSv1.3\n'}               | ${'tls.protocols'}                            | ${['TLSv1.2,TLSv1.3']}
    ${'properties'} | ${'a=1\n'}                                         | ${'b'}                                        | ${[]}
    ${'yaml'}       | ${'db:\n  type: sqlite\n'}                         | ${'db.type'}                                  | ${['sqlite']}
    ${'ini'}        | ${'[db]\ntype=oracle\n'}                           | ${'db.type'}                                  | ${['oracle']}
    ${'json'}       | ${'{"a":{"b.c":2}}'}                               | ${'a.b.c'}                                    | ${[2]}
  `('$format: $path', ({ format, text, path, values }) => {
    expect(parseConfig(text, format, 'conf/x').select(path)).toStrictEqual(values);
  });

  it('rejects XPath outside the subset as a profile error', () => {
    const doc = parseConfig(serverXml, 'xml', 'server.xml');

    expect(() => doc.select('//Connector[last()]/@port')).toThrow(
      expect.objectContaining({ code: 'UPLIFT_PROFILE_INVALID' }),
    );
    expect(() => doc.select('Connector')).toThrow(
      expect.objectContaining({ code: 'UPLIFT_PROFILE_INVALID' }),
    );
  });
});

describe('parseConfig: errors name the file and line', () => {
  it.each<{ format: ConfigFormat; text: string; line: number | undefined }>([
    { format: 'properties', text: 'a=1\nb=\\u12zz\n', line: 2 },
    { format: 'ini', text: '[a]\nx=1\nthis is not ini\n', line: 3 },
    { format: 'yaml', text: 'a: 1\nb: [\n', line: 2 },
    { format: 'json', text: '{\n  "a": 1,\n  "b" 2\n}\n', line: 3 },
    { format: 'json', text: '{\n  "a": [1,\n}\n', line: 2 },
    { format: 'json', text: '{\n  "a": 1,\n  "b": }\n', line: undefined },
    { format: 'xml', text: '<Server>\n  <Service>\n</Server>\n', line: 2 },
    { format: 'xml', text: '', line: undefined },
  ])('$format', ({ format, text, line }) => {
    let error: unknown;

    try {
      parseConfig(text, format, '/opt/x/conf/file');
    } catch (e) {
      error = e;
    }

    expect(error).toMatchObject({
      code: 'UPLIFT_DETECT_CONFIG',
      exitCode: 2,
      location: { file: '/opt/x/conf/file', line },
    });
  });
});

describe('parseConfig: env and regex', () => {
  it('reads .env lines: export, quotes, escapes, comments', () => {
    const text = [
      '# comment',
      'export HTTP_PORT=8080',
      String.raw`NAME="a \"b\" c" # note`,
      "RAW='x # y'",
      'BARE=value # trailing',
      'EMPTY=',
    ].join('\n');

    expect(parseConfig(text, 'env', '.env').values).toStrictEqual({
      HTTP_PORT: 8080,
      NAME: 'a "b" c',
      RAW: 'x # y',
      BARE: 'value',
      EMPTY: '',
    });
  });

  it('refuses an unclosed quote with its line', () => {
    expect(() => parseConfig('A=1\nB="open\n', 'env', '.env')).toThrow(
      expect.objectContaining({
        code: 'UPLIFT_DETECT_CONFIG',
        location: { file: '.env', line: 2 },
      }),
    );
  });

  it('reads key/value groups, or one setting per named group', () => {
    const text = 'max_conn -> 10\nmode -> fast\nmode -> slow\n';

    expect(
      parseConfig(text, 'regex', 'a.txt', { pattern: '^(?<key>\\w+) -> (?<value>.*)$' }).values,
    ).toStrictEqual({ max_conn: 10, mode: 'slow' });
    expect(
      parseConfig(text, 'regex', 'a.txt', { pattern: '^mode -> (?<mode>\\w+)' }).values,
    ).toStrictEqual({ mode: 'fast' });
  });
});
