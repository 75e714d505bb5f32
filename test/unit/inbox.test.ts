import { expect, test } from 'vitest';
import { DUPLICATE, GAP, Inbox, NEW } from '../../src/protocol/inbox';
import { GatedInbox } from '../../src/server/durable';

test('accepts in order, drops duplicates, flags gaps', () => {
  const i = new Inbox();
  expect(i.accept(1)).toBe(NEW);
  expect(i.accept(2)).toBe(NEW);
  expect(i.accept(2)).toBe(DUPLICATE);
  expect(i.accept(4)).toBe(GAP);
  expect(i.received).toBe(2);
});

test('acks only what is new, but repeats the ack after a duplicate', () => {
  const i = new Inbox();
  expect(i.takeAck()).toBeUndefined();
  i.accept(1);
  expect(i.takeAck()).toBe(1);
  expect(i.takeAck()).toBeUndefined();
  i.accept(1); // the peer resent: it missed our ack
  expect(i.takeAck()).toBe(1);
  i.accept(2);
  i.resumed(); // the welcome/hello carried `received`
  expect(i.takeAck()).toBeUndefined();
});

test('a gated inbox (a durable server session) acknowledges no further than its gate', () => {
  const i = new GatedInbox();
  i.accept(1);
  i.accept(2);
  i.gate = 1;
  expect(i.acknowledgeable).toBe(1);
  expect(i.takeAck()).toBe(1);
  i.gate = Infinity;
  expect(i.takeAck()).toBe(2);
  i.resumed();
  expect(i.takeAck()).toBeUndefined();
});
