// The chat server of test/runtimes/node-versions.test.ts, run by the Node under test: the built
// server (dist/server.mjs) on 127.0.0.1, port 0. It greets each client (`hello`), echoes every
// `say` to everyone (`said`), and answers `bytes` with the same bytes reversed (`bytes`), so the
// client proves data with Uint8Array inside crosses each rung both ways. It prints its port, and
// one `heard:` line per `say`, on stdout; it ends when its stdin closes.
import { createServer } from '../../dist/server.mjs';

const chat = createServer({ logger: { warn: () => {} } });
let next = 1;
chat.on('connection', (conn) => {
  const name = `guest-${next++}`;
  void conn.send('hello', { name }).catch(() => {});
  conn.subscribe('say', ({ text }) => {
    console.log(`heard: ${name}: ${text}`);
    chat.broadcast('said', { from: name, text });
  });
  conn.subscribe('bytes', ({ raw }) => void conn.send('bytes', { raw: raw.slice().reverse() }).catch(() => {}));
});
const port = await chat.listen(0, '127.0.0.1');
console.log(`port: ${port} node: ${process.version}`);
process.stdin.resume();
process.stdin.on('end', () => void chat.close().then(() => process.exit(0)));
