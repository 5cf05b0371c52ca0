import pino from 'pino';
import type { FanoutConfig } from '../config/schema.ts';

export type Logger = pino.Logger;

/**
 * JSON logs on stdout; credentials, keys, tokens, TOTP codes and cookies are redacted wherever
 * these fields appear. The HTTP layer logs no bodies or headers at all (http/problems.ts).
 */
export function createLogger(config: Pick<FanoutConfig, 'logLevel'>, destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level: config.logLevel,
    redact: {
      paths: [
        'password', '*.password', 'currentPassword', '*.currentPassword', 'newPassword', '*.newPassword',
        'req.headers.authorization', 'req.headers.cookie', 'req.headers["x-csrf-token"]', 'headers.authorization', 'headers.cookie', '*.headers.authorization', '*.headers.cookie',
        'key', '*.key', 'secret', '*.secret', 'secretKey', '*.secretKey', 'encryptionKey', '*.encryptionKey', 'token', '*.token', 'code', '*.code', 'privateKeyPem', '*.privateKeyPem',
      ],
      censor: '[redacted]',
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
