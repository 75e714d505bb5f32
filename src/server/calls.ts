import { encodeData } from '../protocol/data';
import { encodeReply, readCall, REPLY } from '../protocol/rpc';
import type { LevelLogger } from './log';

/** What a connection offers its call handlers: where the reply goes, and the log. */
export interface CallSink {
  readonly id: string;
  sendEncoded(type: string, payload: string, settle: boolean, e?: string): Promise<void> | undefined;
}

export type CallHandler<C> = (args: unknown, conn: C) => unknown;

/**
 * A session's request handlers (`conn.handle(name, fn)`). A call reaches `run` once, because it
 * is an ordinary message the session's inbox de-duplicated; the reply goes back as an ordinary
 * message, resent until the client acknowledges it. An error with a string `code` is the app's
 * answer and goes back as is; any other throw is a bug: it is logged, and the client hears only
 * `handler_failed` (internal messages are not for clients).
 */
export class Calls<C extends CallSink> {
  #handlers = new Map<string, CallHandler<C>>();
  #logger: LevelLogger;

  constructor(logger: LevelLogger) {
    this.#logger = logger;
  }

  handle(name: string, handler: CallHandler<C>): () => void {
    this.#handlers.set(name, handler);
    return () => void (this.#handlers.get(name) === handler && this.#handlers.delete(name));
  }

  run(data: unknown, conn: C): void {
    const call = readCall(data);
    if (!call) return this.#logger.warn('a malformed call was dropped', { session: conn.id });
    const handler = this.#handlers.get(call.m);
    const answer = (reply: Parameters<typeof encodeReply>[1]) => {
      const { payload, e } = encodeReply(call.id, reply);
      conn.sendEncoded(REPLY, payload, false, e)?.catch(() => {}); // the session ended: nobody to tell
    };
    if (!handler) return answer({ code: 'no_handler', message: `no handler for "${call.m}"` });
    new Promise((resolve) => resolve(handler(call.a, conn))).then(
      (result) => {
        try {
          answer(encodeData(result, call.m));
        } catch (err) {
          this.#logger.error(`the "${call.m}" handler replied with data that cannot be sent: ${(err as Error).message}`, { session: conn.id });
          answer({ code: 'bad_reply', message: 'the handler replied with data that cannot be sent' });
        }
      },
      (err: unknown) => {
        const code = (err as { code?: unknown } | null)?.code;
        if (typeof code === 'string' && code) return answer({ code, message: String((err as { message?: unknown }).message ?? '') });
        this.#logger.error(`the "${call.m}" handler failed: ${String(err)}`, { session: conn.id });
        answer({ code: 'handler_failed', message: `the "${call.m}" handler failed` });
      },
    );
  }
}
