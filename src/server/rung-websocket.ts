import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket, type RawData } from 'ws';
import type { ApiShape } from '../protocol/api';
import { CloseCode } from '../protocol/close-codes';
import { toBinary } from '../protocol/binary';
import { decode, decodeBinary, encodeFrame } from './codec';
import { batch } from '../protocol/encode';
import type { Frame } from '../protocol/frames';
import type { WireErrorCode } from '../protocol/wire-errors';
import { cutUtf8 } from '../protocol/limits';
import type { Hub } from './hub';
import { drainSignal, type Link } from './link';
import type { ResolvedServerOptions } from './options';
import type { Connection } from './session';

/** A write of nothing: its callback says when the writes before it left (`drained`). */
const EMPTY = Buffer.alloc(0);

/** Node's base64 decoder: about ten times the speed of the portable one (bench/binary.mjs). */
const base64 = (s: string) => Buffer.from(s, 'base64');

/** The `wss` and `ws` rungs: one `ws` server in noServer mode, fed by the HTTP server's upgrades. */
export class WebSocketRung<Api extends ApiShape, User> {
  #wss: WebSocketServer;
  #hub: Hub<Api, User>;
  #opts: ResolvedServerOptions;
  /** The largest client transport message: one message at the limit, and an envelope around it. */
  #limit: number;

