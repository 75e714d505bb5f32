// A minimal Node client: connects, prints what the server says, says hello, and leaves once its
// own message came back. It talks to any server with the demo chat's messages (`say` → `said`):
//
//   npm start                                    # the demo chat server, in another terminal
//   node examples/node-client/client.mjs http://127.0.0.1:8124/wirefall [ws|sse|longpoll ...]
//
// In your own project: `npm install wirefall ws` (ws only for Node 18 and 20), then the same code.
import { connect } from 'wirefall';

const [url = 'http://127.0.0.1:8124/wirefall', ...rungs] = process.argv.slice(2);
const options = rungs.length ? { transports: rungs } : {};
// Node ≥ 22 has a global WebSocket and needs no option; Node 18 and 20 take the `ws` package's.
if (!globalThis.WebSocket) options.WebSocket = (await import('ws')).default;
console.log(`websocket: ${options.WebSocket ? 'the ws package' : 'global'}`);

const giveUp = setTimeout(() => (console.error('no echo within 20 s'), process.exit(1)), 20_000);
const client = connect(url, options);
client.on('state', (state, rung) => console.log(`state: ${state}${rung ? ` on ${rung}` : ''}`));
client.on('error', (e) => console.error(`error: ${e.code} ${e.message}`));
client.subscribe('hello', ({ name }) => console.log(`hello: I am ${name}`));

const text = `hi from Node ${process.version}`;
const echoed = new Promise((resolve) =>
  client.subscribe('said', (m) => {
    console.log(`said: ${m.from}: ${m.text}`);
    if (m.text === text) resolve();
  }),
);
await client.send('say', { text }); // resolves when the server acknowledged it
console.log('sent: acknowledged');
await echoed;
await client.close();
clearTimeout(giveUp);
