// The round-robin balancer lives in the lab build (lab/balancer.ts): `npm run start:cluster` and the
// scale bench use the same one as the multi-node tests.
export { startBalancer, type Balancer } from '../../lab/balancer';
