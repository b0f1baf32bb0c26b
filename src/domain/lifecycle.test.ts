import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { sqlList } from '../db/sql.ts';
import { certificateStatuses } from './certificates.ts';
import { jobStatuses } from './jobs.ts';
import {
  inFlightJobStatuses,
  inProgressStatus,
  isRenewable,
  isTerminalOrDerived,
  issuanceJobTypeFor,
  issuanceJobTypes,
  nonRenewableStatuses,
  openJobStatuses,
  terminalCertificateStatuses,
} from './lifecycle.ts';

const migrationsDir = new URL('../../migrations/', import.meta.url);
const migrations = readdirSync(migrationsDir)
  .filter((name) => name.endsWith('.sql'))
  .sort()
  .map((name) => readFileSync(new URL(name, migrationsDir), 'utf8'))
  .join('\n');

/** The quoted words of the last `pattern` match in the migrations, in order. */
function lastQuotedList(pattern: RegExp): string[] {
  const matches = [...migrations.matchAll(pattern)];
  const last = matches.at(-1);
  if (!last?.[1]) throw new Error(`no migration matches ${pattern}`);
  return [...last[1].matchAll(/'([A-Za-z]+)'/g)].map((m) => m[1]!);
}

describe('lifecycle rules', () => {
  it('agree with the partial unique indexes that enforce them', () => {
    // The planner uses the index (and ON CONFLICT infers it) only if the SQL repeats its predicate.
    const issuance = /CREATE UNIQUE INDEX jobs_one_open_issuance[^;]*WHERE type IN \(([^)]*)\) AND status IN \(([^)]*)\)/g;
    const last = [...migrations.matchAll(issuance)].at(-1)!;
    expect([...last[1]!.matchAll(/'(\w+)'/g)].map((m) => m[1])).toEqual([...issuanceJobTypes]);
    expect([...last[2]!.matchAll(/'(\w+)'/g)].map((m) => m[1])).toEqual([...openJobStatuses]);
    expect(lastQuotedList(/CREATE UNIQUE INDEX jobs_one_open_signing[^;]*AND status IN \(([^)]*)\)/g)).toEqual([...inFlightJobStatuses]);
  });

  it('name only statuses the schema stores', () => {
    const stored = lastQuotedList(/certificates_status_check\s+CHECK \(status IN \(([^)]*)\)/g);
    expect(stored).not.toContain(inProgressStatus);
    expect([...stored, inProgressStatus].sort()).toEqual([...certificateStatuses].sort());
    for (const status of [...terminalCertificateStatuses, ...nonRenewableStatuses]) expect(stored).toContain(status);
    for (const status of [...openJobStatuses, ...inFlightJobStatuses]) expect(jobStatuses).toContain(status);
  });

  it('answer the questions services ask', () => {
    expect(isRenewable('Active')).toBe(true);
    expect(isRenewable('Expiring')).toBe(true);
    expect(isRenewable('Expired')).toBe(false);
    expect(isRenewable('Revoked')).toBe(false);
    expect(isTerminalOrDerived('RenewalInProgress')).toBe(true);
    expect(isTerminalOrDerived('Archived')).toBe(true);
    expect(isTerminalOrDerived('Active')).toBe(false);
    expect(issuanceJobTypeFor(false)).toBe('Issuance');
    expect(issuanceJobTypeFor(true)).toBe('Renewal');
  });

  it('are written into SQL as literal lists, and nothing but words is', () => {
    expect(sqlList(openJobStatuses)).toBe("('Pending', 'AwaitingCSR', 'Running')");
    expect(() => sqlList(["Active') OR ('1' = '1"])).toThrow(/constant words/);
  });
});
