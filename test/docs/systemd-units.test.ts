/**
 * The systemd units in deploy/systemd load cleanly: `systemd-analyze verify` reports nothing
 * (an unknown or misspelt directive is only a warning to systemd, and a hardening line that
 * silently does nothing is worse than none), and they keep the hardening the docs promise.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const dir = path.resolve(import.meta.dirname, '../../deploy/systemd');
const units = fs.readdirSync(dir).filter((f) => f.endsWith('.service'));

describe('deploy/systemd', () => {
  it('ships the server and the agent unit', () => {
    expect(units.sort()).toEqual(['certfleet-agent.service', 'certfleet.service']);
  });

  it.each(units)('%s passes systemd-analyze verify with no warning', (unit) => {
    const result = spawnSync('systemd-analyze', ['verify', path.join(dir, unit)], { encoding: 'utf8' });
    expect(result.error, 'systemd-analyze (Debian package systemd) is installed by scripts/install-test-deps.sh').toBeUndefined();
    expect(`${result.stdout}${result.stderr}`.trim()).toBe('');
    expect(result.status).toBe(0);
  });

  it.each(units)('%s runs as its own user, hardened, restarting on failure', (unit) => {
    const text = fs.readFileSync(path.join(dir, unit), 'utf8');
    for (const line of [/^User=certfleet/m, /^NoNewPrivileges=true$/m, /^ProtectSystem=strict$/m, /^PrivateTmp=true$/m, /^Restart=on-failure$/m]) {
      expect(text).toMatch(line);
    }
  });
});
