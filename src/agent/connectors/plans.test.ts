import { describe, expect, expectTypeOf, it } from 'vitest';
import type { z } from 'zod';
import type { targetConfigSchemas } from '../../services/fleet/target-configs.ts';
import { planDeployment, type DeploymentMaterial, type TargetConfig } from './plans.ts';

const material: DeploymentMaterial = {
  leafPem: 'LEAF\n',
  chainPem: 'CHAIN\n',
  keyPem: 'KEY\n',
  leafDer: Buffer.from('leaf'),
  serial: '1a2b',
  serverName: 'www.example.com',
};

describe('connector plans', () => {
  it('read every field the server accepts for any type (agent and server stay in step)', () => {
    type ServerFields = { [T in keyof typeof targetConfigSchemas]: keyof z.input<(typeof targetConfigSchemas)[T]> }[keyof typeof targetConfigSchemas];
    expectTypeOf<ServerFields>().toEqualTypeOf<keyof TargetConfig>();
  });

  it('nginx: the full chain and the key, nginx -t, nginx -s reload, and a check on 127.0.0.1:443', () => {
    const plan = planDeployment('NGINX', { cert_path: '/etc/ssl/a.pem', key_path: '/etc/ssl/a.key', config_file: '/opt/nginx.conf' }, material);
    expect(plan.files).toEqual([
      { path: '/etc/ssl/a.pem', content: 'LEAF\nCHAIN\n' },
      { path: '/etc/ssl/a.key', content: 'KEY\n', mode: 0o600 },
    ]);
    expect(plan.validateCommand).toEqual(['nginx', '-c', '/opt/nginx.conf', '-t', '-q']);
    expect(plan.reloadCommand).toEqual(['nginx', '-c', '/opt/nginx.conf', '-s', 'reload']);
    expect(plan.verify).toMatchObject({ host: '127.0.0.1', port: 443, serverName: 'www.example.com', timeoutMs: 10_000 });
  });

  it('Apache: a separate chain file when asked, apachectl -t and -k graceful', () => {
    const plan = planDeployment(
      'Apache',
      { cert_path: '/c.pem', key_path: '/k.pem', chain_path: '/chain.pem', verify: { address: '[::1]:8443', server_name: 'a.test' } },
      material,
    );
    expect(plan.files.map((f) => [f.path, f.content])).toEqual([
      ['/c.pem', 'LEAF\n'],
      ['/chain.pem', 'CHAIN\n'],
      ['/k.pem', 'KEY\n'],
    ]);
    expect([plan.validateCommand, plan.reloadCommand]).toEqual([
      ['apachectl', '-t'],
      ['apachectl', '-k', 'graceful'],
    ]);
    expect(plan.verify).toMatchObject({ host: '::1', port: 8443, serverName: 'a.test' });
  });

  it('HAProxy: one 0600 PEM with the key; the runtime API replaces validate and reload', () => {
    const reload = planDeployment('HAProxy', { pem_path: '/h.pem' }, material);
    expect(reload.files).toEqual([{ path: '/h.pem', content: 'LEAF\nCHAIN\nKEY\n', mode: 0o600 }]);
    expect(reload.validateCommand).toEqual(['haproxy', '-c', '-f', '/etc/haproxy/haproxy.cfg']);
    expect(reload.reloadCommand).toEqual(['systemctl', 'reload', 'haproxy']);
    const live = planDeployment('HAProxy', { pem_path: '/h.pem', admin_socket: '/run/haproxy/admin.sock', verify: false }, material);
    expect([live.validateCommand, live.reloadCommand, live.verify]).toEqual([undefined, undefined, undefined]);
    expect(live.runtimeApi).toEqual({ socket: '/run/haproxy/admin.sock', certPath: '/h.pem', pem: 'LEAF\nCHAIN\nKEY\n' });
  });

  it('file targets (and the other types) run only what they are given and check nothing unless asked', () => {
    const plan = planDeployment('Traefik', { cert_path: '/t.pem', reload_command: ['touch', '/x'] }, material);
    expect(plan).toMatchObject({ connector: 'file', validateCommand: undefined, reloadCommand: ['touch', '/x'], verify: undefined });
  });

  it('names the missing field of an incomplete target', () => {
    expect(() => planDeployment('NGINX', { cert_path: '/a.pem' }, material)).toThrow('a NGINX target needs key_path in its config');
    expect(() => planDeployment('HAProxy', {}, material)).toThrow('needs pem_path');
  });
});
