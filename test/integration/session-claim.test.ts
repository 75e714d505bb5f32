import { afterEach, expect, test } from 'vitest';
import type { Connection } from '../../src/server/index';
import { claimed, cleanup, client, eventually, startServer, track, type Chat } from '../support/harness';
import { raw } from '../support/raw';

/*
 * The app hears of a session only once its client claims it by speaking on the connection it
 * adopted. A race whose welcome was lost (cut after the server made the session, before the
 * client read it) leaves a session nobody will use: it must not be announced, and it is reaped
 * at the hello timeout instead of living for a whole TTL.
 */
afterEach(cleanup);

test('a session whose welcome was lost is never announced, and is reaped at the hello timeout', async () => {
  const { server, url } = await startServer({ helloTimeoutMs: 300, sessionTtlMs: 60_000 });
  track(server);
  const announced: Connection<Chat>[] = [];
  server.on('connection', (c) => announced.push(c));

  // The first race: the server makes a session and welcomes it, then the connection is cut
  // before the client could speak (it never read the welcome).
  const lost = await raw(url);
  lost.ws.send('{"t":"hello","v":1,"race":"first"}');
  await eventually(() => lost.frames.length === 2, 2000, 'welcome');
  const { sid, key } = lost.frames[1] as { sid: string; key: string };
  lost.ws.terminate();

  // The client's next race opens the session it really uses.
  const c = client(url);
  await c.send('say', { text: 'hello' });
  await claimed(server);
  expect(announced).toHaveLength(1);
  expect([...server.connections]).toEqual(announced);
  expect(announced[0]!.id).not.toBe(sid);

  // The lost session is gone after the hello timeout, not after the 60 s TTL: a resume with its
  // secret starts a new session rather than taking the old one.
  await new Promise((r) => setTimeout(r, 600));
  const late = await raw(url);
  late.ws.send(JSON.stringify({ t: 'hello', v: 1, sid, key, ack: 0 }));
  await eventually(() => late.frames.length === 2, 2000, 'welcome');
  expect(late.frames[1]).toMatchObject({ t: 'welcome', resumed: false });
  expect(late.frames[1]!.sid).not.toBe(sid);
  expect(announced).toHaveLength(1);
});

test('a claimed session is announced before its first message is handled, and is not reaped', async () => {
  const { server, url } = await startServer({ helloTimeoutMs: 200 });
  track(server);
  const order: string[] = [];
  server.on('connection', (conn) => {
    order.push('connection');
    conn.subscribe('say', (d) => order.push(d.text));
  });
  const r = await raw(url);
  // The hello and the first message in one batch: the message must still reach a subscriber.
  r.ws.send('[{"t":"hello","v":1},{"t":"msg","s":1,"ev":"say","d":{"text":"first"}}]');
  await eventually(() => order.length === 2, 2000, 'the message');
  expect(order).toEqual(['connection', 'first']);
  await new Promise((r2) => setTimeout(r2, 400));
  const [conn] = [...server.connections];
  expect(conn?.closed).toBe(false);
  expect(conn?.rung).toBe('ws');
});

test('a session its client resumes before speaking is kept: each resume gives it another hello timeout', async () => {
  const { server, url } = await startServer({ helloTimeoutMs: 400, sessionTtlMs: 60_000 });
  track(server);
  const announced: Connection<Chat>[] = [];
  server.on('connection', (c) => announced.push(c));
  // Welcomed, then cut before its first word got through (its uplink queued behind other
  // connections): the client resumes, again and again, before it can speak.
  const first = await raw(url);
  first.ws.send('{"t":"hello","v":3,"race":"a"}');
  await eventually(() => first.frames.length === 2, 2000, 'welcome');
  const { sid, key } = first.frames[1] as { sid: string; key: string };
  first.ws.terminate();
  const resume = async () => {
    const r = await raw(url);
    r.ws.send(JSON.stringify({ t: 'hello', v: 3, sid, key, ack: 0 }));
    await eventually(() => r.frames.some((f) => f.t === 'welcome'), 2000, 'welcome');
    return r;
  };
  // Resumed at 250 ms, and again at 500 ms: past the hello timeout counted from the first welcome.
  await new Promise((r) => setTimeout(r, 250));
  (await resume()).ws.terminate();
  await new Promise((r) => setTimeout(r, 250));
  const last = await resume();
  expect(last.frames.find((f) => f.t === 'welcome')).toMatchObject({ sid, resumed: true });
  last.ws.send('{"t":"msg","s":1,"ev":"say","d":{"text":"at last"}}');
  await eventually(() => announced.length === 1, 2000, 'the session announced');
  expect(announced[0]!.id).toBe(sid);
  // A resume is no lifetime lease: left unclaimed, the session is still reaped.
  const other = await raw(url);
  other.ws.send('{"t":"hello","v":3,"race":"b"}');
  await eventually(() => other.frames.length === 2, 2000, 'welcome');
  const gone = other.frames[1] as { sid: string; key: string };
  other.ws.terminate();
  await new Promise((r) => setTimeout(r, 700));
  const late = await raw(url);
  late.ws.send(JSON.stringify({ t: 'hello', v: 3, sid: gone.sid, key: gone.key, ack: 0 }));
  await eventually(() => late.frames.some((f) => f.t === 'welcome'), 2000, 'welcome');
  expect(late.frames.find((f) => f.t === 'welcome')).toMatchObject({ resumed: false });
});
