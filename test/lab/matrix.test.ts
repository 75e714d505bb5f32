import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { Agent, fetch as undiciFetch } from 'undici';
import WebSocket from 'ws';
import type { ClientOptions, RungName, WirefallError } from '../../src/index';
import { makeTestCert, startLab } from '../../lab';
import { cleanup, client, eventually, startServer, track, until } from '../support/harness';
import { echoes as exchange } from '../support/echoes';
import { mapStorage } from '../support/map-storage';
import { matrix, namesReason, SETTLE_MS } from './matrix-cases';

afterEach(cleanup);

/** Time to connected per scenario, printed once for the closing note and docs. */
const timings: string[] = [];
afterAll(() => console.log(`time to connected (Node):\n${timings.join('\n')}`));


async function setup(scenario: Parameters<typeof startLab>[0]['scenario'], heartbeatMs = 5000, tls?: { key: string; cert: string }) {
  const { server, port } = await startServer({ heartbeatMs });
  track(server);
  server.on('connection', (conn) => conn.subscribe('echo', (d) => void conn.send('echoed', d)));
  const lab = track(await startLab({ upstream: { host: '127.0.0.1', port }, scenario, tls }));
  return { server, lab };
}

/** Client options that trust the test certificate, for the lab in TLS mode. */
function trusting(cert: string): ClientOptions {
  class TrustingWebSocket extends WebSocket {
    constructor(u: string) {
      super(u, { ca: cert });
    }
  }
  const dispatcher = new Agent({ connect: { ca: cert } });
  track({ close: () => dispatcher.close() });
  return {
    WebSocket: TrustingWebSocket as never,
    fetch: ((input: string, init?: RequestInit) => undiciFetch(input, { ...(init as object), dispatcher })) as unknown as typeof fetch,
  };
}

