import WebSocket from 'ws';
import { connect, type ApiCheck, type ApiShape, type Client, type ClientOptions, type ConnectionState } from '../../src/index';
import { createServer, type ServerOptions, type WirefallServer } from '../../src/server/index';

/** A chat-shaped API used across tests. */
export type Chat = {
  client: { say: { text: string }; echo: { n: number } };
  server: { said: { from: string; text: string }; echoed: { n: number } };
};

export const quiet = { warn: () => {} };

/** Starts a reference server on 127.0.0.1, port 0; `cleanup` closes everything opened through it. */
export async function startServer<Api extends ApiShape & ApiCheck<Api> = Chat>(opts: ServerOptions = {}) {
  const server = createServer<Api>({ logger: quiet, ...opts });
  const port = opts.server ? 0 : await server.listen(0);
  return { server, port, url: `http://127.0.0.1:${port}/wirefall` };
}

const open: { close(): void | Promise<void> }[] = [];

/** A Node client on the plain `ws` rung unless told otherwise; closed by `cleanup()`. */
export function client<Api extends ApiShape & ApiCheck<Api> = Chat>(url: string, opts: ClientOptions = {}): Client<Api> {
  const c = connect<Api>(url, { WebSocket: WebSocket as never, transports: ['ws'], ...opts });
  open.push(c);
  return c;
}

export function track<T extends { close(): void | Promise<void> }>(x: T): T {
  open.push(x);
  return x;
}

export async function cleanup(): Promise<void> {
  for (const x of open.splice(0).reverse()) await x.close();
}

/** Resolves when the client reaches `state` (rejects after `ms`). */
export function until(c: Client<never> | Client<Chat> | Client<ApiShape>, state: ConnectionState, ms = 5000): Promise<void> {
  if ((c as Client).state === state) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => (off(), reject(new Error(`still ${(c as Client).state} after ${ms} ms, wanted ${state}`))), ms);
    const off = (c as Client).on('state', (s) => {
      if (s === state) (clearTimeout(t), off(), resolve());
    });
  });
}

/** Polls `check` until true (bounded). */
export async function eventually(check: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * Resolves with the server's sessions once `n` of them are announced. A session is announced
 * when its client first speaks on it, half a round trip after the client's `open`.
 */
export async function claimed<S extends { connections: Iterable<unknown> }>(server: S, n = 1, ms = 5000) {
  await eventually(() => [...server.connections].length >= n, ms, `${n} session(s) announced`);
  return [...server.connections] as S extends { connections: Iterable<infer C> } ? C[] : never;
}

export type { WirefallServer };
