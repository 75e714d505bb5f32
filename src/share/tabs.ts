/**
 * The other tabs that are alive. A tab that closes says `leave`; one that crashed (its renderer
 * killed: no `pagehide`, no JS) says nothing, and would count for ever: the last tab would then
 * leave the session for a next leader that never comes, instead of ending it. So every tab holds a
 * Web Lock of its own for its life, and waits (shared) for the lock of every tab it hears of: the
 * browser releases a dead tab's locks, and the wait ends. No heartbeat or timeout guesses.
 *
 * The count is known before it is needed: a tab closing on `pagehide` must decide at once, where
 * an answer of `locks.query()` might never come back.
 */
import type { LocksLike } from '../platform';
import { Election } from './election';

export interface Tabs {
  /** The other tabs alive, as far as this one knows: read it, or delete a tab that said `leave`. */
  readonly alive: Set<string>;
  /** A tab was heard from: it counts until it leaves or its lock is released. */
  add(tab: string): void;
  /** Lets this tab's lock go (the others stop counting it) and stops waiting for theirs. */
  close(): void;
}

/**
 * Starts counting for tab `tab` of share `name`; `gone` runs when a tab it heard of has released
 * its lock (it closed, crashed, was discarded). A closure, not a class: its names minify.
 */
export function tabs(locks: LocksLike, name: string, tab: string, gone: (tab: string) => void): Tabs {
  const alive = new Set<string>();
  const stop = new AbortController();
  const lock = (t: string) => `${name} tab ${t}`;
  // Held until close(), as the browser counts. Requested before this tab posts anything, so before
  // any other tab can hear of it and wait for it.
  const own = new Election(locks, lock(tab));
  own.join(() => {});
  return {
    alive,
    add(t) {
      if (alive.has(t)) return;
      alive.add(t);
      locks
        .request(lock(t), { mode: 'shared', signal: stop.signal }, () => gone(t))
        // Aborted by close(): nothing to wait for any more.
        .catch(() => {});
    },
    close() {
      stop.abort();
      own.resign();
    },
  };
}
