import { useCallback, useState, useSyncExternalStore } from 'react';
import type { ConnectionState } from '../core/client';
import type { AttemptRecord } from '../core/attempt';
import type { RungName } from '../protocol/api';
import type { WirefallError } from '../protocol/errors';
import { useStore } from './provider';

/** What {@link useDiagnostics} returns: the same object until one of its values changes. */
export interface Diagnostics {
  readonly state: ConnectionState;
  readonly rung: RungName | null;
  /** The last measured round-trip time, ms (from heartbeats). */
  readonly rtt: number | undefined;
  /** The last error the provider's client reported (since the provider has had it), or null. */
  readonly lastError: WirefallError | null;
  /** Every connection attempt so far, oldest first (the last 50): `describeAttempt` says each in words. */
  readonly attempts: readonly AttemptRecord[];
  /** Messages queued or awaiting acknowledgement, and their bytes. */
  readonly buffered: { readonly messages: number; readonly bytes: number };
}

const NONE: Diagnostics = Object.freeze({ state: 'connecting', rung: null, rtt: undefined, lastError: null, attempts: [], buffered: Object.freeze({ messages: 0, bytes: 0 }) });
const none = () => NONE;

/**
 * The provider's client as a support page or a status badge wants it: state, rung, round-trip
 * time, the last error, the attempts and what is buffered. Events (state, error, attempt,
 * backpressure) re-render at once; the round-trip time and the buffer, which change without an
 * event, are read every `intervalMs` (default 1000; 0, a negative or an endless one: never, events
 * only). Nothing re-renders while nothing changed.
 * @example
 * function Health() {
 *   const d = useDiagnostics();
 *   return <p>{d.state} via {d.rung}, {d.rtt} ms{d.lastError && `, last error ${d.lastError.code}`}</p>;
 * }
 */
export function useDiagnostics(options: { intervalMs?: number | undefined } = {}): Diagnostics {
  const store = useStore('useDiagnostics');
  const intervalMs = options.intervalMs ?? 1000;
  // 0 means "events only", as a refresh interval of 0 does in SWR and TanStack Query. Timers clamp
  // a delay of 0 to ~4 ms and run one past 2^31 - 1 ms (or Infinity) after 1 ms: either would poll
  // the client ~250 times a second.
  const polls = intervalMs > 0 && intervalMs <= 0x7fffffff;
  // Per hook: the last snapshot handed out.
  const [seen] = useState(() => ({ snap: NONE }));
  const subscribe = useCallback(
    (onChange: () => void) => {
      let offs: (() => void)[] = [];
      const watch = () => {
        offs.forEach((off) => off());
        const c = store.getClient();
        offs = c ? [c.on('state', onChange), c.on('attempt', onChange), c.on('backpressure', onChange)] : [];
      };
      watch();
      // The store tells a new client and each error (it keeps the last one for late mounts).
      const offStore = store.subscribe(() => (watch(), onChange()));
      const timer = polls ? setInterval(onChange, intervalMs) : undefined;
      return () => {
        clearInterval(timer);
        offStore();
        offs.forEach((off) => off());
      };
    },
    [store, seen, intervalMs, polls],
  );
  const getSnapshot = useCallback(() => {
    const c = store.getClient();
    if (!c) return NONE;
    const s = seen.snap;
    const b = c.buffered;
    const lastError = store.getLastError();
    const same = s.state === c.state && s.rung === c.rung && s.rtt === c.rtt && s.lastError === lastError && s.attempts === c.attempts && s.buffered.messages === b.messages && s.buffered.bytes === b.bytes;
    if (!same) seen.snap = Object.freeze({ state: c.state, rung: c.rung, rtt: c.rtt, lastError, attempts: c.attempts, buffered: Object.freeze(b) });
    return seen.snap;
  }, [store, seen]);
  return useSyncExternalStore(subscribe, getSnapshot, none);
}
