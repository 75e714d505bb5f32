import type { ApiShape, Client } from '../core/client';
import { WirefallError } from '../protocol/errors';
import { DEV } from '../dev';

interface Pending {
  type: string;
  data: unknown;
  resolve: () => void;
  reject: (reason: unknown) => void;
}

type AnyClient = Client<ApiShape>;

const unmounted = () => new WirefallError('WF_CLOSED', DEV ? 'the WirefallProvider unmounted: there is no client to send through' : '');

/**
 * @internal What a provider shares with its tree: the current client (or none yet) and the sends
 * made before there was one. It is an external store so hooks read it with `useSyncExternalStore`
 * and the provider's children do not re-render when it changes, only the hooks that read it.
 */
export class ClientStore {
  #client: AnyClient | null;
  #listeners = new Set<() => void>();
  #pending: Pending[] = [];
  #mounted = 0;
  /** Unmounted for good (until a remount, as when an `<Activity>` is shown again). */
  #disposed = false;
  /** The provider committed a new `url` or `client`: the current client is on its way out. */
  #held = false;
  /** The client whose errors are heard (while mounted), the last one, and how to stop. */
  #heard: AnyClient | null = null;
  #lastError: WirefallError | null = null;
  #unhear?: (() => void) | undefined;

  constructor(client: AnyClient | null) {
    this.#client = client;
  }

  /** The client, or null before the provider has created it (first render, server rendering). */
  getClient = (): AnyClient | null => this.#client;

  /** The current client's last error since the provider has had it (listeners hear each). */
  getLastError = (): WirefallError | null => (this.#client && this.#client === this.#heard ? this.#lastError : null);

  subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  };

  /**
   * Sends through the client, or queues until there is one. Queued sends go out first and in
   * call order, so a send made in a child's mount effect (which runs before the provider's) is
   * not overtaken by later ones.
   */
  send = (type: string, data: unknown): Promise<void> => {
    const client = this.#client;
    if (client && !this.#held && this.#pending.length === 0) return client.send(type as never, data as never);
    if (this.#disposed) return Promise.reject(unmounted());
    return new Promise<void>((resolve, reject) => this.#pending.push({ type, data, resolve, reject }));
  };

  set(client: AnyClient | null): void {
    const changed = client !== this.#client;
    this.#client = client;
    this.#held = false;
    if (client) for (const p of this.#pending.splice(0)) client.send(p.type as never, p.data as never).then(p.resolve, p.reject);
    this.#hear(client);
    if (changed) this.#notify();
  }

  #notify(): void {
    for (const l of [...this.#listeners]) l();
  }

  /** Listens to `client`'s errors (and no longer to the previous one's): a set() or an unmount. */
  #hear(client: AnyClient | null): void {
    if (client === this.#heard) return;
    this.#unhear?.();
    this.#heard = client;
    this.#lastError = null;
    this.#unhear = client?.on('error', (e) => {
      this.#lastError = e;
      this.#notify();
    });
  }

  /**
   * Queues sends until the next `set`, without telling anyone (it runs in an insertion effect,
   * where React forbids updates). The provider calls it in the commit that changes its `url` or
   * `client`, before any layout effect of that commit: the new children's sends must not reach
   * the outgoing client, which the provider closes (or stops sharing) only in its passive effect.
   */
  hold(): void {
    this.#held = true;
  }

  /**
   * Marks the provider mounted; the returned function unmarks it. Queued sends reject only when
   * the provider stays unmounted past the current task: StrictMode's simulated unmount is
   * followed at once by a remount, and must not fail them.
   */
  retain(): () => void {
    this.#mounted++;
    this.#disposed = false;
    return () => {
      this.#mounted--;
      queueMicrotask(() => {
        if (this.#mounted > 0) return;
        this.#disposed = true;
        this.#hear(null);
        const err = unmounted();
        for (const p of this.#pending.splice(0)) p.reject(err);
      });
    };
  }
}
