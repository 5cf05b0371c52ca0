import { sql } from 'kysely';
import type { RawBuilder } from 'kysely';

/**
 * `column` contains `text`, ignoring case, the same on SQLite and PostgreSQL (lower() on both
 * sides; LIKE alone is case-blind only on SQLite). The user's `%`, `_` and `\` match themselves.
 */
export function containsText(column: string, text: string): RawBuilder<boolean> {
  const escaped = text.trim().toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`);
  return sql<boolean>`lower(${sql.ref(column)}) like ${`%${escaped}%`} escape '\\'`;
}
