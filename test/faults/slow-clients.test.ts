/**
 * Slow clients (issue 12): 200 connections that dribble a request head one byte at a time and
 * 200 that send a head and then the body one byte at a time must not slow /health down, must
 * not hold the server's memory, and must not delay shutdown.
 */
import net from 'node:net';
import { afterAll, expect, it } from 'vitest';
import { adminKey } from '../support/server.ts';
import { useTestWorld } from '../support/world.ts';

const sockets: net.Socket[] = [];
const world = useTestWorld({ inventory: false });
afterAll(async () => {
  for (const s of sockets) s.destroy();
});

function dribble(text: string, everyMs: number): void {
  const { hostname, port } = new URL(world.server.url);
  const socket = net.connect(Number(port), hostname);
  socket.on('error', () => undefined);
  sockets.push(socket);
  let i = 0;
  const timer = setInterval(() => {
    if (socket.destroyed || i >= text.length) return clearInterval(timer);
    socket.write(text[i++]!);
  }, everyMs);
  timer.unref();
  socket.on('close', () => clearInterval(timer));
}

it('keeps /health fast and shuts down promptly with 400 slow connections open', async () => {
  const head = `POST /api/v1/teams HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${adminKey}\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n`;
  for (let i = 0; i < 200; i++) dribble(head, 50);
  for (let i = 0; i < 200; i++) dribble(`${head}${'{"name":"slow"'.padEnd(200, ' ')}`, 5);
  await new Promise((r) => setTimeout(r, 1_500)); // all 400 connected and dribbling before /health is timed
  const latencies: number[] = [];
  for (let i = 0; i < 20; i++) {
    const started = performance.now();
    expect((await fetch(`${world.server.url}/health`)).status).toBe(200);
    latencies.push(performance.now() - started);
  }
  latencies.sort((a, b) => a - b);
  expect(latencies[Math.floor(latencies.length / 2)]!).toBeLessThan(50);
  const started = performance.now();
  await world.server.app.close();
  expect(performance.now() - started).toBeLessThan(2_000);
});
