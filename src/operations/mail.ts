import { resolveAccount } from '../accounts/index.ts';
import { findSendingDomain } from '../domains/index.ts';
import { parseFrom } from '../messages/index.ts';
import { sendMessages } from '../messages/index.ts';
import type { OpsDeps } from './context.ts';
import { SYSTEM_ACTOR } from './context.ts';

export interface OpsMail {
  to: string[];
  subject: string;
  text: string;
  html?: string;
}

export type MailOutcome = { sent: true; messageIds: string[] } | { sent: false; reason: string };

/**
 * Escalation and survey mail goes out the way every customer message does: rendered, queued,
 * DKIM-signed and delivered by Fanout's own sender, from `operations.mail.from` with the sending
 * account `operations.mail.account`. Without them nothing is sent and the caller records why.
 */
export async function sendOpsMail(deps: OpsDeps, mail: OpsMail): Promise<MailOutcome> {
  const cfg = deps.config.operations.mail;
  const to = [...new Set(mail.to.map((a) => a.trim()).filter(Boolean))];
  if (!to.length) return { sent: false, reason: 'no recipient address' };
  if (!cfg.from || !cfg.account) return { sent: false, reason: 'operations.mail.from and operations.mail.account are not configured' };
  try {
    const from = parseFrom(cfg.from, 'operations.mail.from');
    const domain = await findSendingDomain(deps.store.db, from.domain);
    if (!domain) return { sent: false, reason: `${from.domain} (operations.mail.from) is not a sending domain` };
    const account = await resolveAccount(deps.store.db, domain.tenantId, cfg.account);
    const { response } = await sendMessages(deps.store, {
      tenantId: domain.tenantId, accountId: account.id, actor: SYSTEM_ACTOR, maxMessageBytes: deps.config.smtp.maxMessageBytes, suppression: null,
    }, {
      from: cfg.from, subject: '{{ subject }}', text: '{{ text }}', ...(mail.html ? { html: '{{ html | raw }}' } : {}), stream: 'transactional',
      vars: { subject: mail.subject, text: mail.text, html: mail.html ?? '' }, recipients: to.map((email) => ({ email })),
    });
    return { sent: true, messageIds: response.messages.map((m) => m.messageId) };
  } catch (err) {
    deps.log?.warn({ err }, 'operations mail not sent');
    return { sent: false, reason: err instanceof Error ? err.message : String(err) };
  }
}
