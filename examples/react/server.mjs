// The chat server for this example: wirefall's reference server, allowing the dev server's origin.
// Run `npm run build` at the repository root first.
import { createServer } from '../../dist/server.mjs';

const port = Number(process.env.PORT ?? 8125);
const origins = (process.env.ORIGINS ?? 'http://localhost:5173,http://127.0.0.1:5173,http://localhost:4173').split(',');

const chat = createServer({ path: '/wirefall', allowedOrigins: origins });
let nextName = 1;
chat.on('connection', (conn) => {
  const name = `guest-${nextName++}`;
  void conn.send('hello', { name });
  conn.subscribe('say', (data) => {
    const text = String(data?.text ?? '').slice(0, 500);
    if (text) chat.broadcast('said', { from: name, text, at: Date.now() });
  });
});
await chat.listen(port, '127.0.0.1');
console.log(`wirefall chat server on http://127.0.0.1:${port}/wirefall, allowing ${origins.join(', ')}`);
