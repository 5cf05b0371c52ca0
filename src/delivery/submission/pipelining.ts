import type net from 'node:net';

/**
 * Lets the replies to one read of pipelined commands (RFC 2920: MAIL, RCPT... DATA sent
 * together) leave in one write instead of one write per reply. The socket is corked when
 * the read arrives and uncorked once the event loop has run the commands' handlers, so a
 * reply that waits for real I/O still goes out on its own, only later.
 *
 * A read holding STARTTLS is left alone: the 220 must be on the wire before the handshake
 * takes the socket over (STARTTLS ends a pipelined group, RFC 3207 4).
 */
export function coalescePipelinedReplies(socket: net.Socket): void {
  let corked = false;
  socket.prependListener('data', (chunk: Buffer | string) => {
    if (corked) return;
    if (chunk.length < 4096 && /starttls/i.test(typeof chunk === 'string' ? chunk : chunk.toString('latin1'))) return;
    corked = true;
    socket.cork();
    setImmediate(() => {
      corked = false;
      socket.uncork();
    });
  });
}
