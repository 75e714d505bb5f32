import { createContext, createElement, useContext, useEffect, useInsertionEffect, useState, useSyncExternalStore, type ReactElement, type ReactNode } from 'react';
import type { ApiShape, Client } from '../core/client';
import type { ApiCheck } from '../protocol/api';
import { WirefallError } from '../protocol/errors';
import { DEV } from '../dev';
import type { ClientOptions } from '../core/options';
import { connect } from '../index';
import { ClientStore } from './store';

/** The message map used when none is given: any name, data `Wire` (any value that can make the trip). */
export type { AnyApi as DefaultApi } from '../protocol/api';
import type { AnyApi as DefaultApi } from '../protocol/api';

/**
 * Props of {@link WirefallProvider}: either an existing `client` (the provider never closes it),
 * or a `url` and `options` from which the provider creates its own client after mounting and
 * closes it when it unmounts. `options` are read when the client is created; changing them later
 * does not reconnect (change `url`, or the provider's `key`, for a new client).
 */
export type WirefallProviderProps<Api extends ApiShape = DefaultApi> = { children?: ReactNode } & (
  | { client: Client<Api>; url?: undefined; options?: undefined }
  | { url: string; options?: ClientOptions | undefined; client?: undefined }
);

const WirefallContext = createContext<ClientStore | null>(null);
WirefallContext.displayName = 'Wirefall';

/**
 * Shares one wirefall client with every hook below it.
 *
 * Given a `url`, the client is created after the provider mounts, never during render: server
 * rendering makes no connection, and StrictMode's mount → unmount → mount creates exactly one
 * client (creation waits for a microtask, which the immediate simulated unmount cancels). The
 * client is closed when the provider unmounts or `url` changes. An invalid URL or options throw
 * from the provider's render, for the nearest error boundary.
 *
 * @example
 * <WirefallProvider url="https://example.com/wirefall" options={{ auth: () => token }}>
 *   <App />
 * </WirefallProvider>
 * // or share a client made elsewhere (the provider will not close it):
 * <WirefallProvider client={client}><App /></WirefallProvider>
 */
export function WirefallProvider<Api extends ApiShape & ApiCheck<Api> = DefaultApi>(props: WirefallProviderProps<Api>): ReactElement {
  const { client, url, options } = props;
  const [store] = useState(() => new ClientStore((client as Client<ApiShape> | undefined) ?? null));
  const [failure, setFailure] = useState<{ error: unknown } | null>(null);
  if (failure) throw failure.error;

  // Insertion effects' cleanups run before every layout effect of the commit, children's too.
  useInsertionEffect(() => () => store.hold(), [store, client, url]);
  useEffect(() => {
    const release = store.retain();
    if (client) {
      store.set(client as Client<ApiShape>);
      return release;
    }
    store.set(null); // switching from a shared client to an own one
    let live = true;
    let created: Client<ApiShape> | undefined;
    queueMicrotask(() => {
      if (!live) return;
      try {
        created = connect<ApiShape>(url as string, options);
      } catch (error) {
        setFailure({ error });
        return;
      }
      store.set(created);
    });
    return () => {
      live = false;
      release();
      if (!created) return;
      store.set(null);
      created.close();
    };
    // `options` are deliberately not a dependency: an inline object is new on every render, and
    // reconnecting on every render is the storm this provider exists to prevent.
  }, [store, client, url]);

  return createElement(WirefallContext.Provider, { value: store }, props.children);
}

/** @internal The provider's store, or a clear error naming the hook used outside one. */
export function useStore(hook: string): ClientStore {
  const store = useContext(WirefallContext);
  if (!store) throw new WirefallError('WF_INVALID', DEV ? `${hook}() must be used inside a <WirefallProvider>` : '');
  return store;
}

/**
 * The provider's client, or `null` before it exists (the first render, and always on the
 * server). Re-renders when the provider replaces it. For events the other hooks do not cover
 * (`error`, `sessionlost`, `backpressure`), subscribe in an effect.
 *
 * @example
 * const client = useClient<Chat>();
 * useEffect(() => client?.on('error', (e) => report(e.code)), [client]);
 */
export function useClient<Api extends ApiShape & ApiCheck<Api> = DefaultApi>(): Client<Api> | null {
  return useClientFor('useClient') as Client<Api> | null;
}

/** @internal `useClient` reporting misuse under the calling hook's name. */
export function useClientFor(hook: string): Client<ApiShape> | null {
  const store = useStore(hook);
  return useSyncExternalStore(store.subscribe, store.getClient, store.getClient);
}
