import type { Actor } from '../audit/index.ts';
import { recordOperation } from '../audit/index.ts';
import { invalid } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import type { Executor, Store } from '../store/store.ts';

export interface UploadView {
  id: string;
  filename: string;
  contentType: string;
  size: number;
  createdAt: string;
}

/** Stores a file (e.g. a PDF statement) once so many messages can attach it by id. */
export async function createUpload(store: Store, actor: Actor, tenantId: string, input: { filename: string; contentType?: string; content: string }, maxBytes: number): Promise<UploadView> {
  if (!/^[A-Za-z0-9+/\r\n]*={0,2}\s*$/.test(input.content)) throw invalid('content must be base64', [{ field: '/body/content', message: 'base64 expected' }]);
  const content = Buffer.from(input.content, 'base64');
  if (content.length > maxBytes) throw invalid(`the file is ${content.length} bytes, over the limit of ${maxBytes}`, [{ field: '/body/content', message: 'too large' }]);
  const now = Date.now();
  const row = { id: newId('up', now), tenant_id: tenantId, filename: input.filename, content_type: input.contentType ?? 'application/octet-stream', size: content.length, content, created_at: now };
  await store.transaction(async (trx) => {
    await trx.insertInto('uploads').values(row).execute();
    await recordOperation(trx, actor, { operation: 'upload.create', objectType: 'upload', objectId: row.id, tenantId, description: `uploaded ${row.filename} (${row.size} bytes)` });
  });
  return { id: row.id, filename: row.filename, contentType: row.content_type, size: row.size, createdAt: new Date(now).toISOString() };
}

/** The tenant's uploads among `ids`; ids of other tenants are simply absent. */
export async function loadUploads(db: Executor, tenantId: string, ids: string[]): Promise<Map<string, { filename: string; contentType: string; content: Buffer }>> {
  const out = new Map<string, { filename: string; contentType: string; content: Buffer }>();
  if (!ids.length) return out;
  const rows = await db.selectFrom('uploads').selectAll().where('tenant_id', '=', tenantId).where('id', 'in', [...new Set(ids)]).execute();
  for (const r of rows) out.set(r.id, { filename: r.filename, contentType: r.content_type, content: Buffer.from(r.content) });
  return out;
}
