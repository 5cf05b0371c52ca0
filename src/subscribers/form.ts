import type { Actor } from '../audit/log.ts';
import { AppError, invalid, notFound } from '../core/errors.ts';
import { getPlatformSecret } from '../core/secrets.ts';
import { sendMessages } from '../messages/service.ts';
import type { Store } from '../store/store.ts';
import { checkEmail } from './email.ts';
import { confirmationUrl } from './optin.ts';
import { WindowLimiter } from './rate.ts';
import { SharedWindowLimiter } from '../cluster/index.ts';
import { subscribe } from './subscribers.ts';

interface Limiter {
  take(key: string): number | null | Promise<number | null>;
}

export interface FormDeps {
  store: Store;
  publicUrl: string;
  maxMessageBytes: number;
  /** Per client address; default 5 sign-ups in 10 minutes. */
  perClient?: Limiter;
  /** Per list; default 300 a minute. */
  perList?: Limiter;
}

const CONFIRMATION = {
  subject: '请确认订阅「{{ list }}」/ Please confirm your subscription to "{{ list }}"',
  html: '<p>您好，请点击下面的链接确认订阅「{{ list }}」：</p><p><a href="{{ confirmUrl }}">确认订阅</a></p>'
    + '<p>Hello, please confirm your subscription to "{{ list }}":</p><p><a href="{{ confirmUrl }}">Confirm</a></p>'
    + '<p>如果不是您本人操作，请忽略此邮件。If you did not ask for this, ignore this mail.</p>',
};

// A second sign-up for an address that is still unconfirmed mails again only after this long.
const RESEND_AFTER_MS = 10 * 60 * 1000;

/** Public form settings of a list, or not_found when it has no enabled form. */
export async function formList(store: Store, listId: string) {
  const list = await store.db.selectFrom('subscriber_lists').selectAll().where('id', '=', listId).executeTakeFirst();
  if (!list || !list.form_enabled) throw notFound('subscribe form');
  return list;
}

/**
 * A sign-up from the hosted form. Rate-limited per client and per list. On a double opt-in
 * list the address becomes unconfirmed and gets the confirmation mail (one click confirms);
 * otherwise it is subscribed at once. The answer never tells whether the address was known.
 */
export function makeFormHandler(deps: FormDeps) {
  // Several nodes on one PostgreSQL count together; a single SQLite node counts in memory.
  const shared = deps.store.engine === 'postgres';
  const perClient = deps.perClient ?? (shared ? new SharedWindowLimiter(deps.store, 'form-client', 5, 10 * 60 * 1000) : new WindowLimiter(5, 10 * 60 * 1000));
  const perList = deps.perList ?? (shared ? new SharedWindowLimiter(deps.store, 'form-list', 300, 60 * 1000) : new WindowLimiter(300, 60 * 1000));
  return async (listId: string, input: { email?: unknown; name?: unknown }, clientIp: string): Promise<{ confirmationSent: boolean; doubleOptIn: boolean }> => {
    const list = await formList(deps.store, listId);
    const wait = (await perClient.take(`${clientIp}|${listId}`)) ?? (await perList.take(listId));
    if (wait !== null) throw new AppError('rate_limited', 'too many sign-ups; try again later', { retryAfterSeconds: wait });
    const c = checkEmail(typeof input.email === 'string' ? input.email : '');
    if (!c.ok) throw invalid(c.reason, [{ field: 'email', message: c.reason }]);
    const name = typeof input.name === 'string' && input.name.trim() ? input.name.trim().slice(0, 256) : undefined;
    const actor: Actor = { operator: `form:${c.email}`, clientIp, role: 'system', tenantId: list.tenant_id };
    const before = await deps.store.db.selectFrom('list_members as m').innerJoin('subscribers as s', 's.id', 'm.subscriber_id')
      .select(['m.status', 'm.updated_at']).where('m.list_id', '=', list.id).where('s.email', '=', c.email).executeTakeFirst();
    if (before?.status === 'subscribed') return { confirmationSent: false, doubleOptIn: list.double_opt_in === 1 };
    if (!list.double_opt_in) {
      await subscribe(deps.store, actor, { tenantId: list.tenant_id, listId: list.id, email: c.email, name, status: 'subscribed', source: 'form' });
      return { confirmationSent: false, doubleOptIn: false };
    }
    if (before?.status === 'unconfirmed' && Date.now() - before.updated_at < RESEND_AFTER_MS) return { confirmationSent: false, doubleOptIn: true };
    const r = await subscribe(deps.store, actor, { tenantId: list.tenant_id, listId: list.id, email: c.email, name, status: 'unconfirmed', source: 'form' });
    const confirmUrl = confirmationUrl(deps.publicUrl, await getPlatformSecret(deps.store), { tenantId: list.tenant_id, listId: list.id, subscriberId: r.subscriber.id });
    await sendMessages(deps.store, { tenantId: list.tenant_id, accountId: list.sender_account_id!, actor, maxMessageBytes: deps.maxMessageBytes }, {
      from: list.sender_from!, subject: CONFIRMATION.subject, html: CONFIRMATION.html, stream: 'transactional', tracking: false,
      vars: { list: list.name, confirmUrl }, recipients: [{ email: c.email }], tags: ['double-opt-in'],
    });
    return { confirmationSent: true, doubleOptIn: true };
  };
}
