/**
 * Issue 12, finding 7: a request whose client went away in the middle of its body stayed "in
 * flight" forever (20,000 aborted uploads left "unfinished":20000, +17 MB, and 50 of them made
 * SIGTERM wait 8.6 s instead of 1.4 s). Now the abort ends the request at once.
 */
import net from 'node:net';
import { expect, it } from 'vitest';
import { adminKey } from '../support/server.ts';
import { useTestWorld } from '../support/world.ts';

const world = useTestWorld({ inventory: false });

const inFlight = async () => {
  const text = await (await fetch(`${world.server.url}/metrics`)).text();
  return Number(/^certfleet_http_requests_in_flight (\d+)/m.exec(text)?.[1]);
};

function abortMidBody(): Promise<void> {
  const { hostname, port } = new URL(world.server.url);
  return new Promise((resolve) => {
    const socket = net.connect(Number(port), hostname, () => {
      socket.write(
        `POST /api/v1/teams HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${adminKey}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"name":"half`,
      );
      setTimeout(() => {
        socket.destroy();
        resolve();
      }, 20);
    });
    socket.on('error', () => resolve());
  });
}

it('ends requests whose client left mid-body, so none stays in flight and shutdown is prompt', async () => {
  await Promise.all(Array.from({ length: 200 }, abortMidBody));
  let n = Infinity;
  for (let i = 0; i < 50 && n > 1; i++) {
    n = await inFlight();
    if (n > 1) await new Promise((r) => setTimeout(r, 20));
  }
  expect(n).toBe(1); // the scrape itself
  // Fifty more left hanging right before shutdown do not hold it up.
  await Promise.all(Array.from({ length: 50 }, abortMidBody));
  const started = performance.now();
  await world.server.app.close();
  expect(performance.now() - started).toBeLessThan(1_500);
});
