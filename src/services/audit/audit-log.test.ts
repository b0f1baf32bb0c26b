import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { AuditRepository } from '../../db/audit.ts';
import { CursorCodec } from '../cursor.ts';
import { AuditLog } from './audit-log.ts';
import type { AuditEvent } from '../../domain/audit.ts';
import { auditRowHash, genesisHash } from './chain.ts';

function chain(n: number): AuditEvent[] {
  const out: AuditEvent[] = [];
  let prev = genesisHash;
  for (let seq = 1; seq <= n; seq++) {
    const base = {
      seq,
      id: `audit-${seq}`,
      actor: 'ak-1',
      actorType: 'APIKey' as const,
      action: 'team_created',
      resourceType: 'team',
      resourceId: `t-${seq}`,
      details: { b: 1, a: [seq] },
      category: 'config' as const,
      timestamp: new Date(1_700_000_000_000 + seq),
    };
    const rowHash = auditRowHash(prev, base);
    out.push({ ...base, prevHash: prev, rowHash });
    prev = rowHash;
  }
  return out;
}

function logOver(events: AuditEvent[], head = events[events.length - 1]) {
  const repo = {
    stream: async (_f: unknown, _b: number, onBatch: (e: AuditEvent[]) => Promise<void>) => {
      await onBatch(events);
      return events.length;
    },
    head: async () => ({ lastSeq: head?.seq ?? 0, lastHash: head?.rowHash ?? genesisHash }),
    pendingCount: async () => 0,
  } as unknown as AuditRepository;
  return new AuditLog(repo, new CursorCodec(randomBytes(32)));
}

describe('AuditLog.verify', () => {
  it('accepts an intact chain, whatever the key order of details', async () => {
    const events = chain(5).map((e) => ({ ...e, details: { a: e.details.a, b: e.details.b } }));
    expect(await logOver(events).verify()).toEqual({ ok: true, checked: 5, pending: 0, head: { seq: 5, row_hash: events[4]!.rowHash } });
  });

  it('names an altered event', async () => {
    const events = chain(5);
    events[2] = { ...events[2]!, actor: 'someone-else' };
    expect((await logOver(events).verify()).broken).toMatchObject({ seq: 3, id: 'audit-3', reason: expect.stringMatching(/altered/) });
  });

  it('names the event after a deleted one', async () => {
    const events = chain(5);
    const head = events[4];
    events.splice(1, 1);
    expect((await logOver(events, head).verify()).broken).toMatchObject({ seq: 3, reason: expect.stringMatching(/missing/) });
  });

  it('detects a deleted tail through the chain head', async () => {
    const events = chain(5);
    const head = events[4];
    expect((await logOver(events.slice(0, 3), head).verify()).broken).toMatchObject({ seq: 4, reason: expect.stringMatching(/head/) });
  });

  it('detects a re-chained forgery that reuses a sequence number', async () => {
    const events = chain(4);
    const forged = chain(4);
    forged[2] = { ...forged[2]!, prevHash: 'f'.repeat(64) };
    expect((await logOver([events[0]!, events[1]!, forged[2]!, events[3]!]).verify()).ok).toBe(false);
  });

  it('detects a deleted tail with the head row rewound too, against a checkpoint taken before', async () => {
    const events = chain(5);
    const checkpoint = { seq: 5, row_hash: events[4]!.rowHash };
    // A superuser deletes events 4 and 5 and rewinds audit_chain_head to event 3: the chain
    // alone verifies, the checkpoint does not.
    expect((await logOver(events.slice(0, 3)).verify()).ok).toBe(true);
    expect((await logOver(events.slice(0, 3)).verify([checkpoint])).broken).toMatchObject({ reason: expect.stringMatching(/checkpoint saw seq 5.*deleted/) });
    expect((await logOver(events).verify([checkpoint, { seq: 2, row_hash: events[1]!.rowHash }])).ok).toBe(true);
  });

  it('detects a chain rewritten from a checkpointed event on', async () => {
    const events = chain(5);
    // Re-chained consistently from scratch with other content: the chain alone verifies.
    const forged: AuditEvent[] = [];
    let prev = genesisHash;
    for (const e of events) {
      const base = { ...e, details: { forged: true } };
      const rowHash = auditRowHash(prev, base);
      forged.push({ ...base, prevHash: prev, rowHash });
      prev = rowHash;
    }
    expect((await logOver(forged).verify()).ok).toBe(true);
    expect((await logOver(forged).verify([{ seq: 3, row_hash: events[2]!.rowHash }])).broken).toMatchObject({
      seq: 3,
      reason: expect.stringMatching(/checkpoint/),
    });
  });
});
