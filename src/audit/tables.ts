import type { Generated } from 'kysely';

export interface OperationLogTable {
  id: Generated<number>;
  at: number;
  operation: string;
  object_type: string;
  object_id: string | null;
  description: string;
  operator: string;
  client_ip: string;
  tenant_id: string | null;
  /** JSON with secrets already redacted. */
  details: string;
  prev_hash: string;
  hash: string;
}

export interface AuditTables {
  operation_log: OperationLogTable;
}

/** Adds these tables to the store's typed Database (src/store/schema.ts). */
declare module '../store/schema.ts' {
  interface Database extends AuditTables {}
}
