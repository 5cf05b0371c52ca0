import { invalid } from './errors.ts';

/** Account, tenant and user names: printable, no control characters, bounded. */
export function requireName(field: string, value: unknown, max = 128): string {
  if (typeof value !== 'string') throw invalid(`${field} must be a string`, [{ field, message: 'must be a string' }]);
  const v = value.trim();
  if (!v) throw invalid(`${field} must not be empty`, [{ field, message: 'must not be empty' }]);
  if (v.length > max) throw invalid(`${field} is longer than ${max} characters`, [{ field, message: `at most ${max} characters` }]);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(v)) throw invalid(`${field} contains control characters`, [{ field, message: 'contains control characters' }]);
  return v;
}

/** SMTP user names travel in AUTH PLAIN/LOGIN: no spaces, no NUL, no '@'-less weirdness needed. */
export function requireAccountName(value: unknown): string {
  const v = requireName('name', value, 64);
  if (!/^[A-Za-z0-9][A-Za-z0-9._@+-]*$/.test(v)) {
    throw invalid('name may contain only letters, digits and . _ @ + - and must start with a letter or digit', [{ field: 'name', message: 'invalid characters' }]);
  }
  return v;
}

export function requirePassword(value: unknown, field = 'password'): string {
  if (typeof value !== 'string') throw invalid(`${field} must be a string`, [{ field, message: 'must be a string' }]);
  if (value.length < 8) throw invalid(`${field} must be at least 8 characters`, [{ field, message: 'at least 8 characters' }]);
  if (value.length > 256) throw invalid(`${field} must be at most 256 characters`, [{ field, message: 'at most 256 characters' }]);
  return value;
}
