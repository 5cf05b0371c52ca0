import type { Executor } from '../../store/store.ts';

/**
 * What was sent, for the capabilities that tie mail coming back (bounces, complaints) to it:
 * the queue's tables are delivery's, read only through these.
 */

/** A sent recipient by its id: its tenant, address and message; null when unknown. */
export async function sentRecipient(db: Executor, recipientId: string): Promise<{ tenantId: string; recipient: string; messageId: string } | null> {
  const row = await db.selectFrom('delivery_recipients').select(['tenant_id', 'recipient', 'message_id']).where('id', '=', recipientId).executeTakeFirst();
  return row ? { tenantId: row.tenant_id, recipient: row.recipient, messageId: row.message_id } : null;
}

/** A message one of `tenantIds` sent, by the Message-ID header it carried; null when none did. */
export async function sentMessageByHeaderId(db: Executor, headerMessageId: string, tenantIds: readonly string[]): Promise<{ id: string; tenantId: string } | null> {
  if (!tenantIds.length) return null;
  const row = await db.selectFrom('delivery_messages').select(['id', 'tenant_id']).where('header_message_id', '=', headerMessageId)
    .where('tenant_id', 'in', [...tenantIds]).executeTakeFirst();
  return row ? { id: row.id, tenantId: row.tenant_id } : null;
}

/** The id of the message's recipient with this address, or null. */
export async function sentRecipientOf(db: Executor, messageId: string, address: string): Promise<string | null> {
  const row = await db.selectFrom('delivery_recipients').select('id').where('message_id', '=', messageId).where('recipient', '=', address).executeTakeFirst();
  return row?.id ?? null;
}
