// Shared by the bench processes: the payload, statistics, and a tiny IPC request helper.
import { isMainThread, parentPort } from 'node:worker_threads';

const TEXT = 'the quick brown fox jumps over';

/**
 * The ~100-byte JSON object every library carries. `k` names the kind, so the raw `ws` floor can
 * dispatch on it without any envelope of its own; the libraries carry it too (same bytes for all).
 */
export function payload(k, i, extra) {
  return { k, i, ts: 1_700_000_000_000 + i, user: 'user-4242', text: TEXT, ...extra };
}

export const PAYLOAD_BYTES = JSON.stringify(payload('data', 12345)).length;

export function quantile(sorted, q) {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}

export function median(xs) {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

export function spread(xs) {
  const v = xs.filter((x) => Number.isFinite(x));
  return { median: median(v), min: Math.min(...v), max: Math.max(...v), n: v.length, all: xs };
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Request/response over a child's IPC channel: `call(op, args)` resolves with the child's `result`. */
export function ipcCaller(child) {
  let next = 1;
  const waiting = new Map();
  child.on('message', (m) => {
    if (m && m.id && waiting.has(m.id)) {
      const w = waiting.get(m.id);
      waiting.delete(m.id);
      if (m.error) w.reject(new Error(m.error));
      else w.resolve(m.result);
    }
  });
  child.on('exit', (code, signal) => {
    for (const w of waiting.values()) w.reject(new Error(`child exited (${code ?? signal}) during a request`));
    waiting.clear();
  });
  return (op, args = {}) =>
    new Promise((resolve, reject) => {
      if (!child.connected) return reject(new Error(`child gone before ${op}`));
      const id = next++;
      waiting.set(id, { resolve, reject });
      child.send({ id, op, ...args }, (err) => {
        if (!err || !waiting.has(id)) return;
        waiting.delete(id);
        reject(err);
      });
    });
}

/** To the parent: over IPC from a child process, over the port from a worker thread. */
export const toParent = (m) => (isMainThread ? process.send(m) : parentPort.postMessage(m));

/** The child side (a process or a worker thread): `serve({ op: async (args) => result })`. */
export function serveIpc(handlers) {
  (isMainThread ? process : parentPort).on('message', async (m) => {
    if (!m || !m.id) return;
    try {
      const h = handlers[m.op];
      if (!h) throw new Error(`unknown op ${m.op}`);
      const result = await h(m);
      toParent({ id: m.id, result });
    } catch (err) {
      toParent({ id: m.id, error: String(err && err.stack ? err.stack : err) });
    }
  });
  // The parent going away must not leave us running.
  if (isMainThread) process.on('disconnect', () => process.exit(0));
}
