import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { transformSync } from 'esbuild';
import { Server, WebSocket } from 'mock-socket';
import { afterEach, expect, test } from 'vitest';
import { connect, type Client } from '../../src/index';

// docs/react.md's in-process fake server, run as the docs print it: users copy it into their
// tests. Its first version read each WebSocket message as one frame, so a send batched with
// another frame (the first send after connecting rides with the client's ack) was never acked:
// the client stalled, reconnected into a new session, and the send failed with WF_SESSION_LOST.

const docs = readFileSync(resolve(__dirname, '../../docs/react.md'), 'utf8');
const block = docs.split('```tsx\n').map((b) => b.split('```')[0]!).find((b) => b.includes("from 'mock-socket'"));

let made: { server: Server; client: Client } | undefined;
afterEach(() => {
  made?.client.close();
  made?.server.stop();
});

test("docs/react.md's mock-socket server carries batched sends", async () => {
  expect(block, 'the mock-socket block of docs/react.md').toBeDefined();
  // The block minus its comment line, imports (given below) and render call (React is not the point).
  const body = block!.split('\n').filter((l) => !/^(\/\/|import |render\()/.test(l)).join('\n');
  const js = transformSync(body, { loader: 'tsx' }).code;
  made = new Function('Server', 'WebSocket', 'connect', `${js}\nreturn { server, client };`)(Server, WebSocket, connect);
  const { client } = made!;
  const codes: string[] = [];
  client.on('error', (e) => codes.push(e.code));
  await client.send('say', { text: 'first' }); // batched with the claim's ack
  await Promise.all([client.send('say', { text: 'a' }), client.send('say', { text: 'b' })]); // one batch
  expect(codes).toEqual([]);
  expect(client.state).toBe('open');
});