  constructor(hub: Hub<Api, User>, opts: ResolvedServerOptions) {
    this.#hub = hub;
    this.#opts = opts;
    // A client batch is at most the message limit; the slack covers the envelope around it.
    // `ws` itself cuts a message over `maxPayload` with 1009 and no word of why; up to twice the
    // limit we read it and say `too_large` like every other rung (issue 16, item 13).
    this.#limit = opts.maxMessageBytes + 64 * 1024;
    this.#wss = new WebSocketServer({ noServer: true, maxPayload: 2 * this.#limit, perMessageDeflate: false });
  }

  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, secure: boolean): void {
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#connection(ws, req, socket, secure));
  }

  #connection(ws: WebSocket, req: IncomingMessage, socket: Duplex, secure: boolean): void {
    const opts = this.#opts;
    // `ws` throws from send/close on bad input (a close reason over 123 bytes, a code out of
    // range); thrown inside a socket event it would end the process. Nothing here may throw.
    const failed = (what: string, err: unknown) => {
      opts.logger.error(`${what} on a ${secure ? 'wss' : 'ws'} socket failed: ${String(err)}`, { session: conn?.id });
      ws.terminate();
    };
    const guard = (what: string, fn: () => void) => {
      try {
        fn();
      } catch (err) {
        failed(what, err);
      }
    };
    // Flow control (session-links.ts `full`): messages flow again once nothing waits to leave. A
    // write carries `sent` only while that is awaited: a callback on every write cost each round
    // trip a process.nextTick and two objects in the socket's write path (bench/rtt-trace.mjs).
    const drain = drainSignal(() => ws.bufferedAmount);
    let awaited = false;
    // Guarded in place, not through `guard`: a write is every round trip's, and the two closures
    // it took were garbage each time (bench/rtt-trace.mjs).
    const write = (data: string | Uint8Array) => {
      try {
        if (ws.readyState !== ws.OPEN) return;
        ws.send(data, awaited ? drain.sent : undefined);
        // A client that stops reading makes us queue for it without end (a ping flood with the
        // downlink unread grew the server by 165 MB): past the bound it is a slow reader. The
        // close frame waits behind what is queued; `ws` drops the socket if it is never read.
        if (ws.bufferedAmount > opts.maxBufferedBytes) {
          opts.logger.warn(`closing a slow reader: ${ws.bufferedAmount} bytes unread`, { session: conn?.id });
          opts.metrics?.refused('slow_reader');
          ws.send(encodeFrame.error('slow_reader', 'the downlink is not being read'));
          ws.close(CloseCode.SlowReader, 'slow reader');
        }
      } catch (err) {
        failed('send', err);
      }
    };
    const link: Link = {
      rung: secure ? 'wss' : 'ws',
      send: write,
      // Messages with bytes leave as one binary message, raw (§1.3), to a client whose hello
      // said it reads them (`bin`); the rest, and everything to older clients, as text.
      sendFrames: (parts) => {
        let data;
        try {
          data = (binary && toBinary(parts, base64)) || batch(parts);
        } catch (err) {
          return failed('send', err);
        }
        write(data);
      },
      backlog: () => ws.bufferedAmount,
      received: () => req.socket.bytesRead,
      // Called with a backlog: writes are still on their way, without `sent`. An empty write queued
      // behind them (no bytes on the wire) is called back once they left; later writes carry it.
      drained: (fn) => {
        awaited = true;
        drain.drained(() => ((awaited = false), fn()));
        if (socket.writable) socket.write(EMPTY, drain.sent);
      },
      // A link that missed its heartbeats will not answer a closing handshake either.
      close: (code, reason) =>
        guard('close', () => (code === CloseCode.HeartbeatTimeout ? ws.terminate() : ws.close(code, cutUtf8(reason)))),
      abandoned: () => ws.readyState !== ws.OPEN,
    };
    let binary = false;
    let conn: Connection<Api, User> | undefined;
    let state: 'hello' | 'authenticating' | 'open' = 'hello';
    const early: [Frame[], number][] = [];
    let earlyBytes = 0;
    const fail = (code: number, message: string, errorCode: WireErrorCode = 'protocol_error') => {
      opts.logger.warn(`closing ${link.rung} connection: ${message}`, { remote: req.socket.remoteAddress, session: conn?.id });
      opts.metrics?.refused(errorCode);
      link.send(encodeFrame.error(errorCode, message));
      link.close(code, message);
    };

    // Greet at once, before any authentication work: a client that hears nothing at all knows
    // the path is broken; one that hears this but waits for the welcome knows we are slow.
    link.send(encodeFrame.greet());
    const helloTimer = setTimeout(() => fail(CloseCode.HelloTimeout, 'no hello in time', 'hello_timeout'), opts.helloTimeoutMs);

    ws.on('message', (data: RawData, isBinary: boolean) => {
      try {
        onMessage(data, isBinary);
      } catch (err) {
        // A bug of ours (or of an app hook called from here) ends this link, not the process.
        fail(CloseCode.ServerError, `the server failed: ${String(err)}`, 'server_error');
      }
    });
    const onMessage = (data: RawData, isBinary: boolean): void => {
      const bytes = Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : data.byteLength;
      if (bytes > this.#limit) return fail(CloseCode.TooLarge, `message of ${bytes} bytes exceeds ${this.#limit}`, 'too_large');
      const buffer = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
      let frames: Frame[];
      try {
        // A binary message carries messages with bytes, raw (§1.3); everything else is text.
        frames = isBinary ? decodeBinary(buffer) : decode(buffer.toString());
      } catch (e) {
        return fail(CloseCode.ProtocolError, `malformed ${isBinary ? 'binary message' : 'frame'}: ${(e as Error).message}`);
      }
      if (state === 'open' && conn) {
        const problem = conn.admit() ?? conn.receive(link, frames, bytes);
        if (problem) fail(problem.closeCode, problem.message, problem.code);
        return;
      }
      if (state === 'authenticating') {
        // What arrives while `authenticate` runs waits here: at most one transport message's
        // bound (it cost 3.1 MB of heap per MB sent, without end; issue 16, item 9).
        if ((earlyBytes += bytes) > this.#limit) return fail(CloseCode.TooLarge, `more than ${this.#limit} bytes before the welcome`, 'too_large');
        return void early.push([frames, bytes]);
      }
      const [hello, ...rest] = frames;
      if (hello?.t !== 'hello') return fail(CloseCode.ProtocolError, 'the first frame must be a hello');
      clearTimeout(helloTimer);
      binary = hello.bin === 1;
      link.pa = hello.pa === 1;
      state = 'authenticating';
      if (rest.length) early.push([rest, bytes]);
      this.#hub.hello(hello, req, link).then(
        (outcome) => {
          if (ws.readyState !== ws.OPEN) {
            if (outcome.ok) outcome.conn.detach(link, false);
            return;
          }
          if (!outcome.ok) {
            const code =
              outcome.status === 403 ? CloseCode.Forbidden
              : outcome.status === 401 ? CloseCode.Unauthorized
              : outcome.status === 503 ? CloseCode.Unavailable
              : CloseCode.UnsupportedVersion;
            link.send(encodeFrame.error(outcome.code, outcome.message, outcome.status));
            link.close(code, outcome.message);
            return;
          }
          conn = outcome.conn;
          state = 'open';
          for (const [f, n] of early.splice(0)) {
            const problem = conn.admit() ?? conn.receive(link, f, n);
            if (problem) return fail(problem.closeCode, problem.message, problem.code);
          }
        },
      ).catch((err: unknown) => fail(CloseCode.ServerError, `hello failed: ${String(err)}`, 'server_error'));
    };
    ws.on('error', (err) => opts.logger.warn(`${link.rung} socket error: ${err.message}`, { session: conn?.id }));
    ws.on('close', (code) => {
      clearTimeout(helloTimer);
      // 1000 from the client is its `close()`: the session ends. Anything else may come back.
      try {
        conn?.detach(link, code === CloseCode.Normal);
      } catch (err) {
        opts.logger.warn(`detaching a ${link.rung} link failed: ${String(err)}`, { session: conn?.id });
      }
    });
  }

  close(): void {
    for (const ws of this.#wss.clients) ws.terminate();
    this.#wss.close();
  }
}
