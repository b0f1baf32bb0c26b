/**
 * The only code that writes to a uWS HttpResponse. All writes are corked (one syscall per
 * response) and skipped once the request was aborted.
 */
import { STATUS_CODES } from 'node:http';
import type { HttpResponse } from './uws.ts';
import type { ChunkWriter, Reply, RequestContext } from './context.ts';
import { etagFor, ifNoneMatchMatches } from './etag.ts';

/** "200 OK" etc., built once: uWS wants the whole status line. */
const statusLines = new Map<number, string>(Object.entries(STATUS_CODES).map(([code, text]) => [Number(code), `${code} ${text ?? ''}`]));

export function statusText(status: number): string {
  return STATUS_CODES[status] ?? 'Unknown';
}

export interface WriteOptions {
  /** Compute a strong ETag for 200 responses and answer If-None-Match with 304. */
  etag: boolean;
  /** Close the connection after this response (draining, or request body left unread). */
  close: boolean;
}

export const jsonContentType = 'application/json; charset=utf-8';

export function writeReply(res: HttpResponse, ctx: RequestContext, reply: Reply, options: WriteOptions): void {
  if (ctx.aborted) return;
  let status = reply.status;
  let payload: string | Buffer | undefined;
  let contentType: string | undefined;
  if (reply.raw) {
    payload = reply.raw.payload;
    contentType = reply.raw.contentType;
  } else if (reply.json !== undefined) {
    payload = JSON.stringify(reply.json);
    contentType = jsonContentType;
  }
  let etag: string | undefined;
  if ((options.etag || reply.etag) && status === 200 && payload !== undefined) {
    etag = reply.etag ?? etagFor(payload);
    if (ifNoneMatchMatches(ctx.ifNoneMatch, etag)) {
      status = 304;
      payload = undefined;
      contentType = undefined;
    }
  }
  const close = options.close || !ctx.bodyConsumed;
  ctx.status = status;
  ctx.responseBytes = payload === undefined ? 0 : Buffer.byteLength(payload);
  res.cork(() => {
    res.writeStatus(statusLines.get(status) ?? `${status} Unknown`);
    res.writeHeader('X-Request-Id', ctx.requestId);
    if (contentType) res.writeHeader('Content-Type', contentType);
    if (etag) res.writeHeader('ETag', etag);
    if (reply.headers) for (const name in reply.headers) res.writeHeader(name, reply.headers[name]!);
    if (status === 204 || status === 304) {
      // No Content-Length on bodiless statuses. Passing `undefined` as the length makes the
      // binding write Content-Length: 9223372036854775808 (uWS v20.30), which breaks strict
      // clients (test/regressions/empty-status-framing.test.ts).
      if (close) res.endWithoutBody(0, true);
      else res.endWithoutBody();
    } else if (ctx.isHead) {
      res.endWithoutBody(ctx.responseBytes, close);
    } else {
      res.end(payload ?? '', close);
    }
  });
}

export class ClientGone extends Error {
  constructor() {
    super('client disconnected');
    this.name = 'ClientGone';
  }
}

/**
 * Streams `reply.stream` with chunked encoding. uWS's write() copies a chunk it cannot send yet
 * into its own buffer and returns false; the producer then waits for onWritable, so at most
 * one chunk is ever buffered per response (constant memory for any size of export).
 * A failure after the head was sent cannot become an error status: the connection is closed
 * instead, so the client sees a truncated transfer, never a silently "complete" one.
 */
export async function writeStream(res: HttpResponse, ctx: RequestContext, reply: Reply, stallTimeoutMs: number): Promise<void> {
  const stream = reply.stream!;
  try {
    if (ctx.aborted) return;
    ctx.status = reply.status;
    res.cork(() => {
      res.writeStatus(statusLines.get(reply.status) ?? `${reply.status} Unknown`);
      res.writeHeader('X-Request-Id', ctx.requestId);
      res.writeHeader('Content-Type', stream.contentType);
      if (reply.headers) for (const name in reply.headers) res.writeHeader(name, reply.headers[name]!);
      // HEAD: the head alone; the body (and the work behind it) is never produced.
      if (ctx.isHead) res.endWithoutBody();
    });
    if (ctx.isHead) return;
    await produceInto(res, ctx, stream.produce, stallTimeoutMs);
  } finally {
    stream.release?.();
  }
}

async function produceInto(res: HttpResponse, ctx: RequestContext, produce: (write: ChunkWriter) => Promise<void>, stallTimeoutMs: number): Promise<void> {
  const write = async (chunk: string): Promise<void> => {
    if (ctx.aborted) throw new ClientGone();
    let accepted = true;
    res.cork(() => {
      accepted = res.write(chunk);
    });
    ctx.responseBytes += Buffer.byteLength(chunk);
    if (accepted) return;
    // Backpressure: wait for the client to take the buffered chunk, but not forever. A reader
    // that stalls longer than the deadline holds a database cursor for nothing; cut it off.
    const stalled = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(true), stallTimeoutMs);
      ctx.onAbort = () => {
        clearTimeout(timer);
        resolve(false);
      };
      res.onWritable(() => {
        clearTimeout(timer);
        resolve(false);
        return true;
      });
    });
    ctx.onAbort = undefined;
    if (stalled) throw new StreamStalled(stallTimeoutMs);
    if (ctx.aborted) throw new ClientGone();
  };
  try {
    await produce(write);
    if (!ctx.aborted) res.cork(() => res.end());
  } catch (err) {
    // Closing without the terminating chunk: the client sees a truncated transfer.
    if (!ctx.aborted) res.close();
    if (!(err instanceof ClientGone)) throw err;
  }
}

/** The client accepted nothing for the stall deadline: the stream was cut off. */
export class StreamStalled extends Error {
  constructor(ms: number) {
    super(`the client accepted no data for ${ms} ms; the stream was cut off`);
    this.name = 'StreamStalled';
  }
}
