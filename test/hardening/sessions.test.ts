/**
 * Issue 16, "sessions must not change hands": a session joins or resumes only for the user
 * `authenticate` returned it to, and a browser's cross-site request without Origin is refused.
 */
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { memoryStore, type ServerOptions, type SessionState, type SessionStore } from '../../src/server/index';
import { keyHash } from '../../src/server/handover';
import { bystander, serve } from '../support/bystander';
import { guardProcess } from '../support/guard';
import { cleanup, eventually, track } from '../support/harness';
import { raw } from '../support/raw';

guardProcess();
afterEach(cleanup);

type Frame = Record<string, unknown>;
const byName: ServerOptions['authenticate'] = ({ auth }) => (typeof auth === 'string' ? { name: auth } : { status: 401 });

/** A raw client that says hello and waits for the welcome (`claim`: then speaks, claiming it). */
async function hello(url: string, fields: Frame, claim = true, options: WebSocket.ClientOptions = {}) {
  const r = await raw(url, {}, options);
  r.ws.send(JSON.stringify({ t: 'hello', v: 1, ...fields }));
  await eventually(() => r.frames.some((f) => f.t === 'welcome'), 5000, 'a welcome');
  if (claim) r.ws.send('{"t":"ack","a":0}');
  return { ...r, welcome: r.frames.find((f) => f.t === 'welcome')! };
}

describe('a resume by another user fails as a fresh session would', () => {
  it("B presenting A's sid and key gets a new session; A keeps its own and its messages", async () => {
    const { server, url } = await serve({ authenticate: byName });
    const by = await bystander(server, url, 'ws', { auth: 'carol' });
    const a = await hello(url, { auth: 'ann' });
    const conns = await eventually(() => [...server.connections].length === 2, 5000, 'two sessions').then(() => [...server.connections]);
    const annConn = conns.find((c) => c.id === a.welcome.sid)!;
    void annConn.send('said', { from: 'x', text: 'for ann only' }).catch(() => {});
    await eventually(() => a.frames.some((f) => f.t === 'msg'), 5000, "ann's message");
    const b = await hello(url, { auth: 'bob', sid: a.welcome.sid, key: a.welcome.key, ack: 0 }, false);
    expect(b.welcome).toMatchObject({ resumed: false });
    expect(b.welcome.sid).not.toBe(a.welcome.sid);
    expect(b.welcome.key).not.toBe(a.welcome.key);
    // Nothing of A's reached B, and A was not replaced.
    await new Promise((r) => setTimeout(r, 100));
    expect(b.frames.filter((f) => f.t === 'msg')).toEqual([]);
    expect(a.closed()).toBeUndefined();
    expect(annConn.rung).toBe('ws');
    await by.check();
  });

  it('the same user resumes (the binding does not break resume)', async () => {
    const { url } = await serve({ authenticate: byName, identify: (u) => (u as { name: string }).name });
    const a = await hello(url, { auth: 'ann' });
    a.ws.terminate();
    const again = await hello(url, { auth: 'ann', sid: a.welcome.sid, key: a.welcome.key, ack: 0 });
    expect(again.welcome).toMatchObject({ resumed: true, sid: a.welcome.sid });
  });
});

describe('a race token alone joins nothing', () => {
  it('another user naming the race of a new session gets a session of its own', async () => {
    const { server, url } = await serve({ authenticate: byName });
    const by = await bystander(server, url, 'ws', { auth: 'carol' });
    const a = await hello(url, { auth: 'ann', race: 'chosen-by-the-attacker' }, false);
    const b = await hello(url, { auth: 'bob', race: 'chosen-by-the-attacker' }, false);
    expect(b.welcome.sid).not.toBe(a.welcome.sid);
    await by.check();
  });

  it('the same user from another address gets a session of its own', async () => {
    const { server, url } = await serve();
    const by = await bystander(server, url);
    const a = await hello(url, { race: 'r1' }, false);
    const elsewhere = await hello(url, { race: 'r1' }, false, { localAddress: '127.0.0.2' });
    expect(elsewhere.welcome.sid).not.toBe(a.welcome.sid);
    // The client's own sibling attempt (same user, same address) still joins: one race, one session.
    const sibling = await hello(url, { race: 'r1' }, false);
    expect(sibling.welcome.sid).toBe(a.welcome.sid);
    await by.check();
  });
});

