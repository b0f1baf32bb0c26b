/**
 * The process logger. pino writes through an asynchronous destination (SonicBoom with
 * sync: false) so a log call on a request path costs a string concat and a buffered write,
 * never a blocking write(2). `flushLogger` drains it at shutdown.
 */
import pino, { type Logger, type DestinationStream } from 'pino';
import { truncate } from '../text.ts';

export type { Logger };

export interface LoggerOptions {
  level: string;
  /** Where lines go; default: stdout through an async SonicBoom. Tests pass a memory stream. */
  destination?: DestinationStream;
}

/** Header values that must never reach a log line, whatever a caller passes. */
const redactPaths = ['req.headers.authorization', 'headers.authorization', 'authorization', 'apiKey', 'key', 'token'];

export function createLogger(options: LoggerOptions): Logger {
  const destination = options.destination ?? pino.destination({ dest: 1, sync: false });
  return pino(
    {
      level: options.level,
      base: { service: 'certfleet' },
      redact: { paths: redactPaths, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

/** Flushes buffered lines synchronously; safe to call on any logger. */
export function flushLogger(logger: Logger): void {
  try {
    logger.flush();
  } catch {
    // A destination that cannot flush (already closed) has nothing left to lose.
  }
}

/**
 * Makes a value from a request safe for a log line: control characters (CR, LF, NUL, ESC ...)
 * become '?', and the length is capped so one request cannot write a megabyte line.
 */
export function scrubForLog(value: string, maxLength = 512): string {
  // eslint-disable-next-line no-control-regex
  const cleaned = value.replace(/[\u0000-\u001f\u007f]/g, '?');
  return cleaned.length > maxLength ? `${truncate(cleaned, maxLength)}...` : cleaned;
}
