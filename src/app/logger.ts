import pino from 'pino';
import type { FanoutConfig } from '../config/schema.ts';

export type Logger = pino.Logger;

/** JSON logs on stdout; credentials and cookies are redacted wherever they appear. */
export function createLogger(config: Pick<FanoutConfig, 'logLevel'>): Logger {
  return pino({
    level: config.logLevel,
    redact: { paths: ['password', '*.password', 'req.headers.authorization', 'req.headers.cookie', 'key', '*.key', 'privateKeyPem', '*.privateKeyPem'], censor: '[redacted]' },
  });
}
