import { afterEach, expect, test } from 'vitest';
import { cleanup, eventually, startServer, track } from '../support/harness';
import { ackedTwo, raw } from '../support/raw';

/*
 * A tab that takes a shared session over after the leader tab crashed (src/share) numbers its
 * messages on from its resumed welcome's ack. The crashed tab's socket may still deliver frames
 * after that welcome (its last writes were in the network stack): the server must not take them,
 * or the new writer's first messages, under the same numbers, are dropped as duplicates and
 * acknowledged (lost), and the acks run past what the new writer wrote (WF_PROTOCOL on every
 * resume: the Chromium share test's rare hang). `fence` in the hello (docs/protocol.md §4).
 */
afterEach(cleanup);

async function scenario(fence: boolean) {
  const { server, url } = await startServer();
  track(server);
  const got: string[] = [];
  server.on('connection', (c) => c.subscribe('say', (d) => void got.push(d.text)));
  const old = await raw(url);
  old.ws.send('{"t":"hello","v":3,"race":"ra"}');
  await eventually(() => old.frames.length >= 2, 5000, 'the old writer\'s welcome');
  const { sid, key } = old.frames[1] as { sid: string; key: string };
  old.ws.send('[{"t":"ack","a":0},{"t":"msg","s":1,"ev":"say","d":{"text":"old 1"}}]');
  await eventually(() => got.length === 1, 5000, 'old 1');
  const next = await raw(url);
  next.ws.send(JSON.stringify({ t: 'hello', v: 3, sid, key, ack: 0, race: 'rb', ...(fence && { fence: 1 }) }));
  await eventually(() => next.frames.length >= 2, 5000, 'the new writer\'s welcome');
  const { ack } = next.frames[1] as { ack: number };
  // The crashed writer's last frame arrives after the new writer's welcome.
  if (old.ws.readyState === old.ws.OPEN) old.ws.send('[{"t":"msg","s":2,"ev":"say","d":{"text":"old 2"}}]');
  await new Promise((r) => setTimeout(r, 50));
  next.ws.send(JSON.stringify([{ t: 'ack', a: 0 }, { t: 'msg', s: ack + 1, ev: 'say', d: { text: 'new 1' } }]));
  await eventually(() => next.frames.some((f) => f.t === 'ack' || (f.t === 'msg' && f.a !== undefined)), 5000, 'the new writer\'s ack');
  return { got, ack, old };
}

test('a fencing hello closes the old writer\'s connection first: its late frames are not taken, the new writer\'s are', async () => {
  const { got, ack, old } = await scenario(true);
  expect(ack).toBe(1);
  expect(got).toEqual(['old 1', 'new 1']);
  await eventually(() => old.closed() !== undefined, 5000, 'the old connection closed');
  expect(old.closed()).toEqual({ code: 4409, reason: 'another writer took the session over' });
});

test('without fence (a race, or a climb of one client) the old connection stays the session\'s until the client speaks elsewhere', async () => {
  const { got } = await scenario(false);
  // One writer, one numbering: its late frame counts, and the same number from the new
  // connection is the same message (a duplicate).
  expect(got).toEqual(['old 1', 'old 2']);
});

test('a session shared by tabs (hello `tabs`) keeps its last acknowledged messages: the next leader resuming behind the ack gets them again', async () => {
  const url = await sendingTwo();
  const { sid, key } = await ackedTwo(url, { tabs: 1 }); // its tabs heard only of message 1
  const next = await raw(url);
  next.ws.send(JSON.stringify({ t: 'hello', v: 3, sid, key, ack: 1, race: 'rb', fence: 1, tabs: 1 }));
  await eventually(() => next.frames.some((f) => f.t === 'msg'), 5000, 'message 2 again');
  expect(next.frames[1]).toMatchObject({ t: 'welcome', resumed: true, sid, ack: 0 });
  expect(next.frames.filter((f) => f.t === 'msg').map((f) => [f.s, (f.d as { text: string }).text])).toEqual([[2, 'two']]);
});

test('a resume whose ack is behind what the session already had acknowledged gets a new session (reported as lost), not a gap', async () => {
  // A leader tab wrote its ack of server message 2 and crashed before its tabs heard of 2: the
  // next leader resumes with ack 1, and 2 is gone from the server's outbox. Resuming would send 3
  // after 1 (WF_PROTOCOL on every resume, a hang); a new session makes the client report the loss.
  const url = await sendingTwo();
  const { sid, key } = await ackedTwo(url);
  const next = await raw(url);
  next.ws.send(JSON.stringify({ t: 'hello', v: 3, sid, key, ack: 1, race: 'rb', fence: 1 }));
  await eventually(() => next.frames.length >= 2, 5000, 'the new writer\'s welcome');
  expect(next.frames[1]).toMatchObject({ t: 'welcome', resumed: false });
  expect(next.frames[1]!.sid).not.toBe(sid);
  // A resume at what was acknowledged still resumes.
  const again = await raw(url);
  again.ws.send(JSON.stringify({ t: 'hello', v: 3, sid, key, ack: 2, race: 'rc' }));
  await eventually(() => again.frames.length >= 2, 5000, 'welcome');
  expect(again.frames[1]).toMatchObject({ t: 'welcome', resumed: true, sid });
});

test('one client\'s hello built before it acked more on its other connection (a race, a climb: no fence) resumes, behind the ack or not', async () => {
  // The loaded reliability run's lost session: an attempt's hello said ack 1 while the live link
  // had acked 2 already; taking that for a crashed leader tab's gap gave the client a new session.
  const url = await sendingTwo();
  const { sid, key } = await ackedTwo(url);
  const next = await raw(url);
  next.ws.send(JSON.stringify({ t: 'hello', v: 3, sid, key, ack: 1, race: 'rb' }));
  await eventually(() => next.frames.length >= 2, 5000, 'the welcome');
  expect(next.frames[1]).toMatchObject({ t: 'welcome', resumed: true, sid });
});

/** A server that sends each new session two messages, `one` then `two` (ackedTwo's counterpart). */
async function sendingTwo(): Promise<string> {
  const { server, url } = await startServer();
  track(server);
  server.on('connection', (c) => void c.send('said', { from: 'server', text: 'one' }).then(() => c.send('said', { from: 'server', text: 'two' })).catch(() => {}));
  return url;
}
