/** SMTP reply parsing and throttle recognition, shared by egress, shaping and the sender. */

export interface SmtpReply {
  code: number | null;
  /** RFC 3463 enhanced status code, e.g. "5.1.1", when the reply carries one. */
  enhancedStatus: string | null;
  /** The reply text without codes; multi-line replies joined with a space. */
  text: string;
}

const REPLY_LINE = /^(\d{3})[ -]?(?:([245]\.\d{1,3}\.\d{1,3})\s+)?(.*)$/;

/** Parses a raw (possibly multi-line) reply such as "550-5.1.1 No such user\r\n550 5.1.1 here". */
export function parseSmtpReply(raw: string): SmtpReply {
  const lines = raw.split(/\r?\n/).filter((l) => l.length > 0);
  let code: number | null = null;
  let enhancedStatus: string | null = null;
  const texts: string[] = [];
  for (const line of lines) {
    const m = REPLY_LINE.exec(line);
    if (!m) {
      texts.push(line.trim());
      continue;
    }
    code ??= Number(m[1]);
    enhancedStatus ??= m[2] ?? null;
    if (m[3]) texts.push(m[3].trim());
  }
  return { code, enhancedStatus, text: texts.join(' ') || raw.trim() };
}

export type ThrottleSignal = 'none' | 'slow' | 'suspend';

// Greylisting asks for a retry of that message only; it says nothing about the site's rate.
const GREYLIST = /gr[ae]y.?list/i;
// A full mailbox is about one recipient, even when the text adds "try again later".
const MAILBOX_FULL = /mailbox (?:is )?full|over quota|quota exceeded|insufficient (?:system )?storage|\b4\.2\.2\b/i;

// Replies that mean "this IP is blocked for a while": keep sending and it only gets longer.
const SUSPEND = [
  /\bHL:(?:IHU|IFC|MEP|REP)\b/, // NetEase: IP suspended / short-term volume / abnormal behaviour
  /\bMI:SFQ\b/, // NetEase: sender's 15-minute quota exceeded
  /\[TS[S]?0\d\]/i, // Yahoo: [TSS04] / [TS01] temporarily deferred
  /\b4\.7\.28\b/, // Gmail: unusual rate of mail from this IP
  /\b4\.7\.65[01]\b/, // Outlook: IP temporarily rate limited due to reputation
  /unexpected volume|temporarily (?:suspended|blocked|banned)|ip (?:is )?(?:temporarily )?(?:blocked|suspended)/i,
];

// Replies that mean "slow down". Only consulted for 4xx, 421 and the 5xx listed below.
const SLOW = [
  /\b(?:HL|MI|RP):[A-Z]{3}\b/, // NetEase: HL:ICC concurrent connections, RP:QRC recipients, MI:DMC per-connection, ...
  /rate.?limit|ratelimit|throttl|frequency|too (?:fast|frequent)|slow down|at a rate that prevents/i,
  /too many (?:concurrent |simultaneous |open )?(?:connections|sessions|messages|mails|emails|recipients|rcpts|errors|commands|transactions)/i,
  /try (?:again |back )?later|temporarily deferred|server busy|system busy|resources? (?:temporarily )?unavailable|not accepting (?:network )?messages/i,
  /exceeded (?:the )?(?:connection|message|sending|rate|recipient)/i,
];

// Some Chinese providers answer a rate limit with 5xx (QQ "550 Ip frequency limited");
// those are throttles, not verdicts on the recipient.
const SLOW_5XX = [/frequency limit/i, /\bRP:TRC\b/, /\bHL:I[A-Z]{2}\b/, /rate.?limit/i, /too many connections/i];

/** Does this reply ask the sender to slow down (or stop for a while) for the whole site? */
export function classifyThrottle(code: number | null, enhancedStatus: string | null, text: string): ThrottleSignal {
  if (code === null) return 'none';
  const full = enhancedStatus ? `${enhancedStatus} ${text}` : text;
  if (GREYLIST.test(full) || MAILBOX_FULL.test(full)) return 'none';
  if (code >= 500) {
    if (!SLOW_5XX.some((re) => re.test(full))) return 'none';
    return SUSPEND.some((re) => re.test(full)) ? 'suspend' : 'slow';
  }
  if (code < 400) return 'none';
  if (SUSPEND.some((re) => re.test(full))) return 'suspend';
  if (code === 421) return 'slow';
  if (enhancedStatus && /^4\.7\./.test(enhancedStatus) && SLOW.some((re) => re.test(text))) return 'slow';
  if (enhancedStatus === '4.3.2' || enhancedStatus === '4.4.5') return 'slow'; // system not accepting / congestion
  return SLOW.some((re) => re.test(full)) ? 'slow' : 'none';
}
