// The demo page: a chat on wirefall (the UMD bundle's global `Wirefall`), with the transport
// ladder, the round-trip time and the network switches next to it. No framework, no build step.
(function () {
  'use strict';

  const RUNGS = ['wss', 'ws', 'sse', 'longpoll'];
  const LABEL = { wss: 'WebSocket over TLS', ws: 'WebSocket', sse: 'Server-Sent Events', longpoll: 'long-polling' };
  const SUB = { wss: 'WebSocket, TLS, port 443', ws: 'WebSocket, plain', sse: 'event stream + POST up', longpoll: 'held GETs + POST up' };
  const SWITCH_NAMES = {
    refuse: 'Refuse WebSocket upgrades',
    drop: 'Drop frames after upgrade',
    buffer: 'Buffer SSE',
    flaky: 'Flaky link',
    slow: 'Slow link',
  };
  // The words for each attempt's outcome come from the library: describeAttempt() for the
  // headline ("WebSocket blocked: frames dropped after the upgrade"), describeReason() for the table.
  const { describeAttempt, describeReason } = Wirefall;
  const COLOR = { wss: '#0e7c73', ws: '#17803d', sse: '#2158d6', longpoll: '#b45309' };

  const $ = (id) => document.getElementById(id);
  const el = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  };
  const clock = (t) => new Date(t).toLocaleTimeString([], { hour12: false });
  const ms = (d) => (d < 1000 ? `${Math.round(d)} ms` : `${(d / 1000).toFixed(1)} s`);
  const ago = (t) => {
    const s = Math.max(0, Math.round((Date.now() - t) / 1000));
    return s < 1 ? 'just now' : s < 90 ? `${s} s ago` : `${Math.round(s / 60)} min ago`;
  };

  // --- the client ------------------------------------------------------------------------------
  // Library defaults, except the upgrade probe: it backs off 3 s, 6 s, 12 s … up to 5 min by
  // default; capped at 15 s here so that turning a switch off shows the climb back quickly.
  const PROBE = { first: 3000, max: 15000 };
  const client = Wirefall.connect(window.WIREFALL_ENDPOINT, { upgradeProbe: PROBE });
  window.demo = { client };

  // --- events log ------------------------------------------------------------------------------
  function event(cls, text) {
    const li = el('li', cls);
    li.append(el('time', '', clock(Date.now())), el('span', '', text));
    const list = $('events');
    list.prepend(li);
    while (list.children.length > 80) list.lastChild.remove();
  }

  let lastError;
  client.on('state', (state, rung) => {
    logAttempts(); // the race that led here, first
    event(state === 'open' ? 'open' : '', state === 'open' ? `open via ${rung}` : state);
    render();
  });
  client.on('error', (e) => {
    lastError = e;
    event('error', `${e.code}${e.rung ? ` on ${e.rung}` : ''}${e.status ? ` (HTTP ${e.status})` : ''}: ${e.message}`);
  });
  client.on('sessionlost', (lost) => {
    event('error', `session lost: ${lost.length} message(s) may not have arrived`);
    system(`The server had forgotten this session; ${lost.length} message(s) may not have arrived.`);
  });

  // Every finished attempt, once (client.attempts keeps the last 50).
  const logged = new WeakSet();
  function logAttempts() {
    for (const a of client.attempts) {
      if (logged.has(a)) continue;
      logged.add(a);
      const why = a.outcome === 'verified' ? '' : ` ${a.reason || ''}${a.status ? ` ${a.status}` : ''}`;
      event(a.outcome === 'failed' ? 'error' : a.outcome === 'verified' ? 'open' : '', `attempt ${a.rung}: ${a.outcome}${why} (${ms(a.duration)})`);
    }
  }

  // --- chat ------------------------------------------------------------------------------------
  const tab = Math.random().toString(36).slice(2, 8); // this tab's id, in each message id
  let myName = '';
  let n = 0;
  const seen = new Set();
  const stats = { sent: 0, acked: 0, failed: 0, back: 0, dup: 0, missing: 0, next: 1 };
  const log = $('log');

  function scroll() {
    log.scrollTop = log.scrollHeight;
  }
  function line(m, mine) {
    const li = el('li', mine ? 'mine pending' : '');
    li.append(el('span', 'from', mine ? 'you' : m.from), el('span', 'body', m.text));
    const meta = el('span', 'meta');
    if (mine) meta.append(el('span', 'state', '◷ sending…'));
    else meta.textContent = m.at ? clock(m.at) : '';
    li.append(meta);
    log.append(li);
    while (log.children.length > 200) log.firstChild.remove();
    scroll();
    return li;
  }
  function system(text) {
    log.append(el('li', 'system', text));
    scroll();
  }
  function mark(li, cls, text, title) {
    li.classList.remove('pending');
    li.classList.add(cls);
    const s = li.querySelector('.state');
    s.textContent = text;
    if (title) s.title = title;
  }

  function send(text) {
    const id = `${tab}:${++n}`;
    seen.add(id);
    const li = line({ text }, true);
    const sentOn = client.rung;
    stats.sent++;
    client.send('say', { text, id }).then(
      () => {
        stats.acked++;
        const via = client.rung;
        const hop = sentOn && via && sentOn !== via ? `sent on ${sentOn}, acked via ${via}` : `acked via ${via || '?'}`;
        mark(li, 'acked', `✓ ${via ? `acked · ${via}` : 'acked'}`, `the server acknowledged it: ${hop}`);
      },
      (e) => {
        stats.failed++;
        mark(li, 'failed', `✗ ${e.code}`, e.message);
      },
    );
    checkLine();
  }

  client.subscribe('hello', (m) => {
    const again = myName && myName !== m.name;
    myName = m.name;
    $('me').innerHTML = '';
    $('me').append('you are ', el('b', '', myName));
    if (again) system(`New session: you are now ${myName}.`);
    for (const h of m.history || []) {
      if (seen.has(h.id) || (h.id || '').startsWith(`${tab}:`)) continue;
      seen.add(h.id);
      line(h, false);
    }
  });

  client.subscribe('said', (m) => {
    const id = m.id || '';
    if (id.startsWith(`${tab}:`)) {
      // One of ours, broadcast back: exactly once and in order, or the check says so.
      const k = Number(id.slice(tab.length + 1));
      if (k < stats.next) stats.dup++;
      else {
        if (k > stats.next) stats.missing += k - stats.next;
        stats.back++;
        stats.next = k + 1;
      }
      checkLine();
      return;
    }
    if (id && seen.has(id)) return;
    if (id) seen.add(id);
    line(m, false);
  });

  function checkLine() {
    const c = $('check');
    c.innerHTML = '';
    const waiting = client.buffered.messages;
    const ok = stats.dup === 0 && stats.missing === 0 && stats.failed === 0;
    c.append(
      'your messages: ',
      el('b', '', String(stats.sent)), ' sent · ',
      el('b', '', String(stats.acked)), ' acked · ',
      el('b', '', String(stats.back)), ' came back in order · ',
      el('span', stats.dup ? 'bad' : '', `${stats.dup} duplicated`), ' · ',
      el('span', stats.missing ? 'bad' : '', `${stats.missing} missing`),
    );
    if (stats.failed) c.append(' · ', el('span', 'bad', `${stats.failed} failed`));
    if (waiting) c.append(' · ', el('b', '', `${waiting} waiting in the outbox`));
    else if (stats.sent && ok) c.append(' ', el('span', 'good', '✓ exactly once'));
  }

  $('form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const text = $('text').value.trim();
    if (!text) return;
    $('text').value = '';
    send(text);
  });
  let autoTimer;
  let autoN = 0;
  $('auto').addEventListener('change', (ev) => {
    clearInterval(autoTimer);
    if (ev.target.checked) autoTimer = setInterval(() => send(`message #${++autoN}`), 1000);
  });

  // --- ladder ----------------------------------------------------------------------------------
  function latest(rung) {
    const all = client.attempts;
    for (let i = all.length - 1; i >= 0; i--) if (all[i].rung === rung) return all[i];
    return undefined;
  }

  /** Why a rung has no attempt yet; "a rung above works" only when one above is really open. */
  function untried(r) {
    const here = RUNGS.indexOf(r);
    const inUse = client.state === 'open' ? RUNGS.indexOf(client.rung) : -1;
    if (inUse >= 0 && inUse < here) return `not tried: ${client.rung}, a rung above, works`;
    if (client.state === 'connecting' || client.state === 'reconnecting') return here > 0 ? 'not tried yet: the rungs above go first' : 'not tried yet';
    return client.state === 'open' ? 'not tried yet' : 'not tried';
  }

  function renderLadder() {
    const body = $('ladder');
    body.innerHTML = '';
    for (const r of RUNGS) {
      const a = latest(r);
      const tr = el('tr', client.rung === r ? 'inuse' : '');
      const name = el('td', 'rung', r);
      if (client.rung === r) name.append(el('span', 'use', 'in use'));
      name.append(el('small', '', SUB[r]));
      tr.append(name);
      if (!a) {
        // One cell under the five headers after "rung".
        const td = el('td');
        td.colSpan = 5;
        td.append(el('span', 'badge none', untried(r)));
        tr.append(td);
      } else {
        const out = el('td');
        out.append(el('span', `badge ${a.outcome}`, a.outcome));
        const reason = el('td', 'reason');
        if (a.reason) {
          reason.append(el('code', '', a.reason));
          reason.append(el('small', '', describeReason(a)));
        } else reason.append(el('small', '', 'round trip verified'));
        reason.title = a.message || '';
        tr.append(out, reason, el('td', 'num', a.status ? String(a.status) : '—'), el('td', 'num', ms(a.duration)), el('td', 'num', ago(a.startedAt + a.duration)));
      }
      body.append(tr);
    }
  }

  function renderBanner() {
    const s = client.state;
    const r = client.rung;
    const banner = $('banner');
    const head = $('headline');
    const sub = $('subline');
    banner.className = `banner ${s === 'open' ? `rung-${r}` : s}`;
    $('pill').className = `pill ${s}`;
    $('pill-text').textContent = s === 'open' ? `open · ${r}` : s;
    head.innerHTML = '';
    if (s !== 'open') {
      head.textContent = s === 'closed' ? 'Closed' : s === 'connecting' ? 'Connecting…' : 'Reconnecting…';
      sub.textContent = lastError ? `last error: ${lastError.code}: ${lastError.message}` : 'racing down the ladder';
      return;
    }
    const idx = RUNGS.indexOf(r);
    const why = [];
    if (idx >= 2) {
      const ws = latest('ws');
      const wss = latest('wss');
      const a = ws && ws.outcome !== 'verified' ? ws : wss && wss.outcome !== 'verified' ? wss : undefined;
      if (a) why.push(describeAttempt(a));
    }
    if (idx >= 3) {
      const a = latest('sse');
      if (a && a.outcome !== 'verified') why.push(describeAttempt(a));
    }
    head.append(`Connected via ${LABEL[r]} (${r})`);
    if (why.length) head.append(' ', el('span', 'why', `(${why.join('; ')})`));
    if (idx >= 2) {
      sub.textContent = `Every message still arrives exactly once. The client probes the rungs above after ${PROBE.first / 1000} s, then backs off (at most every ${PROBE.max / 1000} s in this demo): turn the switches off to watch it climb back.`;
    } else {
      const wss = latest('wss');
      sub.textContent =
        wss && wss.outcome === 'failed'
          ? `Round trip verified on ${r}. wss was tried first and failed (${wss.reason}): this demo has no TLS server on port 443.`
          : `Round trip verified on ${r}.`;
    }
  }

  // --- round-trip time -------------------------------------------------------------------------
  // client.rtt is the last heartbeat measurement and is kept across rung changes, so a sample
  // counts for the current rung only once it changed after the switch, or a heartbeat (5 s) passed.
  const samples = [];
  let lastRtt;
  let rttRung = null;
  let rttSince = 0;
  let currentRung = null;
  function trackRtt() {
    const r = client.state === 'open' ? client.rung : null;
    if (r !== currentRung) {
      currentRung = r;
      rttSince = Date.now();
    }
    if (client.rtt !== lastRtt) {
      lastRtt = client.rtt;
      rttRung = r;
    } else if (r && rttRung !== r && Date.now() - rttSince > 6500) rttRung = r;
  }
  function sample() {
    trackRtt();
    const r = currentRung;
    samples.push({ rtt: r && rttRung === r ? lastRtt : undefined, rung: r });
    if (samples.length > 60) samples.shift();
    renderRtt();
  }
  function renderRtt() {
    const svg = $('spark');
    const W = Math.max(120, svg.clientWidth);
    const H = Math.max(40, svg.clientHeight);
    svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
    const L = 46; // room for the scale
    const vals = samples.map((s) => s.rtt).filter((v) => v !== undefined);
    const top = niceMax(Math.max(4, ...vals) * 1.15);
    const x = (i) => L + ((W - L - 8) * (i + 60 - samples.length)) / 59;
    const y = (v) => H - 6 - ((H - 14) * v) / top;
    let out = '';
    for (const v of [0, top / 2, top]) {
      out += `<line x1="${L}" x2="${W - 4}" y1="${y(v)}" y2="${y(v)}" stroke="#e3e6ec" ${v ? 'stroke-dasharray="3 3"' : ''}/>`;
      out += `<text x="${L - 5}" y="${y(v) + 4}" text-anchor="end" font-size="10.5" fill="#6b7383">${v === top ? `${v} ms` : v}</text>`;
    }
    let run = [];
    const flush = () => {
      if (run.length) {
        const c = COLOR[run[0].rung];
        out += `<polyline fill="none" stroke="${c}" stroke-width="2.4" stroke-linejoin="round" stroke-linecap="round" points="${run.map((p) => `${x(p.i).toFixed(1)},${y(p.v).toFixed(1)}`).join(' ')}"/>`;
        const last = run[run.length - 1];
        out += `<circle cx="${x(last.i).toFixed(1)}" cy="${y(last.v).toFixed(1)}" r="3" fill="${c}"/>`;
      }
      run = [];
    };
    samples.forEach((s, i) => {
      if (s.rtt === undefined || (run.length && run[0].rung !== s.rung)) flush();
      if (s.rtt !== undefined) run.push({ i, v: s.rtt, rung: s.rung });
    });
    flush();
    svg.innerHTML = out;
    const now = samples[samples.length - 1];
    const box = $('rtt-now');
    box.innerHTML = '';
    if (now && now.rtt !== undefined) box.append(`${Math.round(now.rtt)} ms`, el('small', '', `on ${now.rung}`));
    else box.append('–', el('small', '', client.state === 'open' ? 'next heartbeat…' : client.state));
    const legend = $('rtt-legend');
    legend.innerHTML = '';
    for (const r of RUNGS) {
      const k = el('span', '', r);
      const i = el('i');
      i.style.background = COLOR[r];
      k.prepend(i);
      legend.append(k);
    }
    legend.append(el('span', 'muted', 'one sample a second; a gap: no measurement yet on a new rung'));
  }
  function niceMax(v) {
    for (const m of [5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000]) if (v <= m) return m;
    return Math.ceil(v / 10000) * 10000;
  }

  // --- the cluster demo (npm run start:cluster): which node holds the session, and the nodes --------
  let holder; // the node that holds this tab's session, as it told us
  client.subscribe('node', (m) => {
    if (holder && holder !== m.node) event('net', `session moved: node ${holder} → node ${m.node} (${m.rung})`);
    else if (!holder) event('net', `session on node ${m.node} (${m.rung})`);
    holder = m.node;
  });
  function renderCluster(st) {
    $('cluster').hidden = false;
    document.querySelector('.network:not(#cluster)').hidden = true;
    $('session-node').textContent =
      `This tab's session is on node ${holder ?? '?'} (${client.rung ?? 'away'}); its last request here was answered by node ${st.node}. ` +
      'Stop the node that holds it: the session moves to another node, nothing lost. Kill it (-9): the session is lost, and the client says so.';
    const box = $('nodes');
    box.innerHTML = '';
    for (const n of st.nodes) {
      const card = el('div', `node${n.up ? '' : ' down'}${n.name === holder ? ' holds' : ''}`);
      card.append(el('b', '', `node ${n.name}`), el('span', '', n.up ? ` · port ${n.port}` : ' · stopped'));
      if (n.name === st.node) card.append(el('div', 'served', 'answered this poll'));
      if (n.name === holder) card.append(el('div', 'served', "holds this tab's session"));
      const button = (label, action) => {
        const b = el('button', action === 'start' ? '' : 'secondary', label);
        b.type = 'button';
        b.addEventListener('click', () => {
          event('net', `node ${n.name}: ${action}`);
          control('/demo/node', { node: n.name, action });
        });
        card.append(b);
      };
      if (n.up) (button('Stop', 'stop'), button('Kill -9', 'kill'));
      else button('Restart', 'start');
      box.append(card);
    }
  }

  // --- network switches (the demo server's /demo/* endpoints; never through the proxies) --------
  let known;
  function renderNet(st) {
    if (st.nodes) return renderCluster(st);
    for (const input of document.querySelectorAll('[data-switch]')) {
      const id = input.dataset.switch;
      const on = !!st.switches[id];
      if (document.activeElement !== input || input.checked !== on) input.checked = on;
      input.closest('.switch').classList.toggle('on', on);
      if (known && known.switches[id] !== on) event('net', `network: ${SWITCH_NAMES[id]} ${on ? 'ON' : 'off'}`);
    }
    known = st;
    const n = st.network;
    const who = st.clients.map((c) => `${c.name} on ${c.rung || '(away)'}`).join(', ');
    $('netstats').textContent =
      `Through the proxies so far: ${n.websockets} WebSocket upgrade requests, ${n.eventStreams} event streams, ${n.requests} other HTTP requests, ${n.cuts} connections cut.` +
      (who ? `  Sessions on the server: ${who}.` : '');
  }
  async function control(path, body) {
    try {
      const res = await fetch(path, {
        method: body ? 'POST' : 'GET',
        headers: body ? { 'content-type': 'application/json' } : undefined,
        body: body ? JSON.stringify(body) : undefined,
        cache: 'no-store',
      });
      if (res.ok) renderNet(await res.json());
    } catch {
      /* the demo server is gone; the chat says so through its state */
    }
  }
  for (const input of document.querySelectorAll('[data-switch]')) {
    input.addEventListener('change', () => control('/demo/scenario', { [input.dataset.switch]: input.checked }));
  }
  $('cut').addEventListener('click', () => {
    event('net', 'network: every connection cut');
    control('/demo/cut', {});
  });
  $('normal').addEventListener('click', () => control('/demo/scenario', { normal: true }));

  // --- refresh ---------------------------------------------------------------------------------
  function render() {
    logAttempts();
    renderBanner();
    renderLadder();
    checkLine();
  }
  setInterval(render, 500);
  setInterval(sample, 1000);
  setInterval(() => control('/demo/state'), 1000);
  setInterval(trackRtt, 250);
  control('/demo/state');
  render();
  renderRtt();
})();
