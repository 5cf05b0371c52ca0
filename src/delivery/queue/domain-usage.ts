import type { Executor } from '../../store/store.ts';

/**
 * For the domains capability: a sending domain must not be deleted while mail from it waits in
 * the queue, since the sender needs its DKIM key and return-path domain to deliver that mail.
 */
export async function queuedMailFromDomain(db: Executor, domain: { id: string; domain: string }): Promise<string | null> {
  const row = await db.selectFrom('delivery_recipients as r').innerJoin('delivery_messages as m', 'm.id', 'r.message_id')
    .select((eb) => eb.fn.countAll<number>().as('n')).where('m.from_domain', '=', domain.domain).where('r.state', '=', 'queued').executeTakeFirst();
  const n = Number(row?.n ?? 0);
  return n > 0 ? `${n} queued recipient(s) still wait for mail from ${domain.domain}` : null;
}
