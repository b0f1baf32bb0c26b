/**
 * The HTTP pipeline over real loopback sockets: routing (404/405/HEAD), body limits (413),
 * content types (415), malformed JSON (400), validation (400 naming the field), request ids,
 * and access-log hygiene.
 */
import { describe, expect, it } from 'vitest';
import { rawRequest } from '../support/raw-http.ts';
import { adminKey } from '../support/server.ts';
import { useTestWorld } from '../support/world.ts';

const limit = 4096;

const world = useTestWorld({ env: { CERTFLEET_MAX_BODY_BYTES: String(limit) }, inventory: false });

async function errorBody(res: Response) {
  expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
  const body = (await res.json()) as Record<string, string>;
  expect(Object.keys(body).sort()).toEqual(['code', 'error', 'message', 'request_id']);
  expect(body.request_id).toBe(res.headers.get('x-request-id'));
  return body;
}

describe('routing', () => {
  it('answers unknown paths with a 404 envelope', async () => {
    const res = await world.server.request('/api/v1/nothing-here');
    expect(res.status).toBe(404);
    const body = await errorBody(res);
    expect(body).toMatchObject({ error: 'Not Found', code: 'CF_ERR_NOT_FOUND' });
  });

  it('answers a known path with the wrong method with 405 and Allow', async () => {
    const res = await world.server.request('/api/v1/auth/keys', { method: 'PUT' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, HEAD, POST');
    expect((await errorBody(res)).code).toBe('CF_ERR_METHOD_NOT_ALLOWED');

    const withParam = await world.server.request('/api/v1/auth/keys/ak-1', { method: 'POST' });
    expect(withParam.status).toBe(405);
    expect(withParam.headers.get('allow')).toBe('DELETE, GET, HEAD');
  });

  it('serves HEAD for every GET with headers and no body', async () => {
    // A body that cannot change between the two requests (no EAB key is made in this file;
    // /health's uptime_seconds can gain a digit between them: CI saw 141 bytes against 142).
    const get = await world.server.request('/api/v1/acme/eab-keys');
    const getBody = await get.text();
    expect(get.status).toBe(200);
    const head = await world.server.request('/api/v1/acme/eab-keys', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toBe(get.headers.get('content-type'));
    expect(Number(head.headers.get('content-length'))).toBe(Buffer.byteLength(getBody));
    expect(await head.text()).toBe('');

    const raw = await rawRequest(world.server.url, 'HEAD /api/v1/auth/keys HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ' + adminKey);
    expect(raw.status).toBe(200);
    expect(raw.body).toBe('');
  });

  it('rejects a malformed percent-escape in a path parameter with 400', async () => {
    const res = await world.server.request('/api/v1/auth/keys/%E0%A4%A');
    expect(res.status).toBe(400);
    expect((await errorBody(res)).message).toMatch(/percent-encoding/);
  });
});

describe('request bodies', () => {
  const post = (body: string, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
    world.server.request('/api/v1/auth/keys', { method: 'POST', body, headers });

  it('415 when the content type is not JSON', async () => {
    const res = await post('{"name":"x","role":"viewer"}', { 'content-type': 'text/plain' });
    expect(res.status).toBe(415);
    expect((await errorBody(res)).code).toBe('CF_ERR_UNSUPPORTED_MEDIA_TYPE');
    expect((await post('{}', {})).status).toBe(415);
  });

  it('accepts JSON content types with parameters and +json suffixes', async () => {
    const res = await post('{"name":"ct-1","role":"viewer"}', { 'content-type': 'application/json;charset=UTF-8' });
    expect(res.status).toBe(201);
    const res2 = await post('{"name":"ct-2","role":"viewer"}', { 'content-type': 'application/merge-patch+json' });
    expect(res2.status).toBe(201);
  });

  it('400 on malformed JSON', async () => {
    const res = await post('{"name": "x",');
    expect(res.status).toBe(400);
    expect((await errorBody(res)).code).toBe('CF_ERR_INVALID_JSON');
  });

  it('400 naming the field on invalid input', async () => {
    const res = await post('{"name":"ok","role":"superuser"}');
    expect(res.status).toBe(400);
    const body = await errorBody(res);
    expect(body.code).toBe('CF_ERR_VALIDATION');
    expect(body.message).toMatch(/^role: /);
    const missing = await errorBody(await post(''));
    expect(missing.message).toMatch(/body/);
    const extra = await errorBody(await post('{"name":"ok","role":"viewer","admin":true}'));
    expect(extra.message).toMatch(/admin/);
  });

  it('400 naming the query parameter, never the body, on a bad query string', async () => {
    const unknown = await world.server.request('/api/v1/certificates?limit=10');
    expect(unknown.status).toBe(400);
    expect((await errorBody(unknown)).message).toMatch(/^query: .*"limit"/);
    const tooBig = await world.server.request('/api/v1/certificates?per_page=100000');
    expect(tooBig.status).toBe(400);
    expect((await errorBody(tooBig)).message).toMatch(/^query\.per_page: /);
  });

  it('413 before reading a body whose declared length exceeds the limit', async () => {
    // Only the head is sent: the answer must come without waiting for any body byte.
    const res = await rawRequest(
      world.server.url,
      `POST /api/v1/auth/keys HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${adminKey}\r\nContent-Type: application/json\r\nContent-Length: ${limit * 100}`,
    );
    expect(res.status).toBe(413);
    expect(res.closed).toBe(true);
    expect(JSON.parse(res.body)).toMatchObject({ code: 'CF_ERR_PAYLOAD_TOO_LARGE' });
  });

  it('413 when a chunked body grows past the limit, and closes the connection', async () => {
    const chunk = 'a'.repeat(1024);
    const chunks = Array.from({ length: 8 }, () => `${chunk.length.toString(16)}\r\n${chunk}\r\n`);
    const res = await rawRequest(
      world.server.url,
      `POST /api/v1/auth/keys HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${adminKey}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked`,
      chunks,
    );
    expect(res.status).toBe(413);
    expect(res.closed).toBe(true);
  });

  it('accepts a body exactly at the limit (then validates it)', async () => {
    const name = 'n'.repeat(200);
    const padding = ' '.repeat(limit - JSON.stringify({ name, role: 'viewer' }).length);
    const body = JSON.stringify({ name, role: 'viewer' }) + padding;
    expect(Buffer.byteLength(body)).toBe(limit);
    const res = await post(body);
    expect(res.status).toBe(201);
  });

  it('answers 401 before a large body is read, and closes the connection', async () => {
    const res = await rawRequest(world.server.url, `POST /api/v1/auth/keys HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 4000`, [
      '{"name":',
    ]);
    expect(res.status).toBe(401);
    expect(res.closed).toBe(true);
  });
});

describe('request ids and logs', () => {
  it('echoes a safe X-Request-Id and generates one otherwise', async () => {
    const echoed = await world.server.request('/health', { headers: { 'x-request-id': 'trace-abc.123' } });
    expect(echoed.headers.get('x-request-id')).toBe('trace-abc.123');
    const generated = await world.server.request('/nope', { headers: { 'x-request-id': 'bad id with spaces' } });
    const id = generated.headers.get('x-request-id');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect((await generated.json()).request_id).toBe(id);
  });

  it('logs no Authorization value and no raw control characters from the request', async () => {
    const secret = 'cfk_this-token-must-never-be-logged-000000';
    await rawRequest(world.server.url, `GET /api/v1/auth/keys?x=%0d%0a HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${secret}`);
    await rawRequest(world.server.url, `GET /a%0d%0aInjected:%00/b HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${secret}`);
    await world.server.request('/api/v1/auth/keys', { auth: secret });
    const log = world.server.logLines.join('');
    expect(log).not.toContain('this-token-must-never-be-logged');
    expect(log).toContain('"status":401');
    for (const line of world.server.logLines) {
      const entry = JSON.parse(line) as { path?: string; method?: string };
      if (entry.path) expect(entry.path).not.toMatch(/[\r\n\0]/);
    }
  });
});
