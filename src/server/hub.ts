import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { ApiShape } from '../protocol/api';
import { PROTOCOL_VERSIONS, type HelloFrame } from '../protocol/frames';
import type { Link } from './link';
import type { ResolvedServerOptions, ServerOptions } from './options';
import { sameSecret } from './policy';
import { CloseCode } from '../protocol/close-codes';
import type { Rooms } from './rooms';
import { keyHash, type SessionMover, type SessionState } from './handover';
import { Connection } from './session';
import { Users, type HelloRefusal } from './users';

export type HelloOutcome<C> = { ok: true; conn: C; resumed: boolean } | HelloRefusal;

/** Longer than any race: the stagger times the rungs plus an attempt's open timeout. */
const RACE_WINDOW_MS = 10_000;
/** Most sessions remembered as waiting for the store (`#wait`). */
const MAX_WAITING = 10_000;
/** Sessions that commit again at once after a store outage (`recommitAll`). */
const RECOMMIT_STEP = 1000;

/** The answer to a hello that would add a session to a node shutting down: its client resumes elsewhere. */
const SHUTTING_DOWN = { ok: false, status: 503, code: 'server_error', message: 'the server is shutting down: try again' } as const;

/**
 * The sessions of one server, shared by every rung: a hello from any rung opens or resumes a
 * session here, so the app cannot tell (and need not know) which rung a client uses.
 */
export class Hub<Api extends ApiShape, User> {
  /** This node's live sessions (shared state, for several nodes, goes through the `SessionStore`). */
  readonly sessions = new Map<string, Connection<Api, User>>();
  /** New sessions by the race token of the hello that created them, while the race may last. */
  #races = new Map<string, { conn: Connection<Api, User>; until: number; remote: string | undefined }>();
  /** Sessions whose resume was refused while the store could not answer: since when (`storeGraceMs`). */
  #waiting = new Map<string, number>();
  #opts: ResolvedServerOptions;
  /** Who each hello comes from (`authenticate`, `identify`). */
  readonly users: Users<User>;
  #onConnection: (c: Connection<Api, User>) => void;
  #rooms: Rooms<Api, User> | undefined;
  #mover: SessionMover | undefined;
  /**
   * Set when the server starts to close: from then on no session is added here. The server hands
   * the ones it has to the store; one added later would be ended with the node (its record
   * dropped), though its client resumes elsewhere. Checked after every wait of a hello.
   */
  closing = false;

  constructor(
    opts: ResolvedServerOptions,
    app: Pick<ServerOptions<User>, 'authenticate' | 'identify'>,
    onConnection: (c: Connection<Api, User>) => void,
    rooms?: Rooms<Api, User>,
    mover?: SessionMover,
  ) {
    this.#rooms = rooms;
    this.#mover = mover;
    this.#opts = opts;
    this.users = new Users(app, opts);
    this.#onConnection = onConnection;
  }

  /** Opens or resumes the session a hello asks for, on `link`. */
  async hello(hello: HelloFrame, request: IncomingMessage, link: Link): Promise<HelloOutcome<Connection<Api, User>>> {
    const outcome = await this.#hello(hello, request, link);
    // An abandoned attempt is no refusal: its client went on elsewhere.
    if (!outcome.ok && !link.abandoned?.()) this.#opts.metrics?.refused(outcome.code);
    return outcome;
  }

