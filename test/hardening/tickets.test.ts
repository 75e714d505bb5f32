/**
 * Protocol 2's tickets (http-tickets.ts) are bounded (10,000 outstanding), and the bound must not
 * be a lever: a flood of opens from many addresses (an IPv6 /64 has plenty) that filled the table
 * refused every other client's protocol 2 HTTP open with 429 for as long as it went on. A client
 * uses its ticket in the very next request, so the oldest ones are the ones to forget.
 */
import { expect, test } from 'vitest';
import { Tickets } from '../../src/server/http-tickets';

test('a full ticket table forgets its oldest ticket; a new client still gets one, and it works', () => {
  const tickets = new Tickets();
  const hello = { t: 'hello' as const, v: 2 };
  const flood = Array.from({ length: 10_000 }, (_, i) => tickets.issue(hello, 'sse', `10.0.${i >> 8}.${i & 255}`));
  expect(flood.every((t) => typeof t === 'string')).toBe(true);
  const mine = tickets.issue({ t: 'hello', v: 2, race: 'mine' }, 'longpoll', '192.0.2.1');
  expect(mine).toBeTypeOf('string');
  expect(tickets.take(mine!, 'longpoll', '192.0.2.1')).toMatchObject({ race: 'mine' });
  // The oldest of the flood made room; the newest are still good.
  expect(tickets.take(flood[0]!, 'sse', '10.0.0.0')).toBeUndefined();
  expect(tickets.take(flood[9_999]!, 'sse', `10.0.39.15`)).toEqual(hello);
});
