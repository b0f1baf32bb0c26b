/**
 * PostgreSQL text cannot hold U+0000: a JSON string with "\u0000" that reached the database used
 * to fail there (22P05). It must be a 400 naming the field, never a 5xx.
 */
import { expect, it } from 'vitest';
import { useTestWorld } from '../support/world.ts';

const world = useTestWorld({ inventory: false });

it('answers 400 for a NUL character inside a JSON string', async () => {
  const res = await world.server.request('/api/v1/teams', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"name":"a\\u0000b"}',
  });
  expect(res.status).toBe(400);
  expect(((await res.json()) as { message: string }).message).toMatch(/NUL/);
});

it('answers 400 for %00 in a path parameter or a query parameter', async () => {
  const path = await world.server.request('/api/v1/teams/a%00b');
  expect(path.status).toBe(400);
  const query = await world.server.request('/api/v1/certificates?owner_id=a%00b');
  expect(query.status).toBe(400);
  expect(((await query.json()) as { message: string }).message).toMatch(/owner_id/);
});
