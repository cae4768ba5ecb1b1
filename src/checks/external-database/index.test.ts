import { afterEach, describe, expect, it } from 'vitest';
import {
  cleanUp,
  makeSecureTransportInstall,
  makeSkiffInstall,
} from '../../../test/util/install-tree.ts';
import { buildCheckContext } from '../index.ts';
import { api } from './index.ts';

afterEach(cleanUp);

describe('external-database', () => {
  it('passes for the embedded SQLite database, which no prerequisite concerns', async () => {
    const { install } = await makeSkiffInstall();
    const ctx = await buildCheckContext({ install, to: 'latest' });

    const result = await api.run(ctx);

    expect(result).toMatchObject({
      status: 'pass',
      message: 'sqlite database: none of the database prerequisites of 5.5 GA concerns it',
    });
  });

  it('passes for PostgreSQL 14 against "PostgreSQL 12 or later"', async () => {
    const { install } = await makeSkiffInstall({ properties: ['db.type=postgresql'] });
    const ctx = await buildCheckContext({
      install,
      to: 'latest',
      factFlags: ['database.version=14.2'],
    });

    const result = await api.run(ctx);

    expect(result).toMatchObject({
      status: 'pass',
      message: 'postgresql 14.2 database: External PostgreSQL 12 or later holds',
    });
  });

  it('fails for PostgreSQL 11, with the catalog action as remediation', async () => {
    const { install } = await makeSkiffInstall({ properties: ['db.type=postgresql'] });
    const ctx = await buildCheckContext({
      install,
      to: 'latest',
      factFlags: ['database.version=11.9'],
    });

    const result = await api.run(ctx);

    expect(result).toMatchObject({
      status: 'fail',
      message:
        'postgresql 11.9 database: External PostgreSQL 12 or later (database.type = "postgresql", database.version = "11.9")',
      remediation: expect.stringMatching(/^Back up the external PostgreSQL database and upgrade/),
    });
  });

  it('warns, naming the fact to give, when the version of PostgreSQL is unknown', async () => {
    const { install } = await makeSkiffInstall({ properties: ['db.type=postgresql'] });
    const ctx = await buildCheckContext({ install, to: 'latest' });

    const result = await api.run(ctx);

    expect(result).toMatchObject({
      status: 'warn',
      message:
        'cannot tell whether "External PostgreSQL 12 or later" holds: database.version unknown',
      remediation:
        'give what the database server reports as --fact database.version= to the same check command, and check again; its options:\nuplift check --help',
    });
  });

  it('fails for a case-sensitive SQL Server collation (securetransport)', async () => {
    const { install } = await makeSecureTransportInstall();
    const ctx = await buildCheckContext({
      install,
      to: '5.5',
      factFlags: [
        'database.type=mssql',
        'database.version=2019',
        'database.collation=SQL_Latin1_General_CP1_CS_AS',
        'database.external=true',
        'database.backedUp=true',
      ],
    });

    const result = await api.run(ctx);

    expect(result.status).toBe('fail');
    expect(result.message).toContain('SQL Server collation must be case-insensitive');
  });

  it('asks for the database type first when it is unknown (securetransport)', async () => {
    const { install } = await makeSecureTransportInstall();
    const ctx = await buildCheckContext({ install, to: '5.5' });

    const result = await api.run(ctx);

    expect(result).toMatchObject({
      status: 'warn',
      message:
        'the database is unknown (database.external and database.type): cannot tell which of 3 database prerequisites apply',
      remediation:
        'give what the database is as --fact database.external= and --fact database.type= (e.g. --fact database.type=oracle) to the same check command, and check again; its options:\nuplift check --help',
    });
  });
});
