/**
 * The one place that reads `globalThis`. The core receives a `Platform` and never touches a
 * global, so it runs in browsers, workers, Node, Deno and Bun, and tests can fake every part.
 */

/**
 * An event handler property. Declared through a method so that its parameter is checked
 * bivariantly: the `ws` package's and the DOM's handlers take their own, richer event types
 * (`(event: WebSocket.Event) => void`), which a plain function type would refuse under
 * `strictFunctionTypes`, so `connect(url, { WebSocket: WS })` needed a cast.
 */
export type Handler<E> = { bivarianceHack(ev: E): void }['bivarianceHack'] | null;

/** The subset of the WHATWG WebSocket that wirefall uses (the `ws` package and the DOM's match it). */
export interface WebSocketLike {
  readonly readyState: number;
  readonly bufferedAmount: number;
  onopen: Handler<unknown>;
  onmessage: Handler<{ data: unknown }>;
  onclose: Handler<{ code: number; reason: string }>;
  onerror: Handler<unknown>;
  /** Set to `arraybuffer`: binary messages (§1.3) then arrive as ArrayBuffer rather than Blob. */
  binaryType?: string;
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
}
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

/** Timers and the wall clock. Deadlines compare `now()` readings, so late timers cannot fool them. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** `localStorage`-shaped storage for the remembered rung. */
export interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** Signals that the network changed, or that the page became visible or runs again after a freeze (`visible`): check the connection now. */
export type WakeReason = 'online' | 'visible';

/** The part of the Web Locks API (`navigator.locks`) that tab sharing uses to elect a leader. */
export interface LocksLike {
  request(name: string, options: { mode?: 'exclusive' | 'shared'; signal?: AbortSignal }, callback: (lock: unknown) => unknown): Promise<unknown>;
}

/** The part of `BroadcastChannel` that tab sharing uses: structured-clone messages to every other same-origin context. */
export interface ChannelLike {
  postMessage(message: unknown): void;
  onmessage: Handler<{ data: unknown }>;
  close(): void;
}

/**
 * Why a page may stop running: it is being unloaded (`pagehide`), frozen (Page Lifecycle `freeze`),
 * or put into the back/forward cache (`cached`: a `pagehide` with `persisted`); and `restored`, a
 * cached page that runs again (a `pageshow` with `persisted`).
 */
export type LeaveReason = 'pagehide' | 'freeze' | 'cached' | 'restored';

export interface Platform {
  WebSocket?: WebSocketConstructor;
  fetch?: typeof fetch;
  clock: Clock;
  storage?: KeyValueStorage;
  random: () => number;
  /** An unguessable token (Web Crypto where available). */
  nonce: () => string;
  /** Subscribes to `online` / visibility changes; returns the unsubscribe function. */
  onWake: (listener: (reason: WakeReason) => void) => () => void;
  /** Web Locks, where available: tab sharing elects its leader with them (wirefall/share). */
  locks?: LocksLike;
  /** Opens a `BroadcastChannel`, where available (wirefall/share). */
  channel?: (name: string) => ChannelLike;
  /** Subscribes to the page being unloaded, frozen, cached or restored from the cache; returns the unsubscribe function. */
  onLeave?: (listener: (reason: LeaveReason) => void) => () => void;
  /** The page's address, when there is a page: relative URLs resolve against it, and `https:` forbids plain `ws:` rungs. */
  pageUrl?: string;
}

/** What events are listened to on: the global scope and the document, where there are such. */
type Target = { addEventListener?: EventTarget['addEventListener']; removeEventListener?: EventTarget['removeEventListener'] };

type Globals = {
  WebSocket?: WebSocketConstructor;
  fetch?: typeof fetch;
  localStorage?: KeyValueStorage;
  location?: { href?: string };
  navigator?: { locks?: LocksLike };
  BroadcastChannel?: new (name: string) => ChannelLike;
  crypto?: { getRandomValues<T extends ArrayBufferView>(a: T): T };
  document?: Target & { visibilityState?: string };
  origin?: string;
} & Target;

/** Adds `fn` for `event` on `target` (when there is one); returns the function that removes it. */
const listen = (target: Target | undefined, event: string, fn: (e: Event) => void) => (
  target?.addEventListener?.(event, fn), () => target?.removeEventListener?.(event, fn)
);
/** Listeners (`listen`'s), removed together. */
const both = (...offs: (() => void)[]) => () => offs.map((off) => off());
const globals = globalThis as unknown as Globals;

/** The platform of the running environment, with any part replaced by `overrides`. */
export function platformFrom(overrides: Partial<Platform> = {}): Platform {
  const g = globals;
  const doc = g.document;
  let storage: KeyValueStorage | undefined;
  // Reading localStorage throws in sandboxed iframes and some private modes.
  try {
    storage = g.localStorage ?? undefined;
  } catch {}
  return {
    WebSocket: g.WebSocket,
    fetch: g.fetch?.bind(g),
    clock: {
      now: Date.now, // a static method: any `this` will do
      // Past 2^31 - 1 ms (24.8 days; `Infinity` for "never") timers fire at once, in browsers and
      // Node alike: capped at 2e9 ms (23 days), shorter to write.
      setTimeout: (fn, ms) => setTimeout(fn, Math.min(ms, 2e9)),
      clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
    },
    storage,
    random: Math.random,
    // Without Web Crypto (Node 18), two Math.random()s: base 36 digits after a "0." each.
    nonce: () => Array.from(g.crypto?.getRandomValues(new Uint32Array(4)) ?? [Math.random(), Math.random()], (n) => n.toString(36)).join(''),
    onWake: (listener) =>
      // `resume`: a frozen page runs again, still hidden (a background tab Chrome unfroze, a page
      // frozen by DevTools). Its links may have died meanwhile: Chromium leaves the event stream
      // of a fetch it froze silent for good (no error, no end), found only at the stall deadline,
      // 2 heartbeats later (10 s by default) instead of within the answer deadline (2 s).
      both(listen(g, 'online', () => listener('online')), listen(doc, 'resume', () => listener('visible')), listen(doc, 'visibilitychange', () => doc!.visibilityState === 'visible' && listener('visible'))),
    pageUrl: g.location?.href,
    ...overrides,
  };
}

/**
 * What only tab sharing uses (`locks`, `channel`, `onLeave`), from the environment where `p` does
 * not say: called by wirefall/share, so that a client that does not share does not carry it.
 */
export function sharePlatform(p: Platform): Platform {
  const g = globals;
  // An opaque origin (a sandboxed iframe, a data: URL) cannot share: Web Locks reject there with a
  // SecurityError, so no tab would ever lead and nothing would connect; and its channel reaches no
  // other context anyway. Such a context keeps its own connection.
  const Channel = g.origin === 'null' ? undefined : g.BroadcastChannel;
  return {
    locks: Channel && g.navigator?.locks,
    channel: Channel && ((name: string) => new Channel(name)),
    // A page going into the back/forward cache (`persisted`) is not unloaded: it may come back, and
    // its client with it. Closing for good there left a restored page with a closed client; holding
    // its Web Locks and channel there got it evicted from the cache (docs/sharing.md).
    onLeave: (listener) =>
      both(
        listen(g, 'pagehide', (e) => listener((e as PageTransitionEvent).persisted ? 'cached' : 'pagehide')),
        listen(g, 'pageshow', (e) => (e as PageTransitionEvent).persisted && listener('restored')),
        listen(g.document, 'freeze', () => listener('freeze')),
      ),
    ...p,
  };
}
