const TEXT = {
  'zh-CN': {
    title: '退订', confirm: (e: string) => `确认不再向 ${e} 发送此类邮件？`, button: '确认退订',
    done: (e: string) => `${e} 已退订，之后的邮件将不再发送。`, invalid: '此链接无效或已被篡改。',
  },
  en: {
    title: 'Unsubscribe', confirm: (e: string) => `Stop sending these emails to ${e}?`, button: 'Unsubscribe',
    done: (e: string) => `${e} is unsubscribed; no further emails of this kind will be sent.`, invalid: 'This link is not valid or has been altered.',
  },
} as const;

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The recipient's confirmation and result pages, in Chinese or English. */
export function unsubscribePage(lang: 'zh-CN' | 'en', state: 'confirm' | 'done' | 'invalid', data: { email?: string; action?: string } = {}): string {
  const t = TEXT[lang];
  const email = escape(data.email ?? '');
  const body = state === 'confirm'
    ? `<p>${t.confirm(email)}</p><form method="post" action="${escape(data.action ?? '')}"><button type="submit">${t.button}</button></form>`
    : state === 'done' ? `<p>${t.done(email)}</p>` : `<p>${t.invalid}</p>`;
  return `<!doctype html><html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${t.title}</title></head><body style="font-family:sans-serif;max-width:32em;margin:3em auto">${body}</body></html>`;
}

const LINK_ERROR = {
  'zh-CN': { title: '链接无效', text: '此链接无效或已被篡改。' },
  en: { title: 'Invalid link', text: 'This link is not valid or has been altered.' },
} as const;

/** The page any recipient link (/u, /t, /s) answers when it cannot even be routed. */
export function linkErrorPage(lang: 'zh-CN' | 'en'): string {
  const t = LINK_ERROR[lang];
  return `<!doctype html><html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><meta name="robots" content="noindex"><title>${t.title}</title></head><body style="font-family:sans-serif;max-width:32em;margin:3em auto"><p>${t.text}</p></body></html>`;
}
