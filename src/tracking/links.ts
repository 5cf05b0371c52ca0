// An <a ...> start tag; attribute values may hold '>' inside quotes.
const A_TAG = /<a\b(?:[^>"']|"[^"]*"|'[^']*')*>/gi;
const HREF = /(\shref\s*=\s*)(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+))/i;

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", '#39': "'" };
const decode = (s: string) => s.replace(/&(amp|lt|gt|quot|apos|#39);/g, (_m, e: string) => ENTITIES[e] ?? _m);
const encodeAttr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * Rewrites the href of every `<a>` whose target is http(s) through `makeUrl` (e.g. into a
 * signed click-tracking URL). Other schemes (mailto:, tel:, #anchors) and links carrying
 * `data-fanout-notrack` are left alone; `makeUrl` gets the decoded URL and may return it
 * unchanged to skip one. The result is written back HTML-escaped and double-quoted.
 */
export function rewriteLinks(html: string, makeUrl: (href: string) => string): string {
  return html.replace(A_TAG, (tag) => {
    if (/\sdata-fanout-notrack\b/i.test(tag)) return tag;
    const m = HREF.exec(tag);
    if (!m) return tag;
    const href = decode((m[2] ?? m[3] ?? m[4] ?? '').trim());
    if (!/^https?:\/\//i.test(href)) return tag;
    const next = makeUrl(href);
    if (next === href) return tag;
    return tag.slice(0, m.index) + `${m[1]}"${encodeAttr(next)}"` + tag.slice(m.index + m[0].length);
  });
}
