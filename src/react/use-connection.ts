import { useCallback, useSyncExternalStore } from 'react';
import type { ConnectionState } from '../core/client';
import type { RungName } from '../protocol/api';
import { useStore } from './provider';

/** What {@link useConnection} returns. The same object until the state or the rung changes. */
export interface ConnectionSnapshot {
  readonly state: ConnectionState;
  /** The rung in use while `open`, else null. */
  readonly rung: RungName | null;
}

/**
 * One frozen snapshot per (state, rung) pair: equal values are the same object, whichever client
 * they came from, so `useSyncExternalStore` re-renders exactly when the value changes, including
 * when the provider's client appears (it starts as `connecting`, like the placeholder).
 */
const snapshots = new Map<string, ConnectionSnapshot>();
function snapshot(state: ConnectionState, rung: RungName | null): ConnectionSnapshot {
  const key = `${state} ${rung}`;
  let s = snapshots.get(key);
  if (!s) snapshots.set(key, (s = Object.freeze({ state, rung })));
  return s;
}

/** Before there is a client (server rendering, first render, hydration). */
const NO_CLIENT = snapshot('connecting', null);
const noClient = () => NO_CLIENT;

/**
 * The provider's connection state and current rung. The component re-renders only when one of
 * them changes (through `useSyncExternalStore`, so concurrent renders never tear). Before the
 * client exists, and on the server, it is `{ state: 'connecting', rung: null }`.
 *
 * @example
 * function Status() {
 *   const { state, rung } = useConnection();
 *   return <span>{state === 'open' ? `live via ${rung}` : state}</span>;
 * }
 */
export function useConnection(): ConnectionSnapshot {
  const store = useStore('useConnection');
  // Watches the store for the client, and the client of the moment for its state.
  const subscribe = useCallback(
    (onChange: () => void) => {
      let off = store.getClient()?.on('state', onChange);
      const offStore = store.subscribe(() => {
        off?.();
        off = store.getClient()?.on('state', onChange);
        onChange();
      });
      return () => {
        offStore();
        off?.();
      };
    },
    [store],
  );
  const getSnapshot = useCallback(() => {
    const client = store.getClient();
    return client ? snapshot(client.state, client.rung) : NO_CLIENT;
  }, [store]);
  return useSyncExternalStore(subscribe, getSnapshot, noClient);
}
