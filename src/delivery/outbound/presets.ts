import type { SiteLimits } from './shaping.ts';

/**
 * Built-in shaping presets for the large mailbox providers, matched by MX host name.
 * The numbers are conservative starting points per source IP (what these providers tolerate
 * from a young IP without throttling), not published quotas; operators override them in
 * `delivery.shaping.presets`. Patterns: `*` matches any run of characters; `*.x.com` matches
 * any host under x.com.
 */
export interface ShapingPreset {
  name: string;
  match: string[];
  limits: SiteLimits;
}

export const BUILTIN_PRESETS: readonly ShapingPreset[] = Object.freeze([
  // gmail-smtp-in.l.google.com, aspmx.l.google.com (Google Workspace)
  { name: 'gmail', match: ['*.google.com', '*.googlemail.com'], limits: { maxConnections: 20, messagesPerConnection: 100, messagesPerMinute: 3000 } },
  // hotmail-com.olc.protection.outlook.com, *.mail.protection.outlook.com (Microsoft 365)
  { name: 'outlook', match: ['*.outlook.com', '*.hotmail.com', '*.outlook.cn'], limits: { maxConnections: 10, messagesPerConnection: 20, messagesPerMinute: 1000 } },
  // mta5.am0.yahoodns.net (also AOL)
  { name: 'yahoo', match: ['*.yahoodns.net', '*.yahoo.com'], limits: { maxConnections: 10, messagesPerConnection: 20, messagesPerMinute: 600 } },
  // mx1.qq.com, mx3.qq.com, mxbiz1.qq.com (Tencent Exmail)
  { name: 'qq', match: ['mxbiz*.qq.com', '*.qq.com'], limits: { maxConnections: 5, messagesPerConnection: 20, messagesPerMinute: 200 } },
  // 163mx01.mxmail.netease.com, 126mx00.mxmail.netease.com, mx.yeah.net, qiye163mx01.mxmail.netease.com
  { name: 'netease', match: ['*.netease.com', '*.163.com', '*.126.com', '*.126.net', '*.yeah.net', '*.188.com'], limits: { maxConnections: 5, messagesPerConnection: 10, messagesPerMinute: 120 } },
  // freemx1.sinamail.sina.com.cn, mx.sina.net
  { name: 'sina', match: ['*.sina.com.cn', '*.sina.com', '*.sina.net', '*.sinamail.sina.com.cn'], limits: { maxConnections: 3, messagesPerConnection: 10, messagesPerMinute: 60 } },
  // sohumx.h.a.sohu.com
  { name: 'sohu', match: ['*.sohu.com', '*.sohu.net'], limits: { maxConnections: 3, messagesPerConnection: 10, messagesPerMinute: 60 } },
  // mx1.aliyun.com (personal); mxw.mxhichina.com, mxn.mxhichina.com (Alibaba Mail for business)
  { name: 'aliyun', match: ['*.aliyun.com', '*.mxhichina.com', '*.alibaba.com', '*.aliyun-inc.com'], limits: { maxConnections: 5, messagesPerConnection: 20, messagesPerMinute: 200 } },
].map((p) => Object.freeze({ ...p, match: Object.freeze([...p.match]) as string[], limits: Object.freeze({ ...p.limits }) })));
