import { servePages } from '../support/static-pages';

/**
 * Pages for the tab-sharing proof: each records what its tab sees (broadcasts in arrival order,
 * states, roles, errors) and sends numbered messages on request, on `window.__wf`.
 */
const harness = `
window.__start = (W, share, url, opts) => {
  const wf = (window.__wf = { said: [], states: [], errors: [], acked: [], failed: [], firstOpen: 0, lat: [] });
  const c = (window.__client = W.connect(url, share ? { ...opts, share: share() } : opts));
  c.on('state', (s) => { wf.states.push(s); if (s === 'open' && !wf.firstOpen) wf.firstOpen = performance.now(); });
  c.on('error', (e) => wf.errors.push(e.code + ' ' + e.message));
  c.subscribe('said', (d) => wf.said.push(d.tab + ':' + d.n));
  // A spy on the tabs' channel: the highest send number this tab had heard of when a new leader
  // asked for the mirrors (sync), and what that leader's resumed welcome acknowledged (renumbered).
  if (share) {
    // And how long a leader held each other tab's send unwritten: from its \`assigned\` to that
    // tab's \`confirm\`, as this tab heard them (in the leader's tab, about the hold itself).
    wf.heard = 0; wf.handovers = []; wf.holds = []; const posted = new Map();
    const spy = new BroadcastChannel('wirefall:' + new URL(url, location.href).href);
    spy.onmessage = ({ data: m }) => {
      if (m.t === 'assigned') wf.heard = Math.max(wf.heard, m.e.s), posted.set(m.e.from + '/' + m.e.id, performance.now());
      if (m.t === 'confirm' && posted.has(m.from + '/' + m.id)) wf.holds.push(performance.now() - posted.get(m.from + '/' + m.id)), posted.delete(m.from + '/' + m.id);
      if (m.t === 'sync') wf.handovers.push({ heard: wf.heard });
      if (m.t === 'renumbered' && wf.handovers.length) Object.assign(wf.handovers.at(-1), { ack: m.ack, moved: m.moved.length });
    };
  }
};
window.__say = async (tab, count, gapMs) => {
  for (let n = 0; n < count; n++) {
    const t0 = performance.now(), role = window.__client.role;
    window.__client.send('say', { tab, n }).then(() => (window.__wf.acked.push(n), window.__wf.lat.push([role, performance.now() - t0])), (e) => window.__wf.failed.push(n + ':' + e.code));
    await new Promise((r) => setTimeout(r, gapMs));
  }
};
window.__view = () => ({ role: window.__client.role, state: window.__client.state, rung: window.__client.rung, said: window.__wf.said, acked: window.__wf.acked, failed: window.__wf.failed, errors: window.__wf.errors, handovers: window.__wf.handovers, holds: window.__wf.holds, lat: window.__wf.lat, attempts: (window.__client.attempts || []).slice(-6).map((a) => [a.rung, a.outcome, a.reason, Math.round(a.duration)]), buffered: window.__client.buffered });
`;

const pages: Record<string, string> = {
  '/share-umd.html': `<!doctype html><meta charset="utf-8"><title>share umd</title>
<script src="/dist/wirefall.umd.min.js"></script>
<script>${harness}; window.__lib = Wirefall; window.__share = Wirefall.share; window.__ready = true;</script>`,
  '/share-esm.html': `<!doctype html><meta charset="utf-8"><title>share esm</title>
<script>${harness}</script>
<script type="module">import * as W from '/dist/index.mjs'; import { share } from '/dist/share.mjs'; window.__lib = W; window.__share = share; window.__ready = true;</script>`,
};

/** Serves the sharing pages and dist/ on 127.0.0.1, port 0. */
export function startSharePages(root: string): Promise<{ origin: string; close(): Promise<void> }> {
  return servePages(root, pages);
}
