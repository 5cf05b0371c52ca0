/** Japanese mobile carriers and ISPs that write their own reports: au (EZweb, KDDI) and BIGLOBE. */
import type { Lhost } from './types.ts';

export const ezweb: Lhost = {
  name: 'EZweb',
  detect(m) {
    let signs = 0;
    const from = m.from.toLowerCase();
    if (from.includes('postmaster@ezweb.ne.jp') || from.includes('postmaster@au.com')) signs++;
    if (m.subject === 'Mail System Error - Returned Mail') signs++;
    if (m.received.some((r) => r.includes('ezweb.ne.jp (EZweb Mail) with') || r.includes('.au.com ('))) signs++;
    const id = m.header('message-id').trim();
    if (id.endsWith('.ezweb.ne.jp>') || id.endsWith('.au.com>')) signs++;
    return signs >= 2;
  },
  messages: [
    { reason: 'mailboxfull', phrases: ['the user(s) account is temporarily over quota'] },
    { reason: 'suspend', phrases: ['the user(s) account is disabled.', 'the user(s) account is temporarily limited.'] },
    { reason: 'expired', phrases: ['your message was not delivered within '] },
    { reason: 'onhold', phrases: ['each of the following recipients was rejected by a remote mail server'] },
  ],
};

export const kddi: Lhost = {
  name: 'KDDI',
  detect: (m) =>
    /no-reply@.*\.dion\.ne\.jp/i.test(m.from) || m.header('reply-to') === 'no-reply@app.auone-net.jp' ||
    m.received.some((r) => r.includes('ezweb.ne.jp (') || r.includes('.au.com (')),
  messages: [
    { reason: 'mailboxfull', phrases: ['as their mailbox is full'] },
    { reason: 'norelaying', phrases: ['due to the following smtp relay error'] },
    { reason: 'hostunknown', phrases: ['as the remote domain doesnt exist'] },
  ],
};

export const biglobe: Lhost = {
  name: 'Biglobe',
  detect: (m) => /postmaster@(?:biglobe|inacatv|tmtv|ttv)\.ne\.jp/i.test(m.from) && m.subject.startsWith('Returned mail:'),
  messages: [
    { reason: 'filtered', phrases: ['mail delivery failed... user unknown'] },
    { reason: 'mailboxfull', phrases: ["the number of messages in recipient's mailbox exceeded the local limit."] },
  ],
};
