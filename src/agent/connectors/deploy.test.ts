import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deploy, deployTogether, sameDaemon, type DeploymentPlan } from './deploy.ts';

const deployFiles = (plan: Omit<DeploymentPlan, 'connector'>) => deploy({ connector: 'file', ...plan });

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cf-deploy-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const f = (name: string) => path.join(dir, name);
const read = (name: string) => fs.readFileSync(f(name), 'utf8');

describe('deploy (the file steps)', () => {
  it('writes files atomically with their modes, then validates and reloads', async () => {
    const marker = f('reloaded');
    const result = await deployFiles({
      files: [
        { path: f('cert.pem'), content: 'CERT-1' },
        { path: f('key.pem'), content: 'KEY-1', mode: 0o600 },
      ],
      validateCommand: ['test', '-s', f('cert.pem')],
      reloadCommand: ['touch', marker],
    });
    expect(result.status).toBe('deployed');
    expect(result.report.files.map((x) => x.changed)).toEqual([true, true]);
    expect(result.report.commands.map((c) => [c.argv[0], c.exit_code])).toEqual([
      ['test', 0],
      ['touch', 0],
    ]);
    expect(read('cert.pem')).toBe('CERT-1');
    expect(fs.statSync(f('key.pem')).mode & 0o777).toBe(0o600);
    expect(fs.existsSync(marker)).toBe(true);
    expect(fs.readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('skips unchanged content without running commands', async () => {
    fs.writeFileSync(f('cert.pem'), 'SAME');
    const marker = f('reloaded');
    const result = await deployFiles({ files: [{ path: f('cert.pem'), content: 'SAME' }], reloadCommand: ['touch', marker] });
    expect(result.status).toBe('unchanged');
    expect(result.report.commands).toEqual([]);
    expect(fs.existsSync(marker)).toBe(false);
  });

  it('restores the previous files when validation fails, and says why', async () => {
    fs.writeFileSync(f('cert.pem'), 'OLD-CERT');
    const marker = f('reloaded');
    const result = await deployFiles({
      files: [
        { path: f('cert.pem'), content: 'NEW-CERT' },
        { path: f('chain.pem'), content: 'NEW-CHAIN' },
      ],
      validateCommand: ['sh', '-c', 'echo "emerg: bad certificate" >&2; exit 1'],
      reloadCommand: ['touch', marker],
    });
    expect(result.status).toBe('failed');
    expect(result.status === 'failed' && result.reason).toMatch(/emerg: bad certificate/);
    expect(read('cert.pem')).toBe('OLD-CERT');
    expect(fs.existsSync(f('chain.pem'))).toBe(false); // did not exist before: removed
    expect(fs.existsSync(marker)).toBe(false); // never reloaded a broken config
    expect(result.report.rolled_back).toBe(true);
    expect(result.report.commands).toEqual([expect.objectContaining({ exit_code: 1, output: 'emerg: bad certificate' })]);
  });

  it('never interprets values through a shell', async () => {
    const literal = 'a; touch pwned $(touch pwned2)';
    const result = await deployFiles({
      files: [{ path: f('cert.pem'), content: 'X' }],
      reloadCommand: ['touch', f(literal)],
    });
    expect(result.status).toBe('deployed');
    expect(fs.existsSync(f(literal))).toBe(true); // one argument, taken literally
    expect(fs.existsSync(f('pwned'))).toBe(false);
    expect(fs.existsSync(f('pwned2'))).toBe(false);
  });

  it('reports a missing command as a failure and restores', async () => {
    fs.writeFileSync(f('cert.pem'), 'OLD');
    const result = await deployFiles({ files: [{ path: f('cert.pem'), content: 'NEW' }], reloadCommand: ['/nonexistent/reload'] });
    expect(result.status).toBe('failed');
    expect(result.report.commands[0]!.exit_code).toBeNull(); // never ran to an exit
    expect(read('cert.pem')).toBe('OLD');
  });
});

describe('deployTogether (plans for one daemon)', () => {
  const plan = (name: string, content: string, validate: string[], log: string): DeploymentPlan => ({
    connector: 'file',
    files: [{ path: f(`${name}.pem`), content }],
    validateCommand: validate,
    reloadCommand: ['sh', '-c', `echo reload >> ${log}`],
  });

  it('validates and reloads once for the whole group', async () => {
    const log = f('runs.log');
    const validate = ['sh', '-c', `echo validate >> ${log}`];
    const outcomes = await deployTogether(['a', 'b', 'c'].map((n) => plan(n, `CERT-${n}`, validate, log)));
    expect(outcomes.map((o) => o.status)).toEqual(['deployed', 'deployed', 'deployed']);
    expect(read('runs.log')).toBe('validate\nreload\n');
    expect(outcomes[2]!.report.commands.map((c) => c.argv.at(-1))).toEqual([`echo validate >> ${log}`, `echo reload >> ${log}`]);
    // How the agent groups: same commands, same daemon; the runtime API needs no group.
    expect(sameDaemon(plan('x', '', validate, log))).toBe(sameDaemon(plan('y', '', validate, log)));
    expect(sameDaemon(plan('x', '', ['true'], log))).not.toBe(sameDaemon(plan('y', '', validate, log)));
    expect(sameDaemon({ connector: 'haproxy', files: [], runtimeApi: { socket: '/s', certPath: '/p', pem: '' } })).toBeUndefined();
  });

  it('when the shared validation fails, tries each alone: only the bad one fails and is restored', async () => {
    const log = f('runs.log');
    fs.writeFileSync(f('b.pem'), 'OLD-b');
    // The daemon's check refuses any file holding BAD, whichever deployment wrote it.
    const validate = ['sh', '-c', `! grep -l BAD ${dir}/*.pem >&2`];
    const outcomes = await deployTogether([plan('a', 'CERT-a', validate, log), plan('b', 'BAD', validate, log), plan('c', 'CERT-c', validate, log)]);
    expect(outcomes.map((o) => o.status)).toEqual(['deployed', 'failed', 'deployed']);
    expect(outcomes[1]!.status === 'failed' && outcomes[1]!.reason).toMatch(/b\.pem/);
    expect([read('a.pem'), read('b.pem'), read('c.pem')]).toEqual(['CERT-a', 'OLD-b', 'CERT-c']);
    expect(outcomes[1]!.report.rolled_back).toBe(true);
  });
});