  async #hello(hello: HelloFrame, request: IncomingMessage, link: Link): Promise<HelloOutcome<Connection<Api, User>>> {
    if (this.closing) return SHUTTING_DOWN;
    if (!PROTOCOL_VERSIONS.includes(hello.v)) {
      return { ok: false, status: 400, code: 'unsupported_version', message: `protocol ${hello.v} unsupported; this server speaks ${PROTOCOL_VERSIONS.join(', ')}` };
    }
    let user: User | undefined;
    if (this.users.checked) {
      const verdict = await this.users.judge(request, hello);
      if ('fail' in verdict) return verdict.fail;
      user = verdict.user;
      if (this.closing) return SHUTTING_DOWN;
    }
    // A resume must come from the user the session belongs to: a key that leaked (a log, a
    // shared machine) must not hand A's session and its pending messages to B. A resume by
    // another user fails as a fresh session would: B gets a new session, A keeps its own.
    const existing = hello.sid ? this.sessions.get(hello.sid) : undefined;
    if (
      existing && !existing.closed && hello.key && sameSecret(existing.key, hello.key) &&
      this.users.same(existing.user, user) && existing.offer(link, hello.ack, true, hello.v, hello)
    ) {
      return { ok: true, conn: existing, resumed: true };
    }
    // A session this node does not have may be on another node, or left by one that shut down.
    let notTaken = false;
    if (!existing && hello.sid && hello.key && this.#mover) {
      const moved = await this.#takeOver(hello.sid, hello.key, user, link, hello);
      if (moved === 'unavailable') return { ok: false, status: 503, code: 'server_error', message: 'the session store did not answer: try again' };
      if (moved === 'closing') return SHUTTING_DOWN;
      if (moved) {
        this.#opts.metrics?.takeover('in');
        return { ok: true, conn: moved, resumed: true };
      }
      notTaken = true;
      // Its client left while the store was asked: no new session for nobody (nor a record).
      if (link.abandoned?.()) {
        this.#opts.logger.info('a resume was abandoned by its client while its session was looked for: the session stays where it is', { session: hello.sid });
        return { ok: false, status: 503, code: 'server_error', message: 'the client left before its session was found' };
      }
    }
    // Why a resume gets a new session (its client hears `sessionlost`): for the operator, at info.
    if (hello.sid) {
      const why = !existing ? (notTaken ? 'not in the store (or fenced, or its state behind the client)' : 'not on this node') : existing.closed ? 'it had ended' : 'its key, user or ack did not match';
      this.#opts.logger.info(`a resume found no session: a new one (${why})`, { session: hello.sid });
    }
    // A sibling attempt of the same race as the one that created a session joins that session:
    // one race, one session, whichever of its attempts the client ends up speaking on. The token
    // is the client's choice, so it alone grants nothing (issue 16, item 4): the sibling must be
    // the same user, from the same address, within the race window. A page on another site that
    // starts a race in the victim's browser (a navigation, an <img>) and joins it itself is
    // another user, or another address, or both: it gets a session of its own.
    const entry = hello.race ? this.#races.get(hello.race) : undefined;
    const sibling = entry && Date.now() < entry.until && entry.remote === request.socket.remoteAddress ? entry.conn : undefined;
    if (sibling && !sibling.closed && !hello.sid && this.users.same(sibling.user, user)) {
      sibling.offer(link, undefined, false, hello.v, hello);
      return { ok: true, conn: sibling, resumed: false };
    }
    if (this.closing) return SHUTTING_DOWN;
    const race = hello.race;
    const conn = this.#create(randomUUID(), randomBytes(18).toString('base64url'), user as User, race);
    // The first session of a token keeps it: a stranger's hello naming it must not take the
    // client's own sibling attempts away from the session they belong to.
    if (race && !(entry && Date.now() < entry.until)) this.#races.set(race, { conn, until: Date.now() + RACE_WINDOW_MS, remote: request.socket.remoteAddress });
    // With durable records, the session is in the store before its client hears of it.
    const records = this.#mover?.records, identity = records && this.users.identity(user);
    if (identity !== undefined) await conn.keep(records!, identity);
    if (conn.closed) return { ok: false, status: 503, code: 'server_error', message: 'the session ended before it started' };
    conn.offer(link, undefined, false, hello.v, hello);
    return { ok: true, conn, resumed: false };
  }

  /** Takes a session over from the store (handover.ts); undefined when nobody had it for this key and user. */
  async #takeOver(id: string, key: string, user: User | undefined, link: Link, hello: HelloFrame): Promise<Connection<Api, User> | 'unavailable' | 'closing' | undefined> {
    const identity = this.users.identity(user);
    if (identity === undefined) return undefined;
    let state: SessionState | undefined;
    try {
      state = await this.#mover!.take(id, keyHash(key), identity, { ttlMs: this.#opts.sessionTtlMs, abandoned: () => !!link.abandoned?.() });
      this.#waiting.delete(id);
    } catch (err) {
      this.#opts.logger.warn(`taking a session over failed: ${String(err)}`, { session: id });
      if (!this.sessions.has(id) && this.#wait(id)) return 'unavailable';
    }
    // Two hellos for one session may both have waited for it: the first one's session serves both,
    // if they are one user's (another user's hello, with a leaked key, waited here too).
    const here = this.sessions.get(id);
    if (here) {
      const mine = !here.closed && sameSecret(here.key, key) && this.users.same(here.user, user);
      return mine && here.offer(link, hello.ack, true, hello.v, hello) ? here : undefined;
    }
    if (!state) return undefined;
    if (this.closing) {
      // Taken while this node shuts down: left in the store again, unowned, before the client
      // hears 503, so the node it tries next takes it at once.
      await this.#mover!.park([state], this.#opts.sessionTtlMs).catch((err: unknown) => this.#opts.logger.warn(`leaving a session taken during shutdown failed: ${String(err)}`, { session: id }));
      return 'closing';
    }
    let stored: User;
    try {
      stored = JSON.parse(state.user) as User;
    } catch {
      return undefined;
    }
    const conn = this.#create(id, key, stored, undefined);
    conn.adopt(state);
    if (this.#mover!.records && state.epoch !== undefined) conn.keep(this.#mover!.records, identity, state);
    // The client's ack may be beyond what the state holds (it cannot be, unless the state is stale).
    if (!conn.offer(link, hello.ack, true, hello.v, hello)) {
      conn.close(CloseCode.GoingAway, 'stale session state');
      return undefined;
    }
    return conn;
  }

  /**
   * Whether a resume of `id` is still to be refused while the store cannot answer: for
   * `storeGraceMs` from its first refusal here. Bounded: a flood of made-up ids only evicts the
   * oldest entries, whose clients then get a new session sooner.
   */
  #wait(id: string): boolean {
    const now = Date.now();
    const first = this.#waiting.get(id);
    if (first === undefined) {
      if (this.#waiting.size >= MAX_WAITING) this.#waiting.delete(this.#waiting.keys().next().value!);
      this.#waiting.set(id, now);
      return this.#opts.storeGraceMs > 0;
    }
    if (now - first < this.#opts.storeGraceMs) return true;
    this.#waiting.delete(id);
    return false;
  }

  /**
   * @internal Gives a session of this node to another (its client resumed there): only for the
   * same key hash and identity. The links close with 4409, as when a session moves to another
   * connection on one node.
   */
  surrender(id: string, hash: string, identity: string, leaving?: string): SessionState | undefined {
    const conn = this.sessions.get(id);
    // Claimed or not: a client cut right after its welcome on this node has not spoken here yet.
    if (!conn || conn.closed || keyHash(conn.key) !== hash || this.users.identity(conn.user) !== identity) return undefined;
    const { state, links } = conn.handOver(identity);
    this.#opts.metrics?.takeover(leaving ? 'parked' : 'out');
    // `leaving`: no node asked for it; its client resumes wherever it lands (1001, as at a shutdown).
    for (const l of links) leaving ? l.close(CloseCode.GoingAway, leaving) : l.close(CloseCode.Replaced, 'session moved to another node');
    return state;
  }

  #create(id: string, key: string, user: User, race: string | undefined): Connection<Api, User> {
    const conn = new Connection<Api, User>(
      id,
      key,
      user,
      this.#opts,
      (c) => {
        if (this.sessions.get(c.id) === c) this.sessions.delete(c.id);
        if (race && this.#races.get(race)?.conn === c) this.#races.delete(race);
      },
      // `connection` waits for the client's first word: see Connection's `#claim`.
      (c) => this.#onConnection(c),
      this.#rooms,
    );
    this.sessions.set(id, conn);
    return conn;
  }

  /** The sessions the app has heard of (claimed by their clients). */
  *claimed(): Iterable<Connection<Api, User>> {
    for (const c of this.sessions.values()) if (c.claimed) yield c;
  }

  /** Whom a broadcast reaches: the sessions the app has heard of, here or on the node they moved from. */
  *targets(): Iterable<Connection<Api, User>> {
    for (const c of this.sessions.values()) if (c.claimed || c.moved) yield c;
  }

  /**
   * @internal Every session commits again (`StoreNode.rewrite`): a thousand every tenth of a
   * second, so that a node with many sessions does not overflow the store's bounded queue.
   */
  recommitAll(): void {
    const all = [...this.sessions.values()];
    const step = (from: number): void => {
      for (const c of all.slice(from, from + RECOMMIT_STEP)) if (!c.closed) c.recommit();
      if (from + RECOMMIT_STEP < all.length) setTimeout(() => step(from + RECOMMIT_STEP), 100).unref?.();
    };
    step(0);
  }

  closeAll(code: number, reason: string): void {
    for (const c of [...this.sessions.values()]) c.close(code, reason);
  }
}