describe('hostile-network matrix (Node)', () => {
  // In the clear (ws → sse → longpoll), and over TLS with a generated certificate
  // (wss → sse → longpoll over https: no plain ws, as for a secure page).
  for (const mode of ['plain', 'tls'] as const)
  for (const m of matrix) {
    const r = (x: RungName): RungName => (mode === 'tls' && x === 'ws' ? 'wss' : x);
    test(`${m.name}${mode === 'tls' ? ' (TLS)' : ''}`, async () => {
      const tls = mode === 'tls' ? await makeTestCert() : undefined;
      const { lab } = await setup(m.scenario, m.heartbeatMs ?? 5000, tls);
      const t0 = performance.now();
      const c = client(`${lab.url}/wirefall`, {
        transports: (m.transports ?? ['ws', 'sse', 'longpoll']).map(r),
        reconnect: { base: 50, max: 500 },
        platform: { storage: mapStorage() },
        ...(tls && trusting(tls.cert)),
      });
      let opens = 0;
      c.on('state', (s) => s === 'open' && opens++);
      await until(c, 'open', 5000);
      const took = performance.now() - t0;
      timings.push(`| ${m.name} | ${mode} | ${c.rung} | ${Math.round(took)} ms |`);
      expect(m.endsOn.map(r)).toContain(c.rung);
      expect(took).toBeLessThan(m.budgetMs);
      if (m.left) {
        // As in Chromium: an attempt overtaken by SSE is recorded as abandoned with how far it
        // got, and the climb tries the rung again (namesReason); a status comes with its reason.
        const left = m.left;
        const tried = () => c.attempts.filter((x) => x.rung === r(left.rung));
        await eventually(() => namesReason(tried(), left.node), SETTLE_MS, `an attempt on ${left.rung} that says ${left.node}`).catch(() => undefined);
        expect(namesReason(tried(), left.node), `want ${left.node}: ${JSON.stringify(tried().map((a) => [a.outcome, a.reason]))}`).toBe(true);
        if (left.status) expect(tried().find((x) => x.reason === left.node)?.status).toBe(left.status);
      }
      if (m.scenario.kind === 'refuse-upgrade' || m.scenario.kind === 'drop-frames' || m.scenario.kind === 'swallow-uplink' || m.scenario.kind === 'rewrite-connection' || m.scenario.kind === 'strip-upgrade') {
        // The WebSocket rung really was broken by the lab, not skipped by configuration. Under load
        // the first attempt may be overtaken before it connects; the climb tries the rung again.
        await eventually(() => lab.stats.connections.ws > 0, SETTLE_MS, 'a WebSocket connection at the lab');
      }
      if (m.scenario.kind === 'strip-upgrade') {
        expect(lab.stats.upgradesStripped).toBeGreaterThan(0);
      }
      if (m.settlesOn) await eventually(() => c.rung === r(m.settlesOn!), SETTLE_MS, `the client on ${r(m.settlesOn)}`);
      if (m.idleFirstMs) await new Promise((res) => setTimeout(res, m.idleFirstMs));
      await exchange(c, m.cuts ? 400 : 100, m.cuts ? 3000 : 200);
      if (m.cuts) {
        expect(lab.stats.cuts).toBeGreaterThan(0);
        // The cuts cost links (each lost link is resumed: opens > 1), unless the client spent the
        // run on long-polling, whose cut polls are sent again on the link (protocol.md §2.3).
        expect(opens > 1 || c.attempts.some((a) => a.rung === 'longpoll' && a.outcome === 'verified'), `opens ${opens}, ${JSON.stringify(c.attempts.map((a) => [a.rung, a.outcome]))}`).toBe(true);
        // Cut after cut, the client keeps coming back to WebSocket rather than staying down (a rung
        // cut while connecting waits for the climb, so give it the climb's time).
        await eventually(() => c.attempts.some((a) => a.outcome === 'verified' && a.rung === r('ws')), SETTLE_MS, 'a verified WebSocket');
      }
    }, 40_000);
  }

  test('a proxy demanding authentication (407): a typed error with the status, and no retry storm', async () => {
    const { lab } = await setup({ kind: 'proxy-auth' });
    const c = client(`${lab.url}/wirefall`, { transports: ['ws', 'sse', 'longpoll'], platform: { storage: mapStorage() } });
    const errors: WirefallError[] = [];
    c.on('error', (e) => errors.push(e));
    await eventually(() => errors.length > 0, 3000, 'an error');
    expect(errors[0]).toMatchObject({ code: 'WF_PROXY_AUTH', status: 407, retryable: true });
    await new Promise((r) => setTimeout(r, 2000));
    const s = lab.stats;
    const requests = s.connections.ws + s.connections.http + s.connections.sse;
    // Full-jitter backoff from 250 ms doubling: a handful of rounds in 2 s, not hundreds.
    expect(requests).toBeLessThan(30);
    expect(c.state).toBe('connecting');
  });

  test('a client that fell back climbs back to WebSocket when the lab passes again, without losing a message', async () => {
    const { lab } = await setup({ kind: 'drop-frames' });
    const c = client(`${lab.url}/wirefall`, {
      transports: ['ws', 'sse', 'longpoll'],
      upgradeProbe: { first: 300, max: 600 },
      platform: { storage: mapStorage() },
    });
    await until(c, 'open');
    expect(c.rung).toBe('sse');
    const climbed = new Promise<void>((resolve) => c.on('state', (s, r) => s === 'open' && r === 'ws' && resolve()));
    const flowing = exchange(c, 600, 1500);
    await new Promise((r) => setTimeout(r, 200));
    lab.setScenario({ kind: 'pass' });
    await climbed;
    await flowing;
    expect(c.rung).toBe('ws');
    expect(c.attempts.some((a) => a.rung === 'ws' && a.reason === 'WF_NO_DATA')).toBe(true);
  });

  test('a slow link (RTT > stagger): racing makes one session, and reconnects settle instead of flapping', async () => {
    const { server, lab } = await setup({ kind: 'latency', ms: 150 });
    const c = client(`${lab.url}/wirefall`, { transports: ['ws', 'sse', 'longpoll'], platform: { storage: mapStorage() } });
    let reconnects = 0;
    c.on('state', (s) => s === 'reconnecting' && reconnects++);
    await until(c, 'open', 5000);
    // Several rungs raced and more than one said hello; they all joined one session.
    await new Promise((r) => setTimeout(r, 2500));
    const sessions = () => [...server.connections];
    expect(sessions()).toHaveLength(1);
    expect(reconnects).toBe(0);
    // The session is on the client's rung, or follows it there: on a loaded machine the race may
    // open low and the climb move it up just now (the server moves when the client speaks on the
    // new link, 150 ms away), which is a move, not a second session.
    await eventually(() => sessions()[0]?.rung === c.rung, 3000, "the session on the client's rung");
    lab.cutAll();
    await until(c, 'reconnecting');
    await until(c, 'open', 5000);
    // The losers of the reconnect race must not take the session from the winner (the upgrade
    // probe may still move it up a rung: that is a move, not a reconnect).
    await new Promise((r) => setTimeout(r, 3000));
    expect(reconnects).toBe(1);
    expect(sessions()).toHaveLength(1);
    await eventually(() => sessions()[0]?.rung === c.rung, 3000, "the session on the client's rung");
    await exchange(c, 50, 200);
  }, 30_000);
});
