/**
 * Mailboxes other capabilities serve on the bounce listener, beside VERP and complaint
 * addresses: the operations capability's send/receive probe comes back through here. A
 * registered mailbox owns the local parts it accepts on every domain Fanout serves; the
 * message is stored like any inbound mail and then handed to it.
 */
export interface InboundMailbox {
  name: string;
  accepts(localPart: string): boolean;
  deliver(mail: { raw: Buffer; mailFrom: string; rcptTo: string; remoteIp: string }): Promise<void>;
}

const mailboxes: InboundMailbox[] = [];

export function registerInboundMailbox(mailbox: InboundMailbox): () => void {
  mailboxes.push(mailbox);
  return () => {
    const i = mailboxes.indexOf(mailbox);
    if (i >= 0) mailboxes.splice(i, 1);
  };
}

export function inboundMailboxFor(localPart: string): InboundMailbox | null {
  return mailboxes.find((m) => m.accepts(localPart)) ?? null;
}
