/** Raw HTTP/1.1 over a socket, for what fetch hides: partial bodies, odd headers, closes. */
import net from 'node:net';

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** True when the server closed the connection after the response. */
  closed: boolean;
}

/**
 * Writes `head` (request line + headers, without the blank line), then `body` chunks, and reads
 * until the server closes or `idleMs` passes with the response complete.
 */
export function rawRequest(url: string, head: string, body: Array<string | Buffer> = [], idleMs = 300): Promise<RawResponse> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname);
    let data = '';
    let closed = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      const [headerPart = '', ...rest] = data.split('\r\n\r\n');
      const [statusLine = '', ...headerLines] = headerPart.split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of headerLines) {
        const i = line.indexOf(':');
        if (i > 0) headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
      }
      const status = Number(statusLine.split(' ')[1]);
      if (!status) reject(new Error(`no HTTP response; got ${JSON.stringify(data.slice(0, 200))}`));
      else resolve({ status, headers, body: rest.join('\r\n\r\n'), closed });
    };
    socket.on('data', (chunk) => {
      data += chunk.toString('latin1');
      clearTimeout(timer);
      timer = setTimeout(finish, idleMs);
    });
    socket.on('error', () => undefined); // EPIPE/ECONNRESET after the server closed: read what came
    socket.on('close', () => {
      closed = true;
      finish();
    });
    socket.write(`${head}\r\n\r\n`);
    for (const chunk of body) if (!socket.destroyed) socket.write(chunk);
  });
}
