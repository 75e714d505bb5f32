import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { ApiShape } from '../protocol/api';
import { PROTOCOL_VERSIONS, type HelloFrame } from '../protocol/frames';
import type { WireErrorCode } from '../protocol/wire-errors';
import type { Link } from './link';
import type { Refusal, ResolvedServerOptions, ServerOptions } from './options';
import { sameSecret } from './policy';
import { Connection } from './session';

/**
 * Where sessions live. In memory by default; the interface is small so that a shared store
 * (Redis) can serve several nodes without sticky sessions.
 */
export interface SessionStore<C> {
  get(id: string): C | undefined;
  set(id: string, c: C): void;
  delete(id: string): void;
  values(): Iterable<C>;
  readonly size: number;
}

export type HelloOutcome<C> = { ok: true; conn: C; resumed: boolean } | { ok: false; status: number; code: WireErrorCode; message: string };

/** Longer than any race: the stagger times the rungs plus an attempt's open timeout. */
const RACE_WINDOW_MS = 10_000;

function isRefusal(x: unknown): x is Refusal {
  return typeof x === 'object' && x !== null && ((x as Refusal).status === 401 || (x as Refusal).status === 403);
}


/**
 * The sessions of one server, shared by every rung: a hello from any rung opens or resumes a
 * session here, so the app cannot tell (and need not know) which rung a client uses.
 */
export class Hub<Api extends ApiShape, User> {
  readonly sessions: SessionStore<Connection<Api, User>> = new Map();
  /** New sessions by the race token of the hello that created them, while the race may last. */
  #races = new Map<string, { conn: Connection<Api, User>; until: number }>();
  #opts: ResolvedServerOptions;
  #authenticate: ServerOptions<User>['authenticate'];
  #onConnection: (c: Connection<Api, User>) => void;

  constructor(opts: ResolvedServerOptions, authenticate: ServerOptions<User>['authenticate'], onConnection: (c: Connection<Api, User>) => void) {
    this.#opts = opts;
    this.#authenticate = authenticate;
    this.#onConnection = onConnection;
  }

  /** Opens or resumes the session a hello asks for, on `link`. */
  async hello(hello: HelloFrame, request: IncomingMessage, link: Link): Promise<HelloOutcome<Connection<Api, User>>> {
    if (!PROTOCOL_VERSIONS.includes(hello.v)) {
      return { ok: false, status: 400, code: 'unsupported_version', message: `protocol ${hello.v} unsupported; this server speaks ${PROTOCOL_VERSIONS.join(', ')}` };
    }
    let user: User | undefined;
    if (this.#authenticate) {
      let verdict: User | Refusal;
      try {
        verdict = await this.#authenticate({ request, auth: hello.auth, hello });
      } catch (err) {
        verdict = isRefusal(err) ? err : { status: 401, message: 'authentication failed' };
      }
      if (isRefusal(verdict)) return { ok: false, status: verdict.status, code: 'unauthorized', message: verdict.message ?? 'unauthorized' };
      user = verdict;
    }
    const existing = hello.sid ? this.sessions.get(hello.sid) : undefined;
    if (existing && !existing.closed && hello.key && sameSecret(existing.key, hello.key) && existing.offer(link, hello.ack, true)) {
      return { ok: true, conn: existing, resumed: true };
    }
    // A sibling attempt of the same race as the one that created a session joins that session:
    // one race, one session, whichever of its attempts the client ends up speaking on.
    // Only for as long as a race lasts: the token travels in URLs, so it must not stay a key to
    // the session (whose welcome carries its secret) after the race is over.
    const entry = hello.race ? this.#races.get(hello.race) : undefined;
    const sibling = entry && Date.now() < entry.until ? entry.conn : undefined;
    if (sibling && !sibling.closed && !hello.sid) {
      sibling.offer(link, undefined, false);
      return { ok: true, conn: sibling, resumed: false };
    }
    const race = hello.race;
    const conn = new Connection<Api, User>(
      randomUUID(),
      randomBytes(18).toString('base64url'),
      user as User,
      this.#opts,
      (c) => {
        this.sessions.delete(c.id);
        if (race) this.#races.delete(race);
      },
      // `connection` waits for the client's first word: see Connection's `#claim`.
      (c) => this.#onConnection(c),
    );
    this.sessions.set(conn.id, conn);
    if (race) this.#races.set(race, { conn, until: Date.now() + RACE_WINDOW_MS });
    conn.offer(link, undefined, false);
    return { ok: true, conn, resumed: false };
  }

  /** The sessions the app has heard of (claimed by their clients). */
  *claimed(): Iterable<Connection<Api, User>> {
    for (const c of this.sessions.values()) if (c.claimed) yield c;
  }

  closeAll(code: number, reason: string): void {
    for (const c of [...this.sessions.values()]) c.close(code, reason);
  }
}
