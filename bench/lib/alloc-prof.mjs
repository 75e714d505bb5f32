// Preloaded by bench/profile.mjs with ALLOC=1 (`--import`): samples every allocation of the process,
// including what the GC collected since (--heap-prof keeps only what is still live), and writes a
// .heapprofile where ALLOC_PROF names when the process exits or disconnects.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

const session = new Session();
session.connect();
session.post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
let written = false;
const write = () => {
  if (written) return;
  written = true;
  session.post('HeapProfiler.stopSampling', (err, r) => {
    if (!err) writeFileSync(process.env.ALLOC_PROF, JSON.stringify(r.profile));
  });
};
process.on('disconnect', write);
process.on('exit', write);
process.on('SIGTERM', () => (write(), process.exit(0)));
