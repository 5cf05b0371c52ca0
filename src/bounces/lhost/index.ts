/**
 * The MTA-family readers, in the order they are tried (the more specific signatures first: a
 * Microsoft 365 report also looks like Outlook.com's, a Mail.ru one like Exim's). The first
 * reader that recognises the bounce reads it; a bounce no reader recognises is read by the
 * generic extraction alone (RFC 3464 fields, the report text).
 */
import { amazonSes, amazonWorkMail, receivingSes } from './amazon.ts';
import { amavis, interScanMss, x3, x4 } from './appliances.ts';
import { aol } from './aol.ts';
import { biglobe, ezweb, kddi } from './carriers.ts';
import { courier } from './courier.ts';
import { dragonFly } from './dragonfly.ts';
import { einsUndEins } from './einsundeins.ts';
import { exim, mailRu } from './exim.ts';
import { fml } from './fml.ts';
import { gmx } from './gmx.ts';
import { gmail, googleGroups, gsuite } from './google.ts';
import { iMailServer } from './imailserver.ts';
import { domino, notes } from './lotus.ts';
import { commandBy, flat, reasonByMessages, reasonByStatus } from './match.ts';
import { messageLabs } from './messagelabs.ts';
import { messagingServer } from './messagingserver.ts';
import { exchange2003, exchange2007, office365, outlook } from './microsoft.ts';
import { opensmtpd } from './opensmtpd.ts';
import { qmail } from './qmail.ts';
import type { BounceMail, Lhost, LhostInput, LhostVerdict } from './types.ts';
import { zoho } from './zoho.ts';

export type { BounceMail, Lhost, LhostInput, LhostVerdict } from './types.ts';

export const LHOSTS: readonly Lhost[] = [
  office365, exchange2007, exchange2003, outlook, googleGroups, gsuite, gmail, mailRu, exim, qmail, x4, opensmtpd, zoho, aol,
  amazonWorkMail, receivingSes, amazonSes, messageLabs, gmx,
  ezweb, kddi, biglobe, interScanMss, amavis, x3, domino, notes, courier, messagingServer, dragonFly, einsUndEins, iMailServer, fml,
];

/** The reader for the MTA that wrote `mail`, or undefined. */
export function detectLhost(mail: BounceMail): Lhost | undefined {
  return LHOSTS.find((l) => l.detect(mail));
}

/**
 * What the MTA's reader says about one recipient: its own logic first, then its status codes,
 * then its fixed sentences. The diagnostic is compared whitespace-collapsed and lower-cased.
 */
export function readByLhost(lhost: Lhost, input: LhostInput, mail: BounceMail): LhostVerdict {
  const flattened = { ...input, diagnostic: flat(input.diagnostic) };
  const own = lhost.read?.(flattened, mail) ?? {};
  const command = own.command || (flattened.command ? undefined : commandBy(flattened.diagnostic, lhost.commands));
  const reason = own.reason ?? reasonByStatus(input.status, lhost.statuses) ?? reasonByMessages(flattened.diagnostic, lhost.messages);
  return { ...own, command: command || undefined, reason };
}
