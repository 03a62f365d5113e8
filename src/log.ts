import { pino, type Logger } from 'pino';

/**
 * The process logger. JSON, one line per event. Components take a child with
 * `{ component, channel }` so every line about a channel carries its id.
 * Stream keys and tokens are redacted wherever they appear under these names.
 */
export function createLogger(level: string = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({
    level,
    base: { pid: process.pid },
    redact: { paths: ['streamKey', '*.streamKey', 'token', '*.token', 'key', '*.key'], censor: '[redacted]' },
  });
}

/** A logger that drops everything, for tests that do not assert on logs. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

export type { Logger };
