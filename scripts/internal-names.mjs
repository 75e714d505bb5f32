// Property names that only wirefall's own code reads and writes: never public API (no declaration
// in dist/*.d.ts: test/runtimes/internal-names.test.ts checks), never an option, a wire field, a key
// stored or posted to another tab, nor a property of anything outside the package. The production
// build (dist/prod/ and dist/wirefall.umd.min.js, rollup.config.mjs) renames them to one letter
// each, the same in every chunk: an app's minifier keeps property names, and these cost the client
// ~150 B gzip (scripts/size.mjs), the UMD bundle ~130 B.
// Adding one: it must pass all of the above; it gets the next name of SHORT. terser never renames
// a DOM property name (`opened`, `stop`, `frames`, `transport`...), so such a name stays in
// dist/prod/ and the test fails: leave it off.
export const INTERNAL_NAMES = [
  // The lifecycle (src/core/lifecycle.ts) and the ladder policy's methods (src/core/ladder.ts).
  'phase', 'startOf', 'raceFailed', 'won', 'failures', 'stalled', 'climbIn', 'resumable', 'climbed', 'newNetwork',
  // The rung memory (src/core/memory.ts); the lifecycle's `above` and `stable`, a race's `win`.
  'recall', 'rankOf', 'remember', 'unlearn', 'above', 'stable', 'win',
  // An attempt (src/core/attempt.ts), the setup (src/setup.ts), the client's session.
  'greeted', 'abandon', 'handOver', 'began', 'verdict', 'openedAt', 'rank', 'factories', 'serverKey', 'checkWater', 'retryAuth',
  // The outbox, the inbox and the batcher (src/protocol/), shared with the server.
  'oldestInFlight', 'acknowledgeable', 'ackedAt', 'unsent', 'takeUnsent', 'takeAck', 'rewind', 'rejectAll', 'hasUnsent', 'ackSoon',
  // An attempt's frames after its welcome, a call's settle (src/core/request.ts), the batcher's schedule.
  'rest', 'settle', 'schedule',
];

// No property of the package or of anything it touches has an upper-case one-letter name (the test
// checks src/), so these cannot collide with a name left as it is.
const LETTERS = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZ'];
const SHORT = [...LETTERS, ...LETTERS.map((b) => `A${b}`)];

/** terser's options for dist/prod/: the names above, each to a fixed short one (a new cache per output). */
export const internalNames = () => ({
  mangle: { properties: { regex: new RegExp(`^(${INTERNAL_NAMES.join('|')})$`) } },
  nameCache: { props: { props: Object.fromEntries(INTERNAL_NAMES.map((n, i) => [`$${n}`, SHORT[i]])) } },
});
