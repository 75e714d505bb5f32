import type { ClientSetup } from './core/client';
import type { ClientOptions } from './core/options';
import { DEV } from './dev';
import { WirefallError } from './protocol/errors';
import { deriveRungs, type RungName } from './core/rungs';
import { platformFrom } from './platform';
import { longPollTransport } from './transports/long-polling';
import { sseTransport } from './transports/sse';
import type { TransportFactory } from './transports/transport';
import { webSocketTransport } from './transports/websocket';

const defaultTransports: Partial<Record<RungName, TransportFactory>> = {
  wss: webSocketTransport,
  ws: webSocketTransport,
  sse: sseTransport,
  longpoll: longPollTransport,
};

/** @internal The ladder, transports and platform for a URL and options (shared by connect and probe). */
export function resolveSetup(url: string, options: ClientOptions): ClientSetup {
  const platform = platformFrom(options.platform);
  // The options' own WebSocket and fetch, where given, win over the platform's.
  platform.WebSocket = options.WebSocket || platform.WebSocket;
  platform.fetch = options.fetch || platform.fetch;
  const factories = { ...defaultTransports, ...options.transportFactories };
  // Every rung by default (deriveRungs reads `transports` and `securePort` of the options).
  // Without a WebSocket implementation (Node < 22 without `ws`) the built-in WebSocket rungs
  // cannot exist: skip them (a race, or a climb, toward them can only fail) and say so once.
  // One pass: a rung without a factory (one set to undefined) is left out too.
  let skipped: unknown, f: TransportFactory | undefined;
  const usable = (options.rungs ?? deriveRungs(url, { ...options, pageUrl: platform.pageUrl })).filter(
    (r) => (f = factories[r.name]) && (platform.WebSocket || f !== webSocketTransport || !(skipped = 1)),
  );
  // Said once per process on the console (a configuration problem, like the server's origin
  // warning); to a client's own logger every time. The production build says only what is missing
  // (src/dev.ts), written out so that no constant is left for it.
  if (skipped) {
    const text = DEV ? `[wirefall] ${NO_WEBSOCKET}` : '[wirefall] no WebSocket';
    if (options.logger) options.logger.warn?.(text);
    else if (!told) (told = true), console.warn(text);
  }
  if (!usable.length) throw new WirefallError('WF_INVALID', DEV ? `no rung to try: check transports, rungs and transportFactories${skipped ? `; ${NO_WEBSOCKET}` : ''}` : '');
  return { rungs: usable, factories, platform, serverKey: usable.at(-1)!.url };
}

const NO_WEBSOCKET =
  "no WebSocket implementation here (Node < 22): the wss and ws rungs are skipped, SSE and long-polling remain. To use WebSocket, pass one: connect(url, { WebSocket: (await import('ws')).default })";
let told = false;
