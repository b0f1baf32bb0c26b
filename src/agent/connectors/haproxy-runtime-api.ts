/**
 * HAProxy's runtime API (a `stats socket ... level admin`): replaces a loaded certificate in the
 * running process with no reload, so no connection is dropped and no new process starts:
 *
 *   set ssl cert <crt path> <<\n<leaf, chain and key PEM>\n\n   -> "Transaction created|updated ..."
 *   commit ssl cert <crt path>                                -> "... Success!"
 *
 * Each command goes over its own connection (HAProxy answers and closes in non-interactive
 * mode); the transaction lives in the process between them. On a refused step the transaction
 * is aborted, so the next attempt starts clean. The file on disk is written by the caller, so a
 * restart loads the same certificate.
 */
import net from 'node:net';

/** Sends one command (payload included) and returns HAProxy's whole answer. */
function send(socket: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const tcp = /^(\[[^\]]+\]|[^/:]+):(\d+)$/.exec(socket);
    const connection = tcp ? net.connect(Number(tcp[2]), tcp[1]!.replace(/^\[|\]$/g, '')) : net.connect(socket);
    let answer = '';
    connection.setEncoding('utf8');
    connection.setTimeout(10_000, () => connection.destroy(new Error(`HAProxy runtime API at ${socket} did not answer within 10 s`)));
    connection.on('data', (chunk: string) => (answer += chunk));
    connection.once('end', () => resolve(answer.trim()));
    connection.once('error', (err) => reject(new Error(`HAProxy runtime API at ${socket}: ${err.message}`)));
    connection.end(command);
  });
}

export async function updateHaproxyCertificate(target: { socket: string; certPath: string; pem: string }, responses: string[]): Promise<void> {
  // A payload ends at the first empty line: a PEM never has one, but a stray one would cut it.
  const payload = target.pem.replace(/\r?\n(\s*\r?\n)+/g, '\n').trimEnd();
  const step = async (command: string, success: RegExp) => {
    const answer = await send(target.socket, command);
    responses.push(answer.slice(0, 2000));
    if (!success.test(answer)) throw new Error(`HAProxy refused "${command.split('\n')[0]}": ${answer.split('\n').slice(0, 3).join(' | ')}`);
  };
  try {
    await step(`set ssl cert ${target.certPath} <<\n${payload}\n\n`, /^Transaction (created|updated)/m);
    await step(`commit ssl cert ${target.certPath}\n`, /Success!/);
  } catch (err) {
    await send(target.socket, `abort ssl cert ${target.certPath}\n`).then(
      (answer) => responses.push(answer.slice(0, 2000)),
      () => undefined,
    );
    throw err;
  }
}
