// A minimal wirefall client for Deno and Bun: both have a global WebSocket and fetch, so every
// rung works with no option. It talks to any server with the demo chat's messages (`say` → `said`):
//
//   npm start                                    # the demo chat server (Node), in another terminal
//   deno add npm:wirefall && deno run --allow-net client.ts http://127.0.0.1:8124/wirefall [ws|sse|longpoll ...]
//   bun add wirefall && bun client.ts http://127.0.0.1:8124/wirefall [ws|sse|longpoll ...]
import { connect, type RungName } from 'wirefall';

type Chat = {
  client: { say: { text: string } };
  server: { hello: { name: string }; said: { from: string; text: string } };
};

const runtime = globalThis as { Deno?: { version: { deno: string } }; Bun?: { version: string } };
const who = runtime.Deno ? `Deno ${runtime.Deno.version.deno}` : runtime.Bun ? `Bun ${runtime.Bun.version}` : 'an unknown runtime';
const [url = 'http://127.0.0.1:8124/wirefall', ...rungs] = process.argv.slice(2);

const giveUp = setTimeout(() => (console.error('no echo within 20 s'), process.exit(1)), 20_000);
const client = connect<Chat>(url, rungs.length ? { transports: rungs as RungName[] } : {});
client.on('state', (state, rung) => console.log(`state: ${state}${rung ? ` on ${rung}` : ''}`));
client.on('error', (e) => console.error(`error: ${e.code} ${e.message}`));
client.subscribe('hello', ({ name }) => console.log(`hello: I am ${name}`));

const text = `hi from ${who}`;
const echoed = new Promise<void>((resolve) =>
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
