import { createLogger, type Logger } from '../../src/observability/logger.ts';

/** A pino logger whose lines are kept in memory, for assertions on what gets logged. */
export function memoryLogger(level = 'info'): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const log = createLogger({ level, destination: { write: (line: string) => void lines.push(line) } });
  return { log, lines };
}
