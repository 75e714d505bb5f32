import { DEV } from '../dev';
import type { WebSocketLike } from '../platform';
import { toBinary } from '../protocol/binary';
import { batch } from '../protocol/encode';
import { refusal } from './http';
import type { Transport, TransportContext, TransportFailure } from './transport';

/** The `ws` package's extra events: the HTTP status browsers hide, and messages without an event object. */
interface NodeWebSocket extends WebSocketLike {
  on?(event: 'unexpected-response', fn: (req: { destroy(): void }, res: IncomingLike) => void): void;
  on?(event: 'message', fn: (data: Uint8Array, isBinary: boolean) => void): void;
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
  let done = false;
  let opened = false;
  let lastError = '';
  let ws: NodeWebSocket | undefined;
  // Returns true the first time: after that, no event reaches the core.
  const end = () => {
    if (done) return false;
    done = true;
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = null;
      ws.onerror = () => {}; // a late error event must not become an unhandled 'error' in Node
    }
    return true;
  };
  const finish = (failure: TransportFailure) => end() && events.close(failure);

  try {
    ws = new platform.WebSocket!(rung.url) as NodeWebSocket;
  } catch (cause) {
    queueMicrotask(() => finish({ code: platform.WebSocket ? 'WF_NETWORK' : 'WF_INVALID', message: DEV ? `cannot open ${rung.url}` : '', cause }));
    return { send() {}, close: end };
  }

  // With this listener `ws` leaves the socket CONNECTING for ever: we must end it ourselves.
  ws.on?.('unexpected-response', (req, res) => {
    const status = res.statusCode;
    res.resume?.();
    req.destroy();
    const ours = res.headers['x-wirefall-error'];
    finish(refusal(status, typeof ours === 'string' ? ours : undefined, DEV ? ' to the upgrade' : ''));
    close();
  });

  ws.onopen = () => {
    opened = true;
    send(ctx.hello);
    events.open();
  };
  // Binary messages carry messages with bytes, raw (§1.3). With `ws`, its own 'message' event:
  // `onmessage` builds a MessageEvent per message, which showed in the round trip's profile.
  // Guarded by `done`: `end()` only unsets the on* handlers. Its data is a Buffer, whose toString()
  // decodes UTF-8 (it stays `nodebuffer`: `arraybuffer` would give text as bytes too). Elsewhere
  // binary data is an ArrayBuffer (`binaryType`); anything else (a Blob) reads as empty, a protocol error.
  if (ws.on) ws.on('message', (data, binary) => !done && events.message(binary ? data : data.toString()));
  else (ws.binaryType = 'arraybuffer'), (ws.onmessage = ({ data }) => events.message(typeof data === 'string' ? data : new Uint8Array(data as ArrayBuffer)));
  // `close` follows and carries the code; the `ws` package also says what went wrong.
  ws.onerror = (ev) => void (lastError = String((ev as { message?: unknown }).message ?? ''));
  ws.onclose = (ev) => {
    const handshake = !opened && /header|handshake|101/i.test(lastError);
    finish({
      code: opened ? 'WF_DISCONNECTED' : handshake ? 'WF_HANDSHAKE' : 'WF_NETWORK',
      // Browsers say nothing more about a failed upgrade: refused, reset, rejected or a proxy.
      // The production build keeps what the peer or `ws` said; the code is in `closeCode`.
      message: DEV ? `closed ${ev.code}${opened ? '' : ' before opening'} ${lastError || ev.reason}`.trim() : lastError || ev.reason,
      closeCode: ev.code,
    });
  };

  function close(code?: number) {
    try {
      // A socket still CONNECTING cannot take a close code in every implementation.
      if (ws!.readyState === 1) ws!.close(code);
      else ws!.close();
    } catch {
      /* already closing */
    }
  }

  const send = (data: string | Uint8Array) => void (!done && ws!.readyState === 1 && ws!.send(data));

  return {
    send,
    sendFrames: (parts) => send(toBinary(parts) ?? batch(parts)),
    close(code = 1000) {
      if (end()) close(code);
    },
  };
}
