import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { connect, WirefallError } from '../../src/index';
import { EFFECTS, EVENTS, PHASES, publicState as publicOf, reduce as reducePair, type Lifecycle as NumberedLifecycle, type LifecycleEvent as NumberedEvent } from '../../src/core/lifecycle';
import { fakeClient, type WakeListener } from '../support/fake-client';

// The transition table of docs/transports.md is the reducer's: every row is checked against
// `reduce`, and every transition `reduce` makes must have a row.

// The reducer numbers its phases, events and effects; this test speaks of them by name, as the table does.
type Phase = (typeof PHASES)[number];
type LifecycleEvent = { type: (typeof EVENTS)[number]; rung?: string; above?: boolean; error?: WirefallError; fatal?: boolean; stable?: boolean };
type Lifecycle = Omit<NumberedLifecycle, 'phase'> & { phase: Phase };
const numbered = (s: Lifecycle): NumberedLifecycle => ({ ...s, phase: PHASES.indexOf(s.phase) as NumberedLifecycle['phase'] });
const publicState = (s: Lifecycle) => publicOf(numbered(s));
const phases: Phase[] = ['racing', 'backoff', 'open', 'climbing', 'closed'];
const net = new WirefallError('WF_NETWORK', 'x');
const cut = new WirefallError('WF_DISCONNECTED', 'cut', { closeCode: 1006 });

/** Each case of the table's event column, as the reducer's input. */
const cases: Record<string, { event: LifecycleEvent; state?: Partial<Lifecycle> }> = {
  'won (top rung)': { event: { type: 'won', rung: 'wss', above: false } },
  'won (lower rung)': { event: { type: 'won', rung: 'sse', above: true } },
  failed: { event: { type: 'failed', error: net, fatal: false } },
  'failed (refused)': { event: { type: 'failed', error: new WirefallError('WF_UNAUTHORIZED', 'no', { status: 401 }), fatal: true } },
  'failed (reconnect: false)': { event: { type: 'failed', error: net, fatal: false }, state: { reconnect: false } },
  lost: { event: { type: 'lost', error: cut } },
  'lost (refused)': { event: { type: 'lost', error: new WirefallError('WF_DISCONNECTED', 'no', { closeCode: 4403 }) } },
  'lost (reconnect: false)': { event: { type: 'lost', error: cut }, state: { reconnect: false } },
  retry: { event: { type: 'retry' } },
  climb: { event: { type: 'climb' } },
  'climb (top rung)': { event: { type: 'climb' }, state: { above: false } },
  stay: { event: { type: 'stay' } },
  online: { event: { type: 'online' } },
  'online (top rung)': { event: { type: 'online' }, state: { above: false } },
  visible: { event: { type: 'visible' } },
  close: { event: { type: 'close' } },
};

/** A state of `phase`: on a lower rung (`sse`) while live, with a session, reconnecting on. */
const base = (phase: Phase, patch: Partial<Lifecycle> = {}): Lifecycle => ({
  phase,
  rung: phase === 'open' || phase === 'climbing' ? 'sse' : null,
  above: true,
  resumable: true,
  reconnect: true,
  failures: 0,
  ...patch,
});

interface Row {
  state: Phase;
  label: string;
  next: Phase;
  effects: string[];
}

function tableRows(): Row[] {
  const doc = readFileSync(new URL('../../docs/transports.md', import.meta.url), 'utf8');
  const section = doc.slice(doc.indexOf('## Connection states'));
  const tick = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
  return section
    .split('\n')
    .filter((l) => l.startsWith('| `'))
    .map((l) => {
      const [state, event, next, effects] = l.split('|').slice(1, 5).map((c) => c.trim());
      const variant = /\(([^)]+)\)/.exec(event!)?.[1];
      const label = tick(event!)[0]! + (variant ? ` (${variant})` : '');
      return { state: tick(state!)[0] as Phase, label, next: tick(next!)[0] as Phase, effects: tick(effects!) };
    });
}

