/**
 * pollUntilIssued against a real HTTP server on loopback standing in for an asynchronous CA:
 * pending, pending, then issued; a CA that fails; one that never finishes (max wait); growing,
 * jittered, clipped waits; the max-wait precedence.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pollMaxWaitMs, pollUntilIssued, type PollCheck } from './async-poll.ts';

const orders = new Map<string, string[]>([
  ['ord-1', ['pending', 'pending', 'issued']],
  ['ord-2', ['pending', 'failed']],
  ['ord-3', []], // pending forever
]);
const seen = new Map<string, number>();
let server: http.Server;
let base: string;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const id = req.url!.split('/').pop()!;
    const n = seen.get(id) ?? 0;
    seen.set(id, n + 1);
    const state = orders.get(id)?.[n] ?? 'pending';
    res.setHeader('content-type', 'application/json');
    res.end(
      JSON.stringify(
        state === 'issued'
          ? { status: 'issued', certificate: '-----BEGIN CERTIFICATE-----' }
          : state === 'failed'
            ? { status: 'failed', error: 'CAA forbids' }
            : { status: 'pending', detail: `validation ${n + 1}` },
      ),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

const check = (order: string) => async (): Promise<PollCheck<string>> => {
  const body = (await (await fetch(`${base}/orders/${order}`)).json()) as { status: string; certificate?: string; error?: string; detail?: string };
  if (body.status === 'issued') return { state: 'done', value: body.certificate! };
  if (body.status === 'failed') return { state: 'failed', reason: body.error! };
  return { state: 'pending', detail: body.detail };
};

describe('pollUntilIssued', () => {
  it('polls a pending order until it is issued, waiting longer each time', async () => {
    const waits: number[] = [];
    const sleep = async (ms: number) => {
      waits.push(ms);
      await new Promise((r) => setTimeout(r, ms));
    };
    const outcome = await pollUntilIssued(check('ord-1'), { initialWaitMs: 10, maxWaitMs: 5_000, random: () => 0.5, sleep });
    expect(outcome).toEqual({ state: 'done', value: '-----BEGIN CERTIFICATE-----', attempts: 3 });
    expect(waits).toEqual([10, 30]); // x3 per attempt; random 0.5 = no jitter
  });

  it("returns a CA's failure at once", async () => {
    expect(await pollUntilIssued(check('ord-2'), { initialWaitMs: 5 })).toEqual({ state: 'failed', reason: 'CAA forbids', attempts: 2 });
  });

  it('gives up at the max wait with the last pending detail, the last wait clipped', async () => {
    let clock = 0;
    const waits: number[] = [];
    const outcome = await pollUntilIssued(check('ord-3'), {
      initialWaitMs: 1_000,
      maxBackoffMs: 3_000,
      maxWaitMs: 6_000,
      random: () => 0.5,
      now: () => clock,
      sleep: async (ms) => {
        waits.push(ms);
        clock += ms;
      },
    });
    expect(waits).toEqual([1_000, 3_000, 2_000]); // 1 s, 3 s (capped), then what is left
    expect(outcome).toMatchObject({ state: 'timeout', attempts: 4 });
    expect((outcome as { detail: string }).detail).toMatch(/^validation \d+$/);
  });

  it('jitters each wait within ±20% by default, and stops when aborted', async () => {
    const waits: number[] = [];
    const controller = new AbortController();
    let clock = 0;
    const sequence = [0, 0.99999];
    const outcome = await pollUntilIssued(async () => ({ state: 'pending' }), {
      initialWaitMs: 1_000,
      random: () => sequence[waits.length] ?? 0.5,
      now: () => clock,
      signal: controller.signal,
      sleep: async (ms) => {
        waits.push(ms);
        clock += ms;
        if (waits.length === 2) controller.abort();
      },
    });
    expect(waits[0]).toBeCloseTo(800, 5);
    expect(waits[1]).toBeCloseTo(3_600, 0);
    expect(outcome).toMatchObject({ state: 'timeout', attempts: 2 });
    await expect(pollUntilIssued(async () => ({ state: 'pending' }), { jitter: 0.9 })).rejects.toThrow(/jitter/);
  });

  it('takes the max wait from the issuer, then the global setting, then 10 minutes', () => {
    expect(pollMaxWaitMs({ async_poll_max_wait_seconds: 30 }, 120)).toBe(30_000);
    expect(pollMaxWaitMs({}, 120)).toBe(120_000);
    expect(pollMaxWaitMs(undefined, undefined)).toBe(600_000);
  });
});
