import type { IncomingMessage } from 'node:http';
import type { HelloFrame } from '../protocol/frames';
import type { WireErrorCode } from '../protocol/wire-errors';
import { withDeadline } from './deadline';
import type { Refusal, ResolvedServerOptions, ServerOptions } from './options';

/** Why a hello gets no session: what its client is told (an `error` frame, an HTTP status). */
export type HelloRefusal = { ok: false; status: number; code: WireErrorCode; message: string };

class AuthTimeout extends Error {
  constructor(ms: number) {
    super(`authenticate did not answer within ${ms} ms`);
  }
}

function isRefusal(x: unknown): x is Refusal {
  return typeof x === 'object' && x !== null && ((x as Refusal).status === 401 || (x as Refusal).status === 403);
}

/**
 * Who a hello comes from: the app's `authenticate` under its deadline, and the identity that
 * sessions are matched by (a resume, a race sibling and a take-over join a session only for the
 * same user). The app's functions may throw: each failure has a safe answer here.
 */
export class Users<User> {
  #opts: ResolvedServerOptions;
  #authenticate: ServerOptions<User>['authenticate'];
  #identify: ServerOptions<User>['identify'];

  constructor(app: Pick<ServerOptions<User>, 'authenticate' | 'identify'>, opts: ResolvedServerOptions) {
    this.#authenticate = app.authenticate;
    this.#identify = app.identify;
    this.#opts = opts;
  }

  /** Whether hellos are checked at all (an app without `authenticate` accepts every one). */
  get checked(): boolean {
    return !!this.#authenticate;
  }

  /**
   * Runs `authenticate` under its deadline. Only an explicit refusal (returned or thrown) is
   * final; a throw, a rejection or silence means the auth backend is down, which a retry may
   * outlive: a retryable 503 (issue 16, item 12), or every client would stop for good in an outage.
   */
  async judge(request: IncomingMessage, hello: HelloFrame): Promise<{ user: User } | { fail: HelloRefusal }> {
    const ms = this.#opts.authTimeoutMs;
    let verdict: User | Refusal;
    try {
      verdict = await withDeadline(Promise.resolve().then(() => this.#authenticate!({ request, auth: hello.auth, hello })), ms, () => new AuthTimeout(ms));
    } catch (err) {
      if (!isRefusal(err)) {
        this.#opts.logger.warn(`authenticate failed: ${String(err)}`);
        const message = err instanceof AuthTimeout ? err.message : 'authentication is unavailable; try again later';
        return { fail: { ok: false, status: 503, code: 'auth_unavailable', message } };
      }
      verdict = err;
    }
    if (isRefusal(verdict)) return { fail: { ok: false, status: verdict.status, code: 'unauthorized', message: verdict.message ?? 'unauthorized' } };
    return { user: verdict };
  }

  /** A user's identity as a string (`identify`, else its JSON), or undefined when it has none. */
  identity(user: User | undefined): string | undefined {
    try {
      return this.#identify ? this.#identify(user as User) : JSON.stringify(user ?? null);
    } catch (err) {
      this.#opts.logger.warn(`identifying a user failed: ${String(err)}`);
      return undefined;
    }
  }

  /**
   * Whether two users `authenticate` returned are the same one (`identify`, else `===` or JSON).
   * No user is `null` as well as `undefined`: a session's record stores it as `null` (`identity`),
   * so a session taken over from the store has `null` where its client's hellos have `undefined`.
   */
  same(a: User | undefined, b: User | undefined): boolean {
    try {
      if (this.#identify) return this.#identify(a as User) === this.#identify(b as User);
      if ((a ?? null) === (b ?? null)) return true;
      const x = JSON.stringify(a);
      return x !== undefined && x === JSON.stringify(b);
    } catch (err) {
      // A user we cannot compare is nobody else's: a fresh session is the safe answer.
      this.#opts.logger.warn(`comparing users failed: ${String(err)}`);
      return false;
    }
  }
}
