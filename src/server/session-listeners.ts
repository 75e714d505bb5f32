import type { RungName } from '../protocol/api';
import { emitter, type Emitter } from '../util/emitter';
import { SKIP } from '../protocol/outbox';
import { CALL } from '../protocol/rpc';
import type { AttemptReport } from './attempt-report';
import { Calls, type CallSink } from './calls';
import type { ResolvedServerOptions } from './options';

export interface ConnectionEvents {
  /** The session ended: the client closed, it did not come back within the TTL, or the server closed it. */
  close: (reason: string) => void;
  /** The session moved to a link on another rung (or reconnected on the same one). */
  link: (rung: RungName | null) => void;
  /** The client reported the attempts that led to its current link (see `conn.attempts`). */
  attempts: (attempts: readonly AttemptReport[]) => void;
}

export type Handler = (data: unknown, conn: unknown) => void;

/**
 * Who in the app hears of a session (`C`, its `Connection`): the subscribers per message type
 * (`conn.subscribe`), the request handlers (`conn.handle`) and the listeners of its events
 * (`conn.on`).
 */
export class SessionListeners<C extends CallSink> {
  /** The app's subscribers per message type. */
  readonly handlers: Emitter<Record<string, Handler>>;
  readonly calls: Calls<C>;
  readonly events: Emitter<ConnectionEvents>;
  #opts: ResolvedServerOptions;

  constructor(id: string, opts: ResolvedServerOptions) {
    this.#opts = opts;
    // A handler that throws, or an async one that rejects, is the app's bug: report it, keep the
    // session (an unhandled rejection would end the whole process under Node's default).
    this.handlers = emitter((err, type) => opts.logger.warn(`a "${String(type)}" subscriber failed`, { session: id, error: String(err) }));
    this.calls = new Calls(opts.logger);
    this.events = emitter((err, event) => opts.logger.warn(`a "${String(event)}" listener failed`, { session: id, error: String(err) }));
  }

  /** A new message from the client, in order, decoded (incoming.ts): to its subscribers or its request handler. */
  deliver(type: string, data: unknown, conn: C): void {
    // A message the client could not send us (over our maxMessageBytes, queued for a server that
    // took more): it only keeps its number, so that the ones behind it are not a gap.
    if (type === SKIP) return;
    this.#opts.metrics?.messageIn();
    if (type === CALL) this.calls.run(data, conn);
    else if (!this.handlers.emit(type, data, conn)) this.#opts.logger.warn(`no subscriber for "${type}"`, { session: conn.id });
  }
}
