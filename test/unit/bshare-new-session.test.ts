import { afterEach, describe, expect, test, vi } from 'vitest';
import { fakeSharedTabs, flushTabs } from '../support/fake-tabs';

/*
 * Every tab delivers a server message once: by its number, above the last it delivered. A new
 * session (the server lost the old one) numbers its messages from 1 again; the tabs must start
 * again from 0 too, or they take the new session's first messages for repeats and drop them.
 */
type Api = { client: Record<string, never>; server: { news: { n: number } } };

afterEach(() => void vi.useRealTimers());
const flush = flushTabs;

async function start() {
  const heard: string[] = [];
  const { tabs, channels, locks } = fakeSharedTabs<Api>(['A', 'B', 'C'], { reconnect: { base: 10, max: 10 } });
  for (const { name, c } of tabs) c.subscribe('news', (d) => void heard.push(`${name}${d.n}`));
  await flush(200);
  const [A] = tabs;
  A!.t.last().greet().welcome({ sid: 's1', key: 'k1' });
  await flush();
  A!.t.last().receive({ t: 'msg', s: 1, ev: 'news', d: { n: 1 } }, { t: 'msg', s: 2, ev: 'news', d: { n: 2 } });
  await flush();
  expect(heard.sort()).toEqual(['A1', 'A2', 'B1', 'B2', 'C1', 'C2']);
  heard.length = 0;
  return { tabs, heard, channels, locks };
}

const news = (s: number, n: number) => ({ t: 'msg', s, ev: 'news', d: { n } });

describe('a new session\'s server messages reach every tab', () => {
  test('the leader reconnects and the server lost the session: messages 1, 2 of the new one are delivered in every tab', async () => {
    const { tabs, heard } = await start();
    const [A] = tabs;
    A!.t.last().fail({ code: 'WF_NETWORK', message: 'cut' } as never);
    await flush(100);
    A!.t.last().greet().welcome({ sid: 's2', key: 'k2', resumed: false });
    await flush();
    A!.t.last().receive(news(1, 3), news(2, 4), news(3, 5));
    await flush();
    expect(heard.sort()).toEqual(['A3', 'A4', 'A5', 'B3', 'B4', 'B5', 'C3', 'C4', 'C5']);
    tabs.forEach((x) => x.c.close());
  });

  test('a new leader resumes and the server lost the session meanwhile: same', async () => {
    const { tabs, heard, channels, locks } = await start();
    const [A, B] = tabs;
    channels.kill('A');
    locks.crash('A');
    vi.spyOn(A!.c, 'close');
    await flush(150);
    expect(B!.c.role).toBe('leader');
    const t = B!.t.last();
    expect(t.frames[0]).toMatchObject({ t: 'hello', sid: 's1', ack: 2 });
    t.greet().welcome({ sid: 's2', key: 'k2', resumed: false });
    await flush();
    t.receive(news(1, 3));
    await flush();
    expect(heard.sort()).toEqual(['B3', 'C3']);
    B!.c.close();
    tabs[2]!.c.close();
  });

  test('a resumed session still drops repeats', async () => {
    const { tabs, heard } = await start();
    const [A] = tabs;
    A!.t.last().fail({ code: 'WF_NETWORK', message: 'cut' } as never);
    await flush(100);
    A!.t.last().greet().welcome({ sid: 's1', key: 'k1', resumed: true, ack: 0 });
    await flush();
    A!.t.last().receive(news(2, 2), news(3, 3));
    await flush();
    expect(heard.sort()).toEqual(['A3', 'B3', 'C3']);
    tabs.forEach((x) => x.c.close());
  });
});
