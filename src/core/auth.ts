import { DEV } from '../dev';
import { WirefallError } from '../protocol/errors';
import type { ClientOptions } from './options';
import type { Clock } from '../platform';
import { isThenable } from '../util/thenable';

/**
 * Credentials for one hello. A value is used as is; a function is called for every race, and
 * may return a promise (tokens that expire are fetched fresh: centrifuge's `getToken`, Ably's
 * `authCallback`). A plain value stays synchronous, so the usual cold start waits for nothing.
 * A callback that throws or rejects fails that race with `WF_AUTH` (retryable: the token
 * service may be down for a moment).
 */
export function credentials<T>(auth: ClientOptions['auth'], then: (auth: unknown) => T): T | Promise<T> {
  if (typeof auth !== 'function') return then(auth);
  let value: unknown;
  try {
    value = (auth as () => unknown)();
  } catch (cause) {
    value = Promise.reject(cause);
  }
  return isThenable(value)
    ? Promise.resolve(value).then(then, (cause) => {
        throw new WirefallError('WF_AUTH', DEV ? `the auth callback failed: ${String((cause as Error)?.message ?? cause)}` : '', { cause });
      })
    : then(value);
}

/**
 * Whether a refusal is worth one more try with fresh credentials: the server said 401 (not 403,
 * which no token changes), and `auth` is a function that can produce a new token.
 */
export function staleCredentials(auth: ClientOptions['auth'], error: WirefallError | undefined): boolean {
  return typeof auth === 'function' && error?.code === 'WF_UNAUTHORIZED' && error.status === 401;
}

/**
 * `p`, or `WF_AUTH` after `ms`: a token service that never answers must not hold the client in
 * `connecting` for ever (every wait has a deadline); the race fails and is retried with backoff.
 */
export function authDeadline<T>(p: Promise<T>, clock: Clock, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = clock.setTimeout(() => reject(new WirefallError('WF_AUTH', DEV ? `the auth callback did not answer within ${ms} ms` : '')), ms);
    p.then(
      (v) => (clock.clearTimeout(timer), resolve(v)),
      (e: unknown) => (clock.clearTimeout(timer), reject(e)),
    );
  });
}
