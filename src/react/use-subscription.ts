import { useEffect, useInsertionEffect, useRef } from 'react';
import type { ApiCheck, ApiShape } from '../protocol/api';
import { useClientFor, type DefaultApi } from './provider';

/**
 * Calls `handler` for every `type` message the server pushes, while the component is mounted.
 *
 * The subscription is made once per client and `type`: an inline handler that changes on every
 * render does not resubscribe, yet each push calls the handler of the latest render, so it sees
 * current props and state. Pushes are delivered once the provider's client exists.
 *
 * Typed through {@link createWirefallReact}; used directly, give both type arguments
 * (`useSubscription<Chat, 'said'>`) or the data is `Wire` (any value that can make the trip).
 *
 * @example
 * const [lines, setLines] = useState<string[]>([]);
 * useSubscription('said', (m) => setLines((l) => [...l, `${m.from}: ${m.text}`]));
 */
export function useSubscription<
  Api extends ApiShape & ApiCheck<Api> = DefaultApi,
  K extends keyof Api['server'] & string = keyof Api['server'] & string,
>(type: K, handler: (data: Api['server'][K]) => void): void {
  const client = useClientFor('useSubscription');
  const latest = useRef(handler);
  // Insertion effects run before every other effect of the commit and never on the server, so
  // no effect of this commit, and no push after it, can reach a stale handler.
  useInsertionEffect(() => {
    latest.current = handler;
  });
  useEffect(() => client?.subscribe(type as never, (data) => latest.current(data as Api['server'][K])), [client, type]);
}
