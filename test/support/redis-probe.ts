import { createClient } from 'redis';
import { eventually, track } from './harness';
import { raw } from './raw';

/*
 * What the Redis tests do by hand: look at (or spoil) what the store keeps, and open or resume a
 * session with a raw WebSocket client, so that a test chooses which node a hello lands on.
 */

/** A plain node-redis client on `url`, closed by `cleanup`. */
export async function redisProbe(url: string) {
  const r = createClient({ url });
  // Tests that stop Redis: a client without an `error` listener throws it.
  r.on('error', () => {});
  track({ close: () => r.close().then(() => {}, () => {}) });
  await r.connect();
  return r;
}

/** A raw hello (`extra`: sid, key, ack to resume) on the node at `url`; resolves at its welcome. */
export async function rawHello(url: string, extra: Record<string, unknown> = {}) {
  const c = await raw(url);
  c.ws.send(JSON.stringify({ t: 'hello', v: 3, ...extra }));
  await eventually(() => c.frames.some((f) => f.t === 'welcome'), 10_000, 'the welcome');
  return { c, welcome: c.frames.find((f) => f.t === 'welcome') as { sid: string; key: string; resumed?: boolean } };
}
