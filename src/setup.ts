import type { ClientSetup } from './core/client';
import type { ClientOptions } from './core/options';
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
  const platform = platformFrom({
    ...options.platform,
    ...(options.WebSocket ? { WebSocket: options.WebSocket } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  const factories = { ...defaultTransports, ...options.transportFactories };
  const rungs =
    options.rungs ??
    deriveRungs(url, {
      securePort: options.securePort,
      transports: options.transports ?? (Object.keys(factories).filter((k) => factories[k as RungName]) as RungName[]),
      pageUrl: platform.pageUrl,
    });
  const usable = rungs.filter((r) => factories[r.name]);
  if (!usable.length) throw new WirefallError('WF_INVALID', 'no rung to try');
  return { rungs: usable, factories, platform, serverKey: usable[usable.length - 1]!.url };
}
