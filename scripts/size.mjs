// The client's size budget (`npm run size`): `connect` with every rung and reliable delivery,
// bundled for the browser as bench/bundle.mjs does (esbuild --bundle --minify --format=esm
// --platform=browser --target=es2022, resolving `wirefall` with the `production` condition as a
// production build by Vite or webpack does), then gzip -9. Fails past
// the budget. The goal (issue 15) is 7,168 B; until it is met the budget is the best figure
// reached with every feature of issue 15 in (10,677 B before the POST retry, the per-rung backoff
// and ws's own message event added ~200 B), so the client can only get smaller from here. Lower
// BUDGET whenever a change saves bytes; raising it is a decision to say so in the commit.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { appEntry, bundleApp } from './app-bundle.mjs';

const GOAL = 7168;
// Raised from 10,889 B when the features of issues 13 and 14 landed in the core (binary data and
// its path-naming validation, request/reply, the logger, async credentials, the share hooks:
// +4,017 B; +59 B for the share hold hook). That is a decision, not a drift: the 7 KB goal now needs the restructuring that
// docs/benchmarks.md describes. From here the budget only goes down.
// Raised again, from 14,965 B to 16,002 B. The stop began at 15,082 B (the Redis work's payload
// encodings had added 117 B unnoticed); then binary WebSocket messages and native base64 +682 B,
// the attempt report +94 B, protocol 3's one-request open and numbered uplink POSTs +37 B (15,954 B
// once merged), the heartbeat ping riding with the pong +48 B. Again a decision, said in the
// commit: the 7 KB goal needs a smaller core, not trimming.
// Lowered to 15,642 B: base64 from the platform (native, else btoa/atob) instead of our table (-363 B);
// to 15,627 B with the race's tighter hold (-15 B). Branch rtt: the Outbox's server-only methods
// moved to src/server (-135 B), the acks riding in messages (+81 B), the cheaper UTF-8 count (-42 B):
// 15,546 B once merged with main. Raised to 15,562 B (+16 B): the greeting's due back to "as long
// again as the opening took" (+4 B, a working WebSocket was misjudged under load) and branch http's
// flat batches and one-join uplink (+12 B; its one promise per batch was not merged).
// 15,559 B after review: one `unbatch` for the two places that took a batch apart (-3 B).
// Measured from the production build since: dist/prod/, what the `production` export condition
// resolves (src/dev.ts). 15,280 B with the first explanatory texts left out of it (-279 B).
// Branch proto: 15,145 B with the hello and report validators in the server's decoder only (-135 B);
// 15,089 B with one outbox entry shape (promise and settlers flat in it) and one reset path (-56 B);
// 14,775 B with the greet/welcome/error encoders (and cutUtf8) in the server's codec only and the
// missing-WebSocket warning's explanation under DEV (-314 B); 14,568 B with the payload decoder's
// texts under DEV, objects built by Object.fromEntries (no defineProperty helper), one UTF-8
// counter, the codec's bounds as constants, and platform/binary/scan written shorter (-207 B);
// 14,563 B with one ping/pong template and rpc's id check on the codec's (-5 B); 14,556 B with the
// inbox's durable-store gate in the server (GatedInbox, src/server/durable.ts) (-7 B); 14,555 B
// after a tidy-up of the codec (-1 B).
// 14,486 B with branch cap merged (its heartbeat `q` pings cost +23 B, paid for by a positional
// liveness check, -90 B).
// Branch core: 14,740 B with the client's event log a function of its own, `logClient` (-540 B).
// 14,500 B with the core's own texts (attempts, requests, sends, auth, URLs) written under DEV (-240 B).
// 14,323 B with race and attempt as closures that share one report callback; an attempt carries its welcome (-177 B).
// 14,301 B with the rung memory as three functions (not a class) and the ladder derived with one URL helper (-22 B).
// 14,207 B with dist/prod/ minified by terser, whose compressor folds what esbuild's leaves (-94 B).
// 14,189 B with a held HTTP rung kept over a lower one that verifies meanwhile (+~10 B), and attempts reading
// the client's timings object instead of a copy (-~20 B).
// 13,402 B with the three branches (core, proto, cap) merged.
// Raised to 13,406 B (+4 B): the review's fix of continueAfter's double-counted bytes.
// Raised to 13,417 B (+11 B): a seeded client's hello says `fence` (a crashed leader tab's late
// frames were taken under the numbers the new leader then used: lost sends, a WF_PROTOCOL loop).
// Branch size: 13,349 B with the client's calls in flight as a closure, one settle per call (-57 B);
// 13,310 B with the client, its session and its live link as closures (the Client class only names
// and types the object), one timers helper for both (-39 B).
// 13,134 B with the core's close codes as literals checked against CloseCode's types: any use of the
// CloseCode object put all of its table in the bundle (-176 B).
// 13,059 B with the platform's tab-sharing parts (locks, channel, onLeave) read by wirefall/share (-75 B).
// 12,935 B with the session tap moved into wirefall/share, which wraps the new client's session methods
// (one hook call in the core instead of six optional callbacks; -124 B).
// 12,850 B with the live link's failure texts under DEV, and the clock's `now` as Date.now itself (-85 B).
// 12,834 B with the session's `exists` read as its id (-16 B); 12,828 B with the default ladder derived
// from every rung and filtered by factory once (-6 B).
// 12,838 B once merged with main's `fence` in the hello (+10 B).
// Branch lp: 13,384 B with run frames on the uplink (+~100 B), paid for by the transports'
// failure texts under DEV (-130 B).
// 12,820 B with branches size and lp merged (and the hello's fence).
// 12,801 B with branch ttc merged (the race's shorter dues, -19 B).
// 12,788 B with the hello's `fence` added by wirefall/share's hook beside `tabs`, not by the core (-13 B).
// 12,528 B with terser's reduce_funcs off for dist/prod/: its single-use functions inlined as
// `(function(…){…})(…)` cost 260 B gzip more than the app's minifier does with them (-260 B).
// 12,521 B with the emitter a closure (src/util/emitter.ts) rather than a class with #fields (-7 B).
// 12,494 B with the lifecycle's failed/lost and won transitions written once each, and auth's
// thenable test the emitter's (-27 B).
// 12,490 B with the client's subscribe and on the emitters' own (closures need no binding) (-4 B).
// 12,487 B with the review's fix of the lifecycle (a race met by `online` resets the backoff
// again, as before c18765c) and its phase read in place (-3 B).
// 12,460 B with branch speed merged: one promise per group of sends (+), paid for by the tab
// hand-over's seeding moved out of the core Outbox into wirefall/share (src/share/seeding.ts) (-27 B).
// Branch size3: 12,378 B with the outbox's share-only parts in wirefall/share: `hold` is the `gate` the
// server's durable sessions use already (src/share/hold.ts), the seeded `continueAfter` a wrapper of
// `ack` (src/share/seeding.ts); `q`, `next`, `bytes` plain fields and one `load` (-82 B).
// 12,361 B with the outbox's `size` read as `q.length` (-8 B), and the emitter's `count` (server
// only) replaced by `emit` returning how many listeners it called (-9 B).
// 12,225 B with dist/prod/'s internal property names (phase, climbDue, takeUnsent, ... :
// scripts/internal-names.mjs) renamed to one letter each by terser, the same in every chunk: an
// app's minifier keeps property names (-136 B); 12,216 B with `rest`, `settle` and `schedule` too (-9 B).
// 12,219 B once branch p99 (a frame written without a closure, +bytes paid on its own base by one
// guarded WebSocket send) met size3; 12,213 B with the ack passed on in takeUnsent's loop variable (-6 B).
// 12,206 B with the thenable test written once, in src/util/thenable.ts (the short form auth had) (-7 B).
// Branch bcli's nine client fixes paid for themselves (12,206 B at its end); once merged, 12,198 B.
// 12,203 B with the slow-uplink allowance capped at one write, the welcome's max (+5 B).
// Branch bleft: its fixes (+80 B: an HTTP close drains its uplink, a message over a new server's
// smaller max goes as $skip) paid for by prose left to the default build (a close's, a bye's and
// an HTTP refusal's words around the peer's; "event stream ended") and send()'s checks in one
// try: 12,202 B.
// Raised to 12,206 B (+3 B) when branches bpkg (+14 B for one box per subscription, offset in
// setup and platform) and bleft, each at 12,202 B alone, were merged (12,204 B), and the review
// kept the $skip pass from making an error object for every entry of an outbox with no skip.
// 12,201 B with the data check testing for a plain object before its instanceof tests for bytes
// (branch speed2, -5 B).
// Raised to 12,221 B (+15 B): the emitter's table has no prototype (+6 B: subscribing to a type
// named "constructor" threw, and a client sending one dropped its own link at the server), and an
// event's last unsubscribe drops its Set (+9 B: names of the app's making no longer pile up).
// Raised to 12,237 B (+16 B): only a link that lasted starts the backoff over (a server dropping
// every link at once got a reconnect from each client every ~125 ms, for ever).
// 12,238 B once branches bshare (+4 B with no change to the core: the shared chunk's layout) and
// speed2 (-5 B) were merged with these; 12,239 B with branch redis3 (+1 B, no change to the core:
// the chunks the server shares with the client are laid out differently).
// Raised to 12,329 B (+90 B) by branch bclient, for four defects a broken server or middlebox
// caused, each with its test (bclient-*): long-polling waits a second after an empty answer that
// came within a second of its poll (~40 B; 1,829 polls in 1.5 s before), the SSE parser's event bounded at 100 Mi units (~28 B;
// ~800 MB of heap before), a resume welcome naming another session refused (~14 B; messages were
// dropped as duplicates), an uplink POST's answer body cancelled (~14 B; a connection per POST
// held until GC in Node). Kept at merge: robustness against broken peers over 0.7 % of a bundle
// whose 7 KB goal needs a redesign anyway (docs/benchmarks.md).
// Raised to 12,335 B (+6 B) by branch middlebox: a long-poll answered with 200 and neither a frame nor a batch (a
// captive portal's login page) is WF_REFUSED with its status, as on the event stream, where it was
// WF_PROTOCOL (a server bug, to the app) with no status.
// Raised to 12,417 B (+88 B) by branch bclient2, for six more things a broken or hostile server
// (or a mistyped option) did to the client, each with its test (bclient2-*): a welcome whose `v`
// the hello never offered refused (+4 B, gzip's noise: the check replaced `isNum(f.v)`); the
// welcome's `hb` trusted up to 60 s, the client pinging every minute past it (+10 B; an hour's `hb`
// meant no dead link found for two hours); a long-poll answer read in chunks and bounded as an SSE
// event (+17 B; read whole before); long-poll answers with nothing new paced by the live link's
// verdict, not only empty ones (+39 B; 1,200-2,800 polls in 1.8 s before); numeric options that are
// not numbers above 0 replaced by their defaults (+17 B; 1,000 reconnects in 1.5 s before); an uplink
// POST's 5xx answer cancelled before its retry, as a 2xx one was (+1 B; a connection held each). The
// lead decides at merge; the cheaper variants measured are in each commit.
// 12,427 B once branches middlebox and bclient2 were merged (their long-polling changes meet in one loop).
// Raised to 12,433 B (+6 B): a long-poll answer's body is read only when its status is 200. With
// middlebox's check after bclient2's reader, a 204 (no body) threw in the reader and failed the
// link as WF_NETWORK without its status, and a refused answer's page was read to its end first
// (a gateway's page that never ends held the link until its liveness deadline). Reading it and
// then refusing measured +1 B; not reading it +6 B. Test: lp-poll-204.
// Raised to 12,444 B (+11 B): the page's `resume` (a frozen page runs again, maybe still hidden)
// checks the link as becoming visible does. Chromium leaves a fetch's event stream it froze silent
// for good: a resumed SSE client found it only at the stall deadline, 7 s after resuming at the
// default heartbeat. A listener beside `visibilitychange`'s, `both` made variadic (nested: +19 B;
// one handler for both events: +21 B). Test: lifecycle-freeze.
// Raised to 12,435 B (+2 B) by branch tidy: the process-wide rung memory (Node, no localStorage)
// is bounded at 64 servers, starting over past that (+13 B alone; dropping the oldest first +17 B
// more), paid for by the recall's freshness check written NaN-safe (-8 B) and the map's methods
// without `void` (-3 B); an expired entry's recall no longer returns what removeItem returned.
// 12,445 B once branches lifecycle (+11 B) and tidy (+2 B) were merged.
// Raised to 12,519 B (+86 B) by branch lpretry: a long-poll lost on the way (a gateway's 5xx in its
// answer's place, a reset, a cut body) is sent again on the same link, up to 3 times, when the
// welcome says `rp`, each poll saying how many answers it read (`r`, protocol.md §2.3), where every
// such loss dropped the link and resumed it (9 links for 400 echoes over 6 s behind a 504 to one
// poll in three; echo p50 2.35 s, 5 ms after). Of it, the `rp` gate 3 B, cancelling the gateway's
// page before the retry 6 B (a connection held until GC in Node otherwise), the retry loop the rest.
// 12,534 B once branch lpretry was merged with lifecycle and tidy.
// Branch szwire (the protocol layer and the transports restructured, same wire and behaviour):
// 12,407 B (-127 B): the batcher a closure (-29 B), the frame encoders functions of their own
// rather than an object's properties (-10 B), an inbox arrival a number, not a word (-15 B), a 101
// that is no upgrade the shared refusal's first case (-8 B), the HTTP rungs' one POST helper (-10 B)
// and their welcome found by the codec's decode (-8 B), the rest a few bytes each (binary
// segments, data's tags, isPos, base64's encoder, the SSE and long-poll rungs as arrows).
// Branch szapi: 12,356 B with the client's session also its links' host and what wirefall/share
// reaches (one object for three, -32 B), a send the session's push alone (it knows the client closed
// and has the link write: -29 B), the Client class declared only (-17 B), request's calls in flight
// as their settle functions (-26 B), the link handed over as the attempt's sink itself (-13 B), the
// setup's ladder filtered once and its platform overrides set, not spread (-23 B), send()'s checks
// in one try (-9 B), the nonce one expression (-11 B), and smaller client bookkeeping (-34 B): -178 B.
// 12,226 B with branches szwire and szapi merged.
// Branch szconn (the connection machinery restructured, not trimmed): 12,226 B (-308 B). The ladder
// policy one closure per client, its state in locals, telling the rung memory itself (-113 B);
// the lifecycle's phases, events and effects numbered and its transitions a pair (-101 B); race and
// attempt one closure (a probe is a race of one), an attempt's fields internal names, the live link
// taking a verified transport's events itself (-37 B); the rest small (rungs, auth, memory, the
// race's error choice and stagger): -57 B.
// 11,942 B with the three branches (szwire, szapi, szconn) merged: -592 B this stop.
// 11,935 B at review: the client reads rung indices through the ladder's own lookup, written once (-7 B).
// Raised to 11,941 B (+6 B) by branch hostile: the welcome's `hb` taken from 1 s up, as it is taken up
// to 60 s (a welcome's `hb` of 0 or 1 had the client ping every millisecond and find every link
// stalled after 2 ms: it never stayed open). Test: hostile-server.
// Raised to 11,944 B (+3 B) by branch hostile: a held HTTP attempt that fails clears the race's
// timer that was to decide for it (the timer read the attempt, gone: a TypeError thrown from a
// timer, uncaught; a guard in decide() instead cost 5 B). Test: hostile-server.
// Raised to 11,948 B (+4 B) by branch hostile: what arrives while an attempt is held joins its
// frames as an array literal, not push(...frames), whose arguments a batch of 200,000 frames
// overflowed (a RangeError failed a working rung as WF_NETWORK; concat() cost 5 B). Test: hostile-server.
const BUDGET = 11_948;

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = `${root}dist/index.mjs`;
if (!existsSync(dist)) {
  console.error('size: dist/index.mjs is missing: run `npm run build` first');
  process.exit(1);
}
// Resolved as an app's bundler does in a production build: the package's own `exports` under the
// `production` condition (dist/prod/, without the explanatory text; src/dev.ts).
const out = await bundleApp({ contents: appEntry('wirefall'), resolveDir: root, loader: 'js' }, {
  conditions: ['production'],
  tsconfigRaw: {}, // the repo's tsconfig maps `wirefall` to src/ for the tests; an app has no such path
});
const inputs = Object.keys(Object.values(out.metafile.outputs)[0].inputs);
if (!inputs.some((f) => f.startsWith('dist/prod/'))) {
  console.error(`size: the production condition did not resolve to dist/prod/ (${inputs.join(', ')})`);
  process.exit(1);
}
const code = out.outputFiles[0].text;
const gz = gzipSync(code, { level: 9 }).length;
const fmt = (n) => n.toLocaleString('en-US');
console.log(`size: connect() with every rung: ${fmt(code.length)} B min, ${fmt(gz)} B min+gzip (budget ${fmt(BUDGET)} B, goal ${fmt(GOAL)} B)`);
if (gz > BUDGET) {
  console.error(`size: over budget by ${fmt(gz - BUDGET)} B`);
  process.exit(1);
}
