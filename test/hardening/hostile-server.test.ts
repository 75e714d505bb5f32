import { afterEach, expect, test } from 'vitest';
import type { ClientOptions, RungName } from '../../src/index';
import { cleanup, client, eventually, startServer, until } from '../support/harness';
import { alive, DOCUMENTED, framesOf, GREET, hostileServer, peak, watch, welcome, WELCOME, type Script, type Step } from '../support/hostile';

afterEach(cleanup);

/*
 * A hostile or broken server must not hurt the client (docs/protocol.md §1: a receiver keeps
 * nothing unbounded that a peer chose; "every queue has a bound and every wait has a deadline").
 * A raw server (test/support/hostile.ts) answers the client's hello on each rung with frames
 * that are valid JSON but break the protocol, with garbage, or with nothing: the client must not
 * throw, must not spin, must say what happened with a documented code, must keep its buffers
 * bounded, and must neither lose nor double what the app sent once it reaches a sane server.
 */

const RUNGS = ['ws', 'sse', 'longpoll'] as const;
/** Short deadlines, so that each case takes a few seconds; a backoff that soon tries again. */
const QUICK: ClientOptions = { openTimeout: 1000, welcomeTimeout: 1000, answerDeadline: 1000, reconnect: { base: 50, max: 300 }, rememberRungMs: 0, upgradeProbe: false };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function scenario(rung: RungName, script: Script, opts: ClientOptions = {}, real?: number) {
  const s = await hostileServer(script, real);
  const c = client(s.url, { ...QUICK, transports: [rung], ...opts });
  const w = watch(c);
  /** What every case must hold: nothing escaped, documented codes, no ping storm. */
  const sound = (pingsPerSecond = 2) => {
    expect(w.escaped).toEqual([]);
    for (const code of w.codes()) expect(DOCUMENTED).toContain(code);
    const pings = framesOf(s.sent).filter((x) => x.f.t === 'ping');
    expect(peak(pings.map((x) => x.at))).toBeLessThanOrEqual(pingsPerSecond);
  };
  return { s, c, w, sound };
}

/** Steps after a valid welcome (heartbeat `hb`), then silence. */
const after = (steps: Step[], extra: Record<string, unknown> = {}): Script => ({ open: (n) => (n === 1 ? [...welcome(extra), ...steps] : welcome({ ...extra, sid: `h${n}` })), reply: alive() });

// A welcome's heartbeat is the server's beat, and the client's own ping and silence bound follow
// it (§5). `hb` 0 or 1 (valid to the codec: a non-negative integer) made the client ping every
// millisecond and find the link stalled after 2 ms of silence: it never stayed open, and each
// stall counted against the rung. Trusted from 1 s up (as up to 60 s above): a server with a
// shorter beat still pings as often as it likes, but the client paces itself no faster.
for (const rung of RUNGS) {
  for (const hb of [0, 1, 2 ** 53 - 1]) {
    test(`${rung}: a welcome's hb of ${hb} keeps a live link, and the client pings at most about once a second`, async () => {
      const { c, w, sound } = await scenario(rung, { open: () => welcome({ hb }), reply: alive() });
      await until(c, 'open', 5000);
      await sleep(2500);
      expect(w.codes()).toEqual([]);
      expect(c.state).toBe('open');
      sound();
    });
  }
}
