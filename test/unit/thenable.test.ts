import { expect, test } from 'vitest';
import { isThenable } from '../../src/util/thenable';

test('a thenable is an object or a function with a then method (Promises/A+), nothing else', () => {
  expect(isThenable(Promise.resolve(1))).toBe(true);
  expect(isThenable({ then: () => {} })).toBe(true);
  expect(isThenable(Object.assign(() => {}, { then: () => {} }))).toBe(true);
  for (const x of [undefined, null, 0, 'then', {}, { then: 1 }, () => {}]) expect(isThenable(x)).toBe(false);
});
