/**
 * A tab's calls that await their outcome from the leader (its own included, when it leads): each
 * stays here until the leader's `done` settles it, the tab closes, or it is refused for the bound.
 * A call is submitted again to each new leader until it is numbered (then it is in every mirror,
 * and the leader that resumes the session sends it from there).
 */
import { dataBytes, tryEncode } from '../protocol/data';
import { WirefallError } from '../protocol/errors';
import type { OutboxLimits } from '../protocol/outbox';
import type { ErrorShape } from './tab-protocol';
import { errorFrom } from './tab-protocol';

export interface Call {
  method: string;
  args: unknown[];
  /** The leader gave this send a number (it is in every mirror): never submit it again. */
  numbered: boolean;
  /** The data's bytes, for a send (what the bound counts). */
  n: number;
  resolve(v: unknown): void;
  reject(e: WirefallError): void;
}

export class Calls {
  #pending = new Map<number, Call>();
  #ids = 0;
  #bytes = 0;
  #limits: OutboxLimits;

  constructor(limits: OutboxLimits) {
    this.#limits = limits;
  }

  /**
   * A new call, or `WF_OUTBOX_FULL` past the outbox's bounds: with no leader (or one that is frozen
   * and answers nothing) calls wait here, and they must not pile up without a bound. The shared
   * outbox takes no more than these bounds either, so a tab never needs more. `measure`: count
   * the data's bytes (not in the leader's tab, whose client numbers its own sends at once and
   * measures them itself: measuring them here too would encode every send twice).
   */
  add(method: string, args: unknown[], submit: (id: number) => void, measure: boolean): Promise<unknown> {
    let n = 0;
    // Data that cannot be measured cannot be sent either: the leader's client says why.
    if (measure && method === 'send') try { n = dataBytes(args[1]); } catch {}
    if (this.#pending.size >= this.#limits.maxMessages || this.#bytes + n > this.#limits.maxBytes) {
      return Promise.reject(new WirefallError('WF_OUTBOX_FULL', `this tab has ${this.#pending.size} calls (${this.#bytes} bytes) awaiting the leader`));
    }
    const id = ++this.#ids;
    this.#bytes += n;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { method, args, numbered: false, n, resolve, reject });
      submit(id);
    });
  }

  get(id: number): Call | undefined {
    return this.#pending.get(id);
  }

  /** The ids of the calls still unsettled, in the order they were made. */
  ids(): number[] {
    return [...this.#pending.keys()];
  }

  numbered(id: number): void {
    const c = this.#pending.get(id);
    if (c) c.numbered = true;
  }

  /** The session the numbers belonged to was never known to a tab: every call is submitted again. */
  unnumber(): void {
    for (const c of this.#pending.values()) c.numbered = false;
  }

  settle(id: number, ok: boolean, value: unknown, error: ErrorShape | undefined): void {
    const c = this.#take(id);
    if (c) ok ? c.resolve(value) : c.reject(errorFrom(error!));
  }

  rejectAll(err: WirefallError): void {
    for (const id of this.ids()) this.#take(id)!.reject(err);
  }

  #take(id: number): Call | undefined {
    const c = this.#pending.get(id);
    if (c) this.#pending.delete(id), (this.#bytes -= c.n);
    return c;
  }
}

/**
 * Why a call's arguments could not be posted to the leader (structured clone refused them): for a
 * send, the error the leader's client gives such data (it names the part, `data.f: function`).
 */
export function uncloned(method: string, args: unknown[], cause: unknown): WirefallError {
  const e = method === 'send' && tryEncode(args[1], args[0] as string);
  return e instanceof WirefallError ? e : new WirefallError('WF_INVALID', `"${method}": its arguments cannot be posted to the leader tab`, { cause });
}
