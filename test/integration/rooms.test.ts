import { afterEach, describe, expect, test } from 'vitest';
import { startLab } from '../../lab';
import type { RungName } from '../../src/index';
import type { Connection } from '../../src/server/index';
import { cleanup, claimed, client, eventually, startServer, track, until, type Chat } from '../support/harness';

/* Rooms with the default (in-memory) store: join, leave, `to(room).broadcast` with `except`,
 * membership that belongs to the session (it survives cuts and rung changes, ends with it). */

afterEach(cleanup);

const RUNGS: RungName[] = ['ws', 'sse', 'longpoll'];

describe('rooms (memory store)', () => {
  test('to(room).broadcast reaches the members on every rung, except the one excluded; leave stops it', async () => {
    const { server, url } = await startServer();
    track(server);
    const clients = RUNGS.map((rung) => client(url, { transports: [rung] }));
    const heard = clients.map(() => [] as string[]);
    clients.forEach((c, i) => c.subscribe('said', (m) => heard[i]!.push(m.text)));
    await Promise.all(clients.map((c) => until(c, 'open')));
    const conns = await claimed(server, 3);
    const byRung = new Map(conns.map((c) => [c.rung, c]));
    const [ws, sse, lp] = RUNGS.map((r) => byRung.get(r)!) as [Connection<Chat>, Connection<Chat>, Connection<Chat>];
    expect(ws.join('blue')).toBe(true);
    expect(ws.join('blue')).toBe(false); // already a member
    sse.join('blue');
    lp.join('blue');
    lp.join('red');
    expect(lp.rooms.sort()).toEqual(['blue', 'red']);

    server.to('blue').broadcast('said', { from: 'x', text: 'b1' });
    server.to('blue').broadcast('said', { from: 'x', text: 'b2' }, { except: sse });
    server.to('red').broadcast('said', { from: 'x', text: 'r1' });
    server.to('nobody').broadcast('said', { from: 'x', text: 'n1' }); // no members: nothing
    await eventually(() => heard[0]!.length === 2 && heard[1]!.length === 1 && heard[2]!.length === 3, 5000, 'room messages');
    expect(heard).toEqual([['b1', 'b2'], ['b1'], ['b1', 'b2', 'r1']]);

    expect(ws.leave('blue')).toBe(true);
    expect(ws.leave('blue')).toBe(false);
    server.to('blue').broadcast('said', { from: 'x', text: 'b3' });
    server.broadcast('said', { from: 'x', text: 'all' }, { except: lp });
    await eventually(() => heard[0]!.length === 3 && heard[1]!.length === 3 && heard[2]!.length === 4, 5000, 'after leave');
    expect(heard).toEqual([['b1', 'b2', 'all'], ['b1', 'b3', 'all'], ['b1', 'b2', 'r1', 'b3']]);
  });

  test('membership belongs to the session: it survives cuts, and ends with the session', async () => {
    const { server, port } = await startServer({ heartbeatMs: 1000 });
    track(server);
    const lab = track(await startLab({ upstream: { host: '127.0.0.1', port } }));
    server.on('connection', (conn) => conn.subscribe('say', ({ text }) => conn.join(text)));
    const c = client(`${lab.url}/wirefall`, { reconnect: { base: 20, max: 100 } });
    const heard: string[] = [];
    c.subscribe('said', (m) => heard.push(m.text));
    await c.send('say', { text: 'lobby' });
    const [conn] = await claimed(server, 1);
    for (let i = 0; i < 3; i++) {
      lab.cutAll();
      await until(c, 'reconnecting');
      // Sent while the client is away: waits in the replay buffer, arrives after the resume.
      server.to('lobby').broadcast('said', { from: 's', text: `m${i}` });
      await until(c, 'open');
    }
    await eventually(() => heard.length === 3, 5000, 'messages across cuts');
    expect(heard).toEqual(['m0', 'm1', 'm2']);
    expect(conn!.rooms).toEqual(['lobby']);
    expect([...server.connections]).toEqual([conn]); // one session throughout

    await c.close();
    await eventually(() => conn!.closed, 5000, 'session end');
    expect(conn!.rooms).toEqual([]);
    expect(conn!.join('lobby')).toBe(false); // an ended session joins nothing
  });

  test('a room name must be 1–256 characters (WF_INVALID)', async () => {
    const { server, url } = await startServer();
    track(server);
    const c = client(url);
    await until(c, 'open');
    const [conn] = await claimed(server, 1);
    expect(() => conn!.join('')).toThrow(expect.objectContaining({ code: 'WF_INVALID' }));
    expect(() => conn!.leave('x'.repeat(257))).toThrow(expect.objectContaining({ code: 'WF_INVALID' }));
    expect(() => server.to(7 as never)).toThrow(expect.objectContaining({ code: 'WF_INVALID' }));
    expect(conn!.join('x'.repeat(256))).toBe(true);
  });
});
