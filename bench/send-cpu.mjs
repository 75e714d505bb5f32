// The long-polling client's CPU per `send` in a client->server burst, alone: the real client of a
// build, in this process, with a `fetch` that answers as the server would (the open with greet and
// welcome, each uplink POST with 204 and its ack on the held poll), so no server, socket or other
// process shares the measurement. bench/cpu.mjs measures both real processes; on the shared 2-core
// machine (load 7-10) its rounds spread by ±10 %, this one's by ±5 %: still too much to rank a
// change of a few %, enough to find where a send's CPU goes without undici, sockets or a server
// (node --cpu-prof bench/send-cpu.mjs --one dist). Not part of `npm run bench`.
//   node bench/send-cpu.mjs <rounds> <dist dir>...     # e.g. node bench/send-cpu.mjs 3 /tmp/before dist
// A round runs each build in a fresh process (alternating): 30 bursts of 20,000 sends, each
// `send(...).catch(() => {})` as the bench's app does, the first 5 untimed; per build it prints the
// rounds' first quartile and median of µs per message (process.cpuUsage, GC included). The fake
// server parses each POST body (JSON.parse), a constant share of every build's figure.
import { fork } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, payload } from './lib/common.mjs';

const N = 20_000;
const BURSTS = 30;
const WARM = 5;

if (process.argv[2] === '--one') {
  const { connect } = await import(`${resolve(process.argv[3])}/index.mjs`);
  let ack = 0;
  let acked = 0;
  let counted = 0;
  let held;
  const answer = (status, body) => new Response(body ?? null, { status });
  const answerPoll = () => {
    if (!held || ack <= acked) return;
    const r = held;
    held = undefined;
    acked = ack;
    r(answer(200, `{"t":"ack","a":${ack}}`));
  };
  const fetch = async (url, init) => {
    const u = String(url);
    if (!u.includes('sid=')) {
      return answer(200, '[{"t":"greet","v":[3,2,1]},{"t":"welcome","v":3,"sid":"s1","key":"k1","hb":600000,"ack":0,"resumed":false,"max":1048576,"pa":1,"run":1}]');
    }
    if (u.includes('poll=1')) return new Promise((r) => ((held = r), answerPoll()));
    const body = String(init.body);
    for (const f of JSON.parse(body.slice(body.indexOf('\n') + 1))) {
      if (f.t === 'run') (ack = f.s + f.d.length - 1), (counted += f.d.length);
      else if (f.t === 'msg') (ack = f.s), counted++;
    }
    // The ack leaves on the poll a turn later, as the server's does.
    setImmediate(answerPoll);
    return answer(204);
  };
  const c = connect('http://127.0.0.1:9/wirefall', { fetch, transports: ['longpoll'], outbox: { maxMessages: 1_000_000 } });
  await new Promise((r) => c.on('state', (s) => s === 'open' && r()));
  const turn = () => new Promise((r) => setImmediate(r));
  const perMsg = [];
  for (let b = 0; b < BURSTS; b++) {
    const target = counted + N;
    const t0 = process.cpuUsage();
    for (let i = 0; i < N; i++) void c.send('up', payload('up', i, { n: N })).catch(() => {});
    while (counted < target || acked < ack) await turn();
    await turn();
    const u = process.cpuUsage(t0);
    if (b >= WARM) perMsg.push((u.user + u.system) / N);
  }
  c.close();
  perMsg.sort((a, b) => a - b);
  process.send({ q1: perMsg[perMsg.length >> 2], median: median(perMsg) });
  process.exit(0);
}

const [rounds = '3', ...dists] = process.argv.slice(2);
if (!dists.length) {
  console.error('usage: node bench/send-cpu.mjs <rounds> <dist dir>...');
  process.exit(2);
}
const self = fileURLToPath(import.meta.url);
const res = Object.fromEntries(dists.map((d) => [d, { q1: [], median: [] }]));
for (let r = 0; r < Number(rounds); r++) {
  for (const d of dists) {
    const child = fork(self, ['--one', d], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const m = await new Promise((ok, no) => (child.once('message', ok), child.once('exit', (code) => no(new Error(`${d}: exited ${code}`)))));
    res[d].q1.push(m.q1);
    res[d].median.push(m.median);
  }
}
const f = (xs) => xs.map((x) => x.toFixed(2)).join(' ');
for (const [d, v] of Object.entries(res)) {
  console.log(`${d.padEnd(28)} client µs/msg: q1 ${median(v.q1).toFixed(2)} (${f(v.q1)}), median ${median(v.median).toFixed(2)} (${f(v.median)})`);
}
