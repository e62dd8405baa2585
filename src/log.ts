// The process logger (pino, JSON lines). Header values and anything named like a secret are
// redacted at construction, not per call.
import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

export const REDACT_PATHS = [
  'headers.authorization',
  'headers.cookie',
  'headers["proxy-authorization"]',
  '*.headers',
  'req.headers.authorization',
  'config.servers.*.headers',
  'config.servers.*.env',
  '*.password',
  '*.token',
  '*.secret',
  '*.apiKey',
];

export function createLogger(level: LevelWithSilent = 'info', destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: { pid: process.pid },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination ?? pino.destination({ dest: 1, sync: false }),
  );
}