const rows = tableRows();
/** The reducer's pair, named, and its phases, events and effects too. */
const reduce = (s: Lifecycle, e: LifecycleEvent) => {
  const [state, effects] = reducePair(numbered(s), { ...e, type: EVENTS.indexOf(e.type) } as NumberedEvent);
  return { state: { ...state, phase: PHASES[state.phase] } as Lifecycle, effects: effects.map((fx) => EFFECTS[fx]) };
};

describe('docs/transports.md "Connection states" is the reducer', () => {
  test('the table is there and every label is a known case', () => {
    expect(rows.length).toBeGreaterThanOrEqual(20);
    for (const r of rows) expect(Object.keys(cases), `${r.state} | ${r.label}`).toContain(r.label);
    const keys = rows.map((r) => `${r.state} ${r.label}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  test.each(rows.map((r) => [`${r.state} | ${r.label} → ${r.next}`, r] as const))('%s', (_, r) => {
    const c = cases[r.label]!;
    const out = reduce(base(r.state, c.state), c.event);
    expect(out.state.phase).toBe(r.next);
    expect(out.effects).toEqual(r.effects);
  });

  test('every transition the reducer makes has a row (an event without one changes nothing)', () => {
    const missing: string[] = [];
    for (const phase of phases) {
      for (const [label, c] of Object.entries(cases)) {
        const before = base(phase, c.state);
        const out = reduce(before, c.event);
        const row = rows.find((r) => r.state === phase && r.label === label) ?? rows.find((r) => r.state === phase && r.label === c.event.type);
        if (row) {
          if (out.state.phase !== row.next || out.effects.join() !== row.effects.join()) missing.push(`${phase} | ${label}: falls under "${row.label}" but does ${out.state.phase} ${out.effects}`);
        } else if (out.state.phase !== phase || out.effects.length) missing.push(`${phase} | ${label} → ${out.state.phase} ${out.effects}`);
      }
    }
    expect(missing).toEqual([]);
  });

  test('the public state: connecting before the first session, reconnecting after', () => {
    expect(publicState(base('racing', { resumable: false }))).toBe('connecting');
    expect(publicState(base('backoff', { resumable: false }))).toBe('connecting');
    expect(publicState(base('backoff'))).toBe('reconnecting');
    expect(publicState(base('climbing'))).toBe('open');
    expect(publicState(base('closed'))).toBe('closed');
  });

  test('the backoff grows with each wait, and a link that lasted or a new network starts it over', () => {
    const waited = reduce(base('racing', { failures: 2 }), cases.failed!.event).state;
    expect(waited.failures).toBe(3);
    // A verified link alone does not: a server that drops every link at once would get a
    // reconnect from each client every ~125 ms for ever. Its loss counts as one more failure...
    const verified = reduce(base('racing', { failures: 3 }), cases['won (top rung)']!.event).state;
    expect(verified.failures).toBe(3);
    const error = new WirefallError('WF_DISCONNECTED', 'cut');
    expect(reduce(verified, { type: 'lost', error }).state).toMatchObject({ phase: 'backoff', failures: 4 });
    expect(reduce(verified, { type: 'lost', error, stable: false }).state).toMatchObject({ phase: 'backoff', failures: 4 });
    // ...unless it had lasted: then the wait is the first one's again.
    expect(reduce(verified, { type: 'lost', error, stable: true }).state).toMatchObject({ phase: 'backoff', failures: 1 });
    expect(reduce(base('backoff', { failures: 3 }), { type: 'online' }).state.failures).toBe(0);
    // Also where the event changes nothing else: a new network met during a race.
    expect(reduce(base('racing', { failures: 3 }), { type: 'online' })).toEqual({ state: base('racing'), effects: [] });
  });
});

// The rows the old table had lost, through the client.

let wake: WakeListener | undefined;

const setup = (opts: Parameters<typeof connect>[1] = {}) => fakeClient({ reconnect: { base: 10, max: 10 }, ...opts }, (l) => (wake = l));

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('through the client', () => {
  test('open | lost (refused): the server closing with 4401 ends the client with that error', async () => {
    const { c, t, errors, states } = setup();
    t.last().greet().welcome();
    const p = c.send('say', { text: 'x' });
    await vi.advanceTimersByTimeAsync(0);
    t.last().fail({ code: 'WF_DISCONNECTED', message: 'unauthorized', closeCode: 4401 });
    expect(c.state).toBe('closed');
    expect(states).toEqual(['open:ws', 'closed']);
    expect(errors.map((e) => [e.code, e.closeCode])).toEqual([['WF_DISCONNECTED', 4401]]);
    await expect(p).rejects.toMatchObject({ code: 'WF_DISCONNECTED', closeCode: 4401 });
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(t.made).toHaveLength(1);
  });

  test('racing | failed (refused), while reconnecting: the refusal ends the client', async () => {
    const { c, t, errors, states } = setup();
    t.last().greet().welcome();
    t.last().fail({ code: 'WF_DISCONNECTED', message: 'cut' });
    expect(c.state).toBe('reconnecting');
    await vi.advanceTimersByTimeAsync(10);
    t.last().greet().receive({ t: 'error', code: 'unauthorized', message: 'token expired', status: 401, fatal: true });
    expect(c.state).toBe('closed');
    expect(states).toEqual(['open:ws', 'reconnecting', 'closed']);
    expect(errors.at(-1)).toMatchObject({ code: 'WF_UNAUTHORIZED', status: 401 });
    await expect(c.send('say', { text: 'x' })).rejects.toMatchObject({ code: 'WF_CLOSED' });
    expect(vi.getTimerCount()).toBe(0);
  });

  test('racing | failed (reconnect: false): the client closes instead of backing off', async () => {
    const { c, t, errors, states } = setup({ reconnect: false });
    const p = c.send('say', { text: 'x' });
    t.made[0]!.fail({ code: 'WF_NETWORK', message: 'x' });
    t.made[1]!.fail({ code: 'WF_NETWORK', message: 'y' });
    expect(c.state).toBe('closed');
    expect(states).toEqual(['closed']);
    expect(errors.map((e) => e.code)).toEqual(['WF_NETWORK']);
    await expect(p).rejects.toMatchObject({ code: 'WF_CLOSED' });
    expect(vi.getTimerCount()).toBe(0);
  });

  test('open | lost (reconnect: false): a stall closes the client', async () => {
    const { c, t, errors, states } = setup({ reconnect: false });
    t.last().greet().welcome();
    await vi.advanceTimersByTimeAsync(7100);
    expect(errors.map((e) => e.code)).toEqual(['WF_STALLED']);
    expect(states).toEqual(['open:ws', 'closed']);
    expect(t.last().closed?.code).toBe(4009);
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(t.made).toHaveLength(1);
  });

  test('climbing | lost: the link and the climb under way are both dropped', async () => {
    const { c, t, states } = setup({ upgradeProbe: { first: 1000, max: 1000 } });
    t.made[0]!.fail({ code: 'WF_REFUSED', message: 'no', status: 403 });
    t.made[1]!.greet().welcome();
    expect(c.rung).toBe('sse');
    await vi.advanceTimersByTimeAsync(1000);
    const climb = t.last();
    expect(climb.rung).toBe('ws');
    expect(climb.closed).toBeUndefined();
    t.made[1]!.fail({ code: 'WF_DISCONNECTED', message: 'cut' });
    expect(climb.closed?.code).toBe(4010); // abandoned
    expect(states).toEqual(['open:sse', 'reconnecting']);
    c.close();
  });

  test('climbing | stay, then online: the next climb waits longer; a network change climbs at once', async () => {
    const { c, t } = setup({ upgradeProbe: { first: 1000, max: 8000 } });
    t.made[0]!.fail({ code: 'WF_REFUSED', message: 'no', status: 403 });
    t.made[1]!.greet().welcome();
    await vi.advanceTimersByTimeAsync(1000);
    t.last().fail({ code: 'WF_REFUSED', message: 'still no', status: 403 }); // climbing | stay
    expect(c.rung).toBe('sse');
    const before = t.made.length;
    await vi.advanceTimersByTimeAsync(1999);
    expect(t.made).toHaveLength(before);
    wake?.('online'); // open | online: climbs now
    expect(t.made).toHaveLength(before + 1);
    t.last().greet().welcome({ resumed: true });
    expect(c.rung).toBe('ws');
    c.close();
  });
});
