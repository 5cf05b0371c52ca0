import type { CreateTableBuilder } from 'kysely';
import type { Engine } from './dialect.ts';

/**
 * Column helpers that keep the two engines' schemas identical in meaning:
 * times are epoch milliseconds in a bigint, flags are 0/1 integers, JSON is text.
 */
export function withAutoId<T extends string>(engine: Engine, table: CreateTableBuilder<T, never>, column = 'id') {
  return engine === 'postgres'
    ? table.addColumn(column, 'bigserial', (c) => c.primaryKey())
    : table.addColumn(column, 'integer', (c) => c.primaryKey().autoIncrement());
}
