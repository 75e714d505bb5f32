import type { WebSocketLike } from '../platform';
import type { Transport, TransportContext, TransportFailure } from './transport';

/** The `ws` package's extra events, which carry the HTTP status browsers hide. */
interface NodeWebSocket extends WebSocketLike {
  on?(event: 'unexpected-response', fn: (req: { destroy(): void }, res: IncomingLike) => void): void;
}
interface IncomingLike {
  statusCode?: number;
  headers: Record<string, string | string[] | undefined>;
  resume?(): void;
}

/**
 * The `wss` and `ws` rungs. Browsers report a refused upgrade as close code 1006 without a
 * status; with the `ws` package in Node we read the status and our server's refusal header.
 */
export function webSocketTransport(ctx: TransportContext): Transport {
  const { rung, platform, events } = ctx;
  const Ctor = platform.WebSocket;
  let done = false;
  let opened = false;
  const finish = (failure: TransportFailure) => {
    if (done) return;
    done = true;
    detach();
    events.close(failure);
  };

  if (!Ctor) {
    queueMicrotask(() =>
      finish({ code: 'WF_INVALID', message: 'no WebSocket implementation: pass one in options.WebSocket' }),
    );
    return { send() {}, close() { done = true; } };
  }

  let ws: NodeWebSocket;
  try {
    ws = new Ctor(rung.url) as NodeWebSocket;
  } catch (cause) {
    queueMicrotask(() => finish({ code: 'WF_NETWORK', message: `cannot open ${rung.url}`, cause }));
    return { send() {}, close() { done = true; } };
  }

  // With this listener `ws` leaves the socket CONNECTING for ever: we must end it ourselves.
  ws.on?.('unexpected-response', (req, res) => {
    const status = res.statusCode;
    const ours = res.headers['x-wirefall-error'];
    // A 101 that Node's parser did not take as an upgrade had its `Connection` header rewritten.
    const refusal: TransportFailure = {
      code:
        status === 101 ? 'WF_HANDSHAKE'
        : status === 407 ? 'WF_PROXY_AUTH'
        : ours && (status === 401 || status === 403) ? 'WF_UNAUTHORIZED'
        : 'WF_REFUSED',
      message: status === 101 ? 'WebSocket handshake failed: the 101 answer lacks Connection: Upgrade' : `WebSocket upgrade refused with HTTP ${status}${ours ? ` (${ours})` : ''}`,
      status,
      fromServer: typeof ours === 'string',
    };
    res.resume?.();
    req.destroy();
    finish(refusal);
    try {
      ws.close();
    } catch {
      /* already gone */
    }
  });

  ws.onopen = () => {
    opened = true;
    ws.send(ctx.hello);
    events.open();
  };
  ws.onmessage = (ev) => {
    if (done) return;
    if (typeof ev.data === 'string') events.message(ev.data);
    else finish({ code: 'WF_PROTOCOL', message: 'binary frames are not part of protocol v1' });
  };
  let lastError = '';
  ws.onerror = (ev) => {
    // `close` follows and carries the code; the `ws` package also says what went wrong.
    lastError = String((ev as { message?: unknown }).message ?? '');
  };
  ws.onclose = (ev) => {
    if (!opened && /header|handshake|101/i.test(lastError)) {
      return finish({ code: 'WF_HANDSHAKE', message: `WebSocket handshake failed: ${lastError}`, closeCode: ev.code });
    }
    if (!opened) {
      return finish({
        code: 'WF_NETWORK',
        message: `WebSocket to ${rung.url} failed before opening (refused, reset, handshake rejected, or a proxy; browsers do not say which)`,
        closeCode: ev.code,
      });
    }
    finish({ code: 'WF_DISCONNECTED', message: `WebSocket closed (${ev.code}${ev.reason ? ` ${ev.reason}` : ''})`, closeCode: ev.code });
  };

  function detach() {
    ws.onopen = ws.onmessage = ws.onclose = null;
    ws.onerror = () => {}; // a late error event must not become an unhandled 'error' in Node
  }

  return {
    send(text) {
      if (!done && ws.readyState === 1) ws.send(text);
    },
    close(code = 1000, reason = '') {
      if (done) return;
      done = true;
      detach();
      try {
        // A socket still CONNECTING cannot take a close code in every implementation.
        if (ws.readyState === 1) ws.close(code, reason);
        else ws.close();
      } catch {
        /* already closing */
      }
    },
  };
}
