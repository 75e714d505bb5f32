// @vitest-environment jsdom
import { cleanup as unmountAll, render, waitFor } from '@testing-library/react';
import { renderToString } from 'react-dom/server';
import { afterEach, describe, expect, test, vi } from 'vitest';
import WebSocket from 'ws';
import { connect, describeAttempt, type Client } from '../../src/index';
import { createWirefallReact, type Diagnostics } from '../../src/react/index';
import { cleanup, startServer, track, type Chat } from '../support/harness';
import { failOnConsoleError, mockOptions, mockServer } from './support';

const { WirefallProvider, useDiagnostics } = createWirefallReact<Chat>();

afterEach(async () => {
  unmountAll();
  await cleanup();
});
failOnConsoleError();

function Probe({ into, intervalMs }: { into: Diagnostics[]; intervalMs?: number }) {
  into.push(useDiagnostics({ intervalMs }));
  return null;
}

describe('useDiagnostics', () => {
  test('on the real server: state, rung, attempts in words, and the round-trip time once a heartbeat measured it', async () => {
    // A beat of 1 s: the client calls a link dead after two silent beats, and a 100 ms beat's
    // 200 ms was once exceeded here by a loaded machine alone (WF_STALLED, then reconnecting).
    const { server, url } = await startServer({ heartbeatMs: 1000 });
    track(server);
    const seen: Diagnostics[] = [];
    render(
      <WirefallProvider url={url} options={{ WebSocket: WebSocket as never, transports: ['ws'], rememberRungMs: 0 }}>
        <Probe into={seen} intervalMs={50} />
      </WirefallProvider>,
    );
    expect(seen[0]).toMatchObject({ state: 'connecting', rung: null, rtt: undefined, lastError: null, attempts: [], buffered: { messages: 0, bytes: 0 } });
    await waitFor(() => expect(seen.at(-1)!.rtt).toBeTypeOf('number'), { timeout: 10_000 });
    const d = seen.at(-1)!;
    expect(d).toMatchObject({ state: 'open', rung: 'ws', lastError: null });
    expect(d.attempts.map(describeAttempt)).toEqual(['WebSocket: round trip verified']);
    // Polled values that did not change hand out the same object: no re-render on every tick.
    const renders = seen.length;
    const rtt = d.rtt;
    await new Promise((r) => setTimeout(r, 30));
    if (seen.at(-1)!.rtt === rtt) expect(seen.length).toBe(renders);
  });

  test('the last error, and the buffered messages while the link is down (mock-socket)', async () => {
    const s = mockServer();
    const client: Client<Chat> = connect<Chat>(s.url, mockOptions);
    const seen: Diagnostics[] = [];
    render(
      <WirefallProvider client={client}>
        <Probe into={seen} intervalMs={20} />
      </WirefallProvider>,
    );
    await waitFor(() => expect(seen.at(-1)!.state).toBe('open'));
    client.subscribe('said', () => {
      throw new Error('subscriber bug');
    });
    s.push('said', { from: 's', text: 't' });
    await waitFor(() => expect(seen.at(-1)!.lastError).toMatchObject({ code: 'WF_INVALID', message: 'a "said" subscriber threw' }));
    await s.stop(); // the server is gone: what is sent now waits in the outbox
    s.cut();
    await waitFor(() => expect(seen.at(-1)!.state).toBe('reconnecting'));
    void client.send('say', { text: 'queued' }).catch(() => {});
    await waitFor(() => expect(seen.at(-1)!.buffered).toEqual({ messages: 1, bytes: 17 }));
    client.close();
  });

  test('lastError is the client\'s last error, also for a component mounted after it (a support page opened once things went wrong)', async () => {
    const s = mockServer();
    const client: Client<Chat> = connect<Chat>(s.url, mockOptions);
    let listening = 0; // the provider's and the hooks' `error` listeners on the app's client
    const on = client.on.bind(client);
    vi.spyOn(client, 'on').mockImplementation(((event: 'error', fn: () => void) => {
      const off = on(event, fn);
      if (event !== 'error') return off;
      listening++;
      return () => (listening--, off());
    }) as never);
    const early: Diagnostics[] = [];
    const late: Diagnostics[] = [];
    const ui = (showLate: boolean) => (
      <WirefallProvider client={client}>
        <Probe into={early} />
        {showLate && <Probe into={late} />}
      </WirefallProvider>
    );
    const { rerender, unmount } = render(ui(false));
    await waitFor(() => expect(early.at(-1)!.state).toBe('open'));
    client.subscribe('said', () => {
      throw new Error('subscriber bug');
    });
    s.push('said', { from: 's', text: 't' });
    await waitFor(() => expect(early.at(-1)!.lastError).toMatchObject({ code: 'WF_INVALID' }));
    rerender(ui(true));
    // Before: null, the hook heard only the errors reported after it mounted.
    expect(late.at(-1)!.lastError).toBe(early.at(-1)!.lastError);
    unmount();
    await new Promise((r) => setTimeout(r, 0)); // the provider lets go a microtask later (StrictMode remounts)
    expect(listening).toBe(0); // nothing left listening to a client the provider does not own
    client.close();
    await s.stop();
  });

  test.each([0, -1, Infinity])('intervalMs %s polls nothing: events only (a timer would run it every few ms)', async (intervalMs) => {
    const s = mockServer();
    const client: Client<Chat> = connect<Chat>(s.url, mockOptions);
    const seen: Diagnostics[] = [];
    render(
      <WirefallProvider client={client}>
        <Probe into={seen} intervalMs={intervalMs} />
      </WirefallProvider>,
    );
    await waitFor(() => expect(seen.at(-1)!.state).toBe('open'));
    // Each poll reads `buffered` (getSnapshot); count the reads of a quiet client for 300 ms.
    let reads = 0;
    const buffered = Object.getOwnPropertyDescriptor(client, 'buffered') ?? Object.getOwnPropertyDescriptor(Object.getPrototypeOf(client), 'buffered')!;
    Object.defineProperty(client, 'buffered', { configurable: true, get: () => (reads++, buffered.get!.call(client)) });
    await new Promise((r) => setTimeout(r, 300));
    expect(reads).toBe(0); // before: ~280 for each of the three
    // Events still re-render: the state changes when the link goes.
    await s.stop();
    s.cut();
    await waitFor(() => expect(seen.at(-1)!.state).toBe('reconnecting'));
    client.close();
  });

  test('server rendering: the empty snapshot, no client', () => {
    const seen: Diagnostics[] = [];
    renderToString(
      <WirefallProvider url="http://h/wf">
        <Probe into={seen} />
      </WirefallProvider>,
    );
    expect(seen[0]).toMatchObject({ state: 'connecting', attempts: [], lastError: null });
  });
});
