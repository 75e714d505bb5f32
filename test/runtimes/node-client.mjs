// The client of test/runtimes/node-versions.test.ts: examples/node-client/client.mjs (what a
// user copies) plus bytes both ways. Run by the Node under test:
//   node test/runtimes/node-client.mjs <url> <rung|all> [no-ws-package]
// It takes the global WebSocket where the platform has one (Node ≥ 22: no option), else the `ws`
// package (Node 18 and 20), as the README says, unless told not to (then the README says the ws
// rungs are skipped, with one warning); it prints one line per thing it proved.
import { connect } from 'wirefall';

const [url, rung, noWsPackage] = process.argv.slice(2);
const options = rung === 'all' ? {} : { transports: [rung] };
if (!globalThis.WebSocket && !noWsPackage) options.WebSocket = (await import('ws')).default;
console.log(`websocket: ${options.WebSocket ? 'the ws package' : globalThis.WebSocket ? 'global' : 'none'}`);
options.logger = { warn: (m) => console.log(`warn: ${m}`) };

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
const raw = Uint8Array.from({ length: 3000 }, (_, i) => (i * 7) & 255);
const bytes = new Promise((resolve) => client.subscribe('bytes', (m) => resolve(m.raw)));
await client.send('say', { text });
console.log('sent: acknowledged');
await client.send('bytes', { raw });
const back = await bytes;
const same = back instanceof Uint8Array && back.length === raw.length && back.every((b, i) => b === raw[raw.length - 1 - i]);
console.log(`bytes: ${same ? 'reversed intact' : 'WRONG'} (${back?.length} bytes)`);
await echoed;
await client.close();
clearTimeout(giveUp);
