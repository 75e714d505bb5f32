// Loaded first in each thread of bench/rtt-trace.mjs (the client's main thread, the server's worker).
// `count`: what each thread does per round trip that the machine's load cannot change: async
// resources created by type (promises, timers, immediates, ticks, socket writes), timer calls,
// JSON and Buffer calls, bytes allocated (V8's sampling heap profiler, collected objects included).
// Always: this thread's GC entries with wall-clock times, to line up with the slow round trips.
import { createHook } from 'node:async_hooks';
import { Session } from 'node:inspector/promises';
import net from 'node:net';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { isMainThread, parentPort } from 'node:worker_threads';

const counts = Object.create(null);
let on = false;
const inc = (k) => on && (counts[k] = (counts[k] ?? 0) + 1);
const gcs = [];
let session;
let heap0 = 0;
/** The heap in use after a full GC (with --expose-gc; else NaN): what the round trips leave behind. */
const settledHeap = () => (globalThis.gc ? (globalThis.gc(), process.memoryUsage().heapUsed) : NaN);

function wrap(obj, name, key) {
  const f = obj[name];
  obj[name] = function (...a) {
    inc(key);
    return f.apply(this, a);
  };
}

/** Patches the counters in (before the library is imported, so it picks up the wrapped globals). */
export function install(mode) {
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcs.push({ at: performance.timeOrigin + e.startTime, ms: e.duration, kind: e.detail?.kind ?? e.kind });
  }).observe({ entryTypes: ['gc'] });
  if (mode !== 'count') return;
  createHook({ init: (id, type) => inc(`new ${type}`) }).enable();
  for (const n of ['setTimeout', 'clearTimeout', 'setInterval', 'setImmediate', 'queueMicrotask']) wrap(globalThis, n, n);
  wrap(process, 'nextTick', 'nextTick');
  const t = setTimeout(() => {}, 0);
  clearTimeout(t);
  wrap(Object.getPrototypeOf(t), 'refresh', 'timer.refresh');
  wrap(JSON, 'parse', 'JSON.parse');
  wrap(JSON, 'stringify', 'JSON.stringify');
  for (const n of ['from', 'concat', 'alloc', 'allocUnsafe']) wrap(Buffer, n, `Buffer.${n}`);
  wrap(Buffer.prototype, 'toString', 'Buffer.toString');
  for (const n of ['write', 'cork', 'uncork', '_writev', '_writeGeneric']) wrap(net.Socket.prototype, n, `socket.${n}`);
  wrap(TextEncoder.prototype, 'encodeInto', 'TextEncoder.encodeInto');
  wrap(TextEncoder.prototype, 'encode', 'TextEncoder.encode');
}

/** Starts counting (and sampling allocations) for the measured window. */
export async function start() {
  for (const k in counts) delete counts[k];
  heap0 = settledHeap();
  gcs.length = 0;
  on = true;
  if (process.env.NOSAMPLE) return;
  session = new Session();
  session.connect();
  await session.post('HeapProfiler.startSampling', { samplingInterval: 512, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: !process.env.SURVIVORS });
  on = true;
}

/** Ends the window: the counts, the sampled bytes (total and the top allocating functions), the GCs. */
export async function stop() {
  on = false;
  if (process.env.NOSAMPLE) return { counts: { ...counts }, bytes: NaN, retained: settledHeap() - heap0, top: [], gcs: gcs.slice() };
  const { profile } = await session.post('HeapProfiler.stopSampling');
  session.disconnect();
  const retained = settledHeap() - heap0;
  const byFn = new Map();
  let bytes = 0;
  // By function, or with STACKS=n by its last n frames (who called the allocating function).
  const depth = Number(process.env.STACKS ?? 1);
  const walk = (n, path) => {
    bytes += n.selfSize;
    const f = n.callFrame;
    const here = [...path, `${f.functionName || '(anon)'} ${f.url.split('/').slice(-1)[0]}:${f.lineNumber + 1}`].slice(-depth);
    const k = here.join(' < ');
    if (n.selfSize) byFn.set(k, (byFn.get(k) ?? 0) + n.selfSize);
    for (const c of n.children) walk(c, here);
  };
  walk(profile.head, []);
  const top = [...byFn].sort((a, b) => b[1] - a[1]).slice(0, Number(process.env.TOP ?? 12));
  return { counts: { ...counts }, bytes, retained, top, gcs: gcs.slice() };
}

/** The GC entries so far (the `stalls` mode: no counting, only timestamps). */
export const gcEntries = () => gcs.slice();

// The worker answers the main thread's trace requests beside the server's own IPC (which ignores them).
if (!isMainThread) {
  parentPort.on('message', async (m) => {
    if (!m || !m.trace) return;
    const result = m.trace === 'start' ? await start() : m.trace === 'stop' ? await stop() : gcEntries();
    parentPort.postMessage({ traceReply: m.trace, result });
  });
}
