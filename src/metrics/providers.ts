/**
 * The mailbox providers metrics are labelled by: a curated list, so that labels stay bounded
 * (a recipient domain never becomes a label). Everything else is `other`.
 */
const PROVIDERS: Record<string, string> = {
  'qq.com': 'qq', 'foxmail.com': 'qq', 'vip.qq.com': 'qq',
  '163.com': 'netease', '126.com': 'netease', 'yeah.net': 'netease', 'vip.163.com': 'netease', '188.com': 'netease',
  'sina.com': 'sina', 'sina.cn': 'sina', 'vip.sina.com': 'sina',
  'sohu.com': 'sohu',
  'aliyun.com': 'aliyun', 'alibaba-inc.com': 'aliyun',
  '139.com': 'china_mobile', '189.cn': 'china_telecom', 'wo.cn': 'china_unicom',
  'gmail.com': 'gmail', 'googlemail.com': 'gmail',
  'outlook.com': 'microsoft', 'hotmail.com': 'microsoft', 'live.com': 'microsoft', 'msn.com': 'microsoft',
  'yahoo.com': 'yahoo', 'yahoo.com.hk': 'yahoo', 'ymail.com': 'yahoo',
  'icloud.com': 'apple', 'me.com': 'apple', 'mac.com': 'apple',
};

export const PROVIDER_NAMES = [...new Set(Object.values(PROVIDERS)), 'other'];

export function providerOf(domain: string): string {
  return PROVIDERS[domain.toLowerCase()] ?? 'other';
}
