// The demo: a broadcast chat on wirefall's reference server. `npm start` builds and runs it.
import { readFile } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from '../../dist/server.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const port = Number(process.env.PORT ?? 8124);
const host = process.env.HOST ?? '127.0.0.1';

const files = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/wirefall.umd.min.js': ['../../dist/wirefall.umd.min.js', 'text/javascript; charset=utf-8'],
};

const http = createHttpServer(async (req, res) => {
  const path = (req.url ?? '/').split('?')[0];
  const file = files[path];
  if (!file) {
    if (!res.headersSent && path !== '/wirefall') res.writeHead(404).end('not found');
    return;
  }
  try {
    const body = await readFile(join(here, file[0]));
    res.writeHead(200, { 'content-type': file[1], 'cache-control': 'no-store' }).end(body);
  } catch {
    res.writeHead(500).end('missing build: run npm run build');
  }
});

const origins = [`http://${host}:${port}`, `http://localhost:${port}`, `http://127.0.0.1:${port}`];
const chat = createServer({ server: http, path: '/wirefall', allowedOrigins: origins });
let nextName = 1;
chat.on('connection', (conn) => {
  const name = `guest-${nextName++}`;
  conn.subscribe('say', (data) => {
    const text = String(data?.text ?? '').slice(0, 500);
    if (text) chat.broadcast('said', { from: name, text, at: Date.now() });
  });
  void conn.send('hello', { name });
});

http.listen(port, host, () => {
  console.log(`wirefall chat demo on http://${host}:${port}/  (open it in two tabs)`);
});
