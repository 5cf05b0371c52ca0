import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { coalescePipelinedReplies } from './pipelining.ts';

/** A loopback connection whose server side replies as a command handler would. */
async function pair(onServerData: (socket: net.Socket, chunk: string) => void): Promise<{ client: net.Socket; close(): Promise<void> }> {
  const server = net.createServer((socket) => {
    coalescePipelinedReplies(socket);
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => onServerData(socket, chunk));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  await new Promise<void>((r) => client.once('connect', r));
  return { client, close: () => new Promise<void>((r) => { client.destroy(); server.close(() => r()); }) };
}

test('replies written while one read is handled wait in the socket and leave together on the next turn', async () => {
  const corkedAtWrite: number[] = [];
  let afterTurn!: (corked: number) => void;
  const uncorkedAfter = new Promise<number>((r) => (afterTurn = r));
  const { client, close } = await pair((socket) => {
    // Three replies from three handlers that finish in later microtasks, as smtp-server's do.
    const reply = (text: string) => {
      corkedAtWrite.push(socket.writableCorked);
      socket.write(text);
    };
    void Promise.resolve().then(() => reply('250 2.1.0 Ok\r\n')).then(() => reply('250 2.1.5 Ok\r\n')).then(() => reply('354 go ahead\r\n'));
    setImmediate(() => setImmediate(() => afterTurn(socket.writableCorked)));
  });
  let received = '';
  const got = new Promise<void>((resolve) => client.on('data', (d) => {
    received += d.toString('latin1');
    if (received.includes('354')) resolve();
  }));
  try {
    client.write('MAIL FROM:<a@b.test>\r\nRCPT TO:<c@d.test>\r\nDATA\r\n');
    await got;
    assert.deepEqual(corkedAtWrite, [1, 1, 1], 'every reply of the group was written into a corked socket');
    assert.equal(await uncorkedAfter, 0, 'and the socket is uncorked once the turn is over');
    assert.equal(received, '250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 go ahead\r\n');
  } finally {
    await close();
  }
});

test('a read that completes STARTTLS is not corked, however the command was split: the 220 must leave before the handshake', async () => {
  const corkedAtReply: number[] = [];
  let seen = '';
  const { client, close } = await pair((socket, chunk) => {
    seen += chunk;
    if (!seen.endsWith('\r\n')) return;
    corkedAtReply.push(socket.writableCorked);
    socket.write(seen.startsWith('STARTTLS') ? '220 Ready to start TLS\r\n' : '250 Ok\r\n');
    seen = '';
  });
  client.setNoDelay(true);
  let received = '';
  const got = (code: string) => new Promise<void>((resolve) => {
    const check = () => (received.includes(code) ? resolve() : client.once('data', (d) => { received += d.toString(); check(); }));
    check();
  });
  try {
    // "START" in one read, "TLS\r\n" in a later one.
    client.write('START');
    await new Promise((r) => setTimeout(r, 50));
    client.write('TLS\r\n');
    await got('220');
    assert.deepEqual(corkedAtReply, [0]);
  } finally {
    await close();
  }
});

test('a read holding STARTTLS is not corked: the 220 must leave before the handshake', async () => {
  const corkedAtWrite: number[] = [];
  const { client, close } = await pair((socket, chunk) => {
    corkedAtWrite.push(socket.writableCorked);
    socket.write(chunk.includes('STARTTLS') ? '220 Ready to start TLS\r\n' : '250 Ok\r\n');
  });
  const got = new Promise<void>((resolve) => client.on('data', (d) => d.toString().includes('220') && resolve()));
  try {
    client.write('STARTTLS\r\n');
    await got;
    assert.deepEqual(corkedAtWrite, [0]);
  } finally {
    await close();
  }
});
