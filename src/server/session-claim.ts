/**
 * A new session is the app's only once the client claims it by speaking on it. A race whose
 * welcome was lost (cut after the server made the session, before the client read it) leaves a
 * session nobody will use: it must not become a phantom `connection` that lives for a TTL.
 */
export class SessionClaim<C> {
  /** What to call when the client claims the session (the app hears of it); unset once it did. */
  #onClaim: ((c: C) => void) | undefined;
  #timer: ReturnType<typeof setTimeout>;

  /** `unclaimed`: ends the session, a race's leftover nobody came for within `timeoutMs`. */
  constructor(onClaim: (c: C) => void, timeoutMs: number, unclaimed: () => void) {
    this.#onClaim = onClaim;
    // Unclaimed for as long as a connection may stay silent before its hello: nobody will come.
    this.#timer = setTimeout(unclaimed, timeoutMs);
  }

  /** True once the client spoke on the session (the app has heard of it). */
  get claimed(): boolean {
    return !this.#onClaim;
  }

  /**
   * The client spoke on the session for the first time: the deadline stops and the app hears of
   * `conn` (claimed by then, so it is among the sessions the app's listener may look at).
   */
  claim(conn: C): void {
    const onClaim = this.#onClaim!;
    this.#onClaim = undefined;
    clearTimeout(this.#timer);
    onClaim(conn);
  }

  /**
   * A resume names the session with the key its welcome carried: the client read the welcome,
   * so it is no lost race's leftover, only a client whose words cannot get through yet (a
   * browser's six connections per origin all held by event streams: the claim waits behind
   * them). Reaping it would lose the session, and with it the sends, which never arrived.
   * So a resume restarts the deadline (Node's `refresh` does not restart a cleared timer: one
   * stopped by `adopted` stays stopped).
   */
  resumed(): void {
    if (this.#onClaim) this.#timer.refresh();
  }

  /**
   * The session was taken over from another node. Its client claimed it long ago (a resume names
   * it by the key of its first welcome): no race's leftover, so no claim deadline may end it (and
   * drop its record) when the resuming link is lost before the client spoke on it. It waits for
   * the next resume as any session that lost its link; the app hears of it here at the client's
   * first word, as before.
   */
  adopted(): void {
    clearTimeout(this.#timer);
  }

  /** The session ended: nothing is left to claim. */
  ended(): void {
    clearTimeout(this.#timer);
  }
}
