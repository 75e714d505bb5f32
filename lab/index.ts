/**
 * The hostile-network lab: a man-in-the-middle proxy that replays what real middleboxes do to
 * realtime traffic. Product tooling, not package API: the tests, the demo (examples/chat, via
 * the rollup build `dist/lab.mjs`) and the benchmarks all use this one entry, so what the demo
 * shows is exactly what the matrix measured. `dist/lab.mjs` is left out of the npm package.
 *
 * @example
 * import { startLab } from './lab';
 * const lab = await startLab({ upstream: { host: '127.0.0.1', port }, scenario: { kind: 'drop-frames' } });
 * connect(`${lab.url}/wirefall`); // … then lab.setScenario({ kind: 'pass' }), lab.close()
 */
export { startLab } from './proxy';
export type { ExchangeKind, Lab, LabOptions, LabStats } from './proxy';
export { cutDelays, fieldCases } from './scenarios';
export type { Scenario } from './scenarios';
export { seeded } from './random';
export { makeTestCert } from './cert';
export { startBalancer } from './balancer';
export type { Balancer } from './balancer';
export { startRedis, freePort } from './redis';
export type { RedisProcess } from './redis';