describe('Sec-Fetch-Site: cross-site without Origin is refused when an allow-list is set', () => {
  const HELLO = encodeURIComponent('{"t":"hello","v":1}');

  it('on the upgrade and on the HTTP rungs', async () => {
    const { server, url } = await serve({ allowedOrigins: ['http://app.example'] });
    const by = await bystander(server, url);
    const ws = track(new WebSocket(url.replace('http', 'ws'), { headers: { 'Sec-Fetch-Site': 'cross-site' } }));
    const status = await new Promise<number | undefined>((r) => {
      ws.on('unexpected-response', (_q, res) => r(res.statusCode));
      ws.on('open', () => r(101));
      ws.on('error', () => r(undefined));
    });
    expect(status).toBe(403);
    for (const q of [`?t=sse&hello=${HELLO}`, `?t=lp&hello=${HELLO}`]) {
      const res = await fetch(url + q, { headers: { 'Sec-Fetch-Site': 'cross-site' } });
      expect(res.status).toBe(403);
      await res.arrayBuffer();
    }
    // The app's own cross-site page (an allowed Origin) still connects.
    const ok = await fetch(url + `?t=lp&hello=${HELLO}`, { headers: { 'Sec-Fetch-Site': 'cross-site', Origin: 'http://app.example' } });
    expect(ok.status).toBe(200);
    await ok.arrayBuffer();
    await by.check();
  });
});

describe('a take-over from the store is the owner\'s alone', () => {
  it("B resuming A's session while A takes it over from the store gets a new session", async () => {
    // A store that moves sessions: session S (A's, key K) waits in it, as a node left it. A's
    // take-over is answered only once B's has started; B's (another identity: the store gives
    // it nothing) is answered after A's. B then found S on this node: it took S without the
    // user check a resume of a session here has.
    const sid = '00000000-0000-4000-8000-000000000001', key = 'k'.repeat(24);
    let bobAsked!: () => void;
    const bobAsks = new Promise<void>((r) => (bobAsked = r));
    let annTaken: Promise<SessionState | undefined> = Promise.resolve(undefined);
    const state: SessionState = {
      v: 1, id: sid, keyHash: keyHash(key), identity: JSON.stringify({ name: 'ann' }), user: JSON.stringify({ name: 'ann' }),
      received: 0, outbox: { next: 1, acked: 0, entries: [] }, rooms: [],
    };
    const take = (id: string, hash: string, identity: string): Promise<SessionState | undefined> => {
      if (identity !== state.identity) return bobAsked(), annTaken.then(() => new Promise<undefined>((r) => setTimeout(r, 20)));
      return (annTaken = bobAsks.then(() => (id === sid && hash === state.keyHash ? state : undefined)));
    };
    const base = memoryStore();
    const store: SessionStore = {
      name: 'moving', open: (node) => base.open(node), publish: (e) => base.publish(e), watch: () => {}, close: () => base.close(),
      sessions: { take, park: async () => {} },
    };
    const { server, url } = await serve({ authenticate: byName, store });
    const by = await bystander(server, url, 'ws', { auth: 'carol' });
    const [a, b] = await Promise.all([
      hello(url, { auth: 'ann', sid, key, ack: 0 }),
      hello(url, { auth: 'bob', sid, key, ack: 0 }, false),
    ]);
    expect(a.welcome).toMatchObject({ resumed: true, sid });
    expect(b.welcome).toMatchObject({ resumed: false });
    expect(b.welcome.sid).not.toBe(sid);
    expect(a.closed()).toBeUndefined();
    await by.check();
  });
});
