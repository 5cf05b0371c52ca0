export interface IdempotencyKeyTable {
  tenant_id: string;
  key: string;
  /** SHA-256 of the request body: a reused key with another body is refused. */
  request_hash: string;
  /** The JSON response first given, replayed for retries. */
  response: string;
  created_at: number;
}

export interface UploadTable {
  id: string;
  tenant_id: string;
  filename: string;
  content_type: string;
  size: number;
  content: Buffer;
  created_at: number;
}

export interface MessageApiTables {
  idempotency_keys: IdempotencyKeyTable;
  uploads: UploadTable;
}

/** Adds these tables to the store's typed Database (src/store/schema.ts). */
declare module '../store/schema.ts' {
  interface Database extends MessageApiTables {}
}
