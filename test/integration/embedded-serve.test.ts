/**
 * `certfleet serve` with no DATABASE_URL, as a newcomer runs it: an embedded PostgreSQL in
 * CERTFLEET_DATA_DIR, data that survives a restart, a clear refusal when the directory or the
 * port is taken, and one-shot commands that attach to the running instance.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCertfleet, serve } from '../support/process.ts';

let dataDir: string;
const adminKey = 'embedded-admin-key-0123456789';

beforeAll(async () => {
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'cf-embedded-'));
  await fs.chmod(dataDir, 0o711);
});
afterAll(() => fs.rm(dataDir, { recursive: true, force: true }));

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('certfleet serve on embedded PostgreSQL', () => {
  it('starts, refuses a second instance, attaches CLI commands, stops cleanly, and keeps data', async () => {
    const env = { CERTFLEET_DATA_DIR: dataDir, CERTFLEET_ADMIN_API_KEY: adminKey };
    const first = await serve(env);
    const health = (await (await fetch(`${first.url}/health`)).json()) as { status: string };
    expect(health.status).toBe('ok');
    expect((await fetch(`${first.url}/ready`)).status).toBe(200);
    const pgPid = Number((await fs.readFile(path.join(dataDir, 'postgres', 'postmaster.pid'), 'utf8')).split('\n')[0]);
    expect(isRunning(pgPid)).toBe(true);

    // A second server on the same data directory must refuse, naming the directory.
    const second = runCertfleet(['serve'], { ...env, CERTFLEET_PORT: '0' });
    expect(await second.exited).toBe(1);
    expect(second.stderr()).toMatch(/already in use by a running PostgreSQL/);
    expect(second.stderr()).toContain(dataDir);

    // A server on a taken port must refuse (exclusive bind, no silent SO_REUSEPORT sharing).
    const otherDir = await fs.mkdtemp(path.join(os.tmpdir(), 'cf-embedded-port-'));
    await fs.chmod(otherDir, 0o711);
    const portTaken = runCertfleet(['serve'], { CERTFLEET_DATA_DIR: otherDir, CERTFLEET_PORT: new URL(first.url).port });
    expect(await portTaken.exited).toBe(1);
    expect(portTaken.stderr()).toMatch(/cannot listen on 127\.0\.0\.1:\d+/);
    await fs.rm(otherDir, { recursive: true, force: true });

    // One-shot commands attach to the running embedded database.
    const migrate = runCertfleet(['migrate'], env);
    expect(await migrate.exited).toBe(0);
    expect(migrate.stdout.join('\n')).toMatch(/database is up to date/);
    const create = runCertfleet(['keys', 'create', '--name', 'cli-key', '--role', 'operator'], env);
    expect(await create.exited).toBe(0);
    const cliKey = create.stdout.join('').trim();
    expect(cliKey).toMatch(/^cfk_[A-Za-z0-9_-]{43}$/);
    expect(create.stderr()).toMatch(/shown only once/);
    expect(create.stderr()).toContain(`using the embedded PostgreSQL in ${dataDir}`);
    const asOperator = await fetch(`${first.url}/api/v1/auth/keys`, { headers: { authorization: `Bearer ${cliKey}` } });
    expect(asOperator.status).toBe(403); // authenticated, but operators do not manage keys

    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(isRunning(pgPid)).toBe(false);

    // Restart: same data, same keys.
    const again = await serve(env);
    const keys = (await (await fetch(`${again.url}/api/v1/auth/keys`, { headers: { authorization: `Bearer ${adminKey}` } })).json()) as {
      data: Array<{ name: string }>;
    };
    expect(keys.data.map((k) => k.name).sort()).toEqual(['bootstrap-admin', 'cli-key']);
    again.child.kill('SIGINT');
    expect(await again.exited).toBe(0);
  }, 90_000);

  it('exits 2 with a message naming the variable on bad configuration', async () => {
    const bad = runCertfleet(['serve'], { CERTFLEET_DATA_DIR: dataDir, CERTFLEET_PORT: 'eighty' });
    expect(await bad.exited).toBe(2);
    expect(bad.stderr()).toMatch(/CERTFLEET_PORT: must be a whole number/);
  });

  it('exits 2 on usage errors', async () => {
    const unknown = runCertfleet(['frobnicate'], {});
    expect(await unknown.exited).toBe(2);
    const badRole = runCertfleet(['keys', 'create', '--name', 'x', '--role', 'root'], { CERTFLEET_DATA_DIR: dataDir });
    expect(await badRole.exited).toBe(2);
    expect(badRole.stderr()).toMatch(/--role must be one of/);
  });

  it('never makes a new database by accident: keys create in an empty directory is refused unless --init', async () => {
    const empty = await fs.mkdtemp(path.join(os.tmpdir(), 'cf-no-database-'));
    try {
      const refused = runCertfleet(['keys', 'create', '--name', 'x', '--role', 'viewer'], { CERTFLEET_DATA_DIR: empty });
      expect(await refused.exited).toBe(2);
      expect(refused.stderr()).toContain(`no certfleet database in CERTFLEET_DATA_DIR=${empty}`);
      expect(refused.stderr()).toMatch(/--init/);
      expect(refused.stdout.join('')).toBe('');
      expect(await fs.readdir(empty)).toEqual([]);
    } finally {
      await fs.rm(empty, { recursive: true, force: true });
    }
  });
});
