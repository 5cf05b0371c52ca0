import type net from 'node:net';

/**
 * Lets the replies to one read of pipelined commands (RFC 2920: MAIL, RCPT... DATA sent
 * together) leave in one write instead of one write per reply. The socket is corked when
 * the read arrives and uncorked once the event loop has run the commands' handlers, so a
 * reply that waits for real I/O still goes out on its own, only later.
 *
 * A read that completes a STARTTLS command is never corked (and uncorks the socket if an
 * earlier read of the same turn corked it): the 220 must be on the wire before the handshake
 * takes the socket over. STARTTLS ends what a client may send before waiting (RFC 3207 4,
 * RFC 2920 3.1), so it is always at the end of the stream read so far, however the command
 * was split across reads.
 */
export function coalescePipelinedReplies(socket: net.Socket): void {
  let corked = false;
  let tail = '';
  socket.prependListener('data', (chunk: Buffer | string) => {
    const end = typeof chunk === 'string' ? chunk.slice(-16) : chunk.subarray(-16).toString('latin1');
    tail = (tail + end).slice(-16);
    if (/starttls[ \t]*\r?\n$/i.test(tail)) {
      if (corked) {
        corked = false;
        socket.uncork();
      }
      return;
    }
    if (corked) return;
    corked = true;
    socket.cork();
    setImmediate(() => {
      if (!corked) return;
      corked = false;
      socket.uncork();
    });
  });
}
