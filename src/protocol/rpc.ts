import { isPos } from './codec';
import { cutUtf8, LIMITS } from './limits';
import type { Encoded } from './data';

/**
 * Request / reply on top of ordinary messages (docs/protocol.md §1.2): a call is a `msg` of the
 * reserved type `$call`, its reply a `msg` of type `$reply`. Both are numbered, acknowledged,
 * resent and de-duplicated like every message, so the handler runs once and the reply arrives
 * once, across cuts and rung changes, without a second delivery layer.
 */
export const CALL = '$call';
export const REPLY = '$reply';

/** The calls of an API: `{ name: [argument, reply] }` (empty when the API declares none). */
export type RpcOf<Api> = Api extends { rpc?: infer R } ? (R extends object ? R : {}) : {};
/** The argument and the reply of one call. */
export type ArgOf<Api, K extends keyof RpcOf<Api>> = RpcOf<Api>[K] extends readonly [infer A, unknown] ? A : never;
export type ReplyOf<Api, K extends keyof RpcOf<Api>> = RpcOf<Api>[K] extends readonly [unknown, infer R] ? R : never;

/** A call's payload: the id (per client), the name, the argument. `args` is already encoded. */
export function encodeCall(id: number, name: string, args: Encoded): Encoded {
  return { payload: `{"id":${id},"m":${JSON.stringify(name)},"a":${args.payload}}`, e: args.e };
}

/** A reply's payload: the result, already encoded, or the app's error (code and message cut to bounds). */
export function encodeReply(id: number, result: Encoded | { code: string; message: string }): Encoded {
  if ('payload' in result) return { payload: `{"id":${id},"r":${result.payload}}`, e: result.e };
  const err = { code: cutUtf8(result.code, LIMITS.code), message: cutUtf8(result.message, LIMITS.message) };
  return { payload: JSON.stringify({ id, err }) };
}

/** A received call, or undefined when the payload is not one. */
export function readCall(d: unknown): { id: number; m: string; a: unknown } | undefined {
  const c = d as { id?: unknown; m?: unknown; a?: unknown } | null;
  return c && typeof c === 'object' && isPos(c.id) && typeof c.m === 'string' && c.m.length <= LIMITS.type ? { id: c.id, m: c.m, a: c.a } : undefined;
}

/** A received reply, or undefined when the payload is not one. */
export function readReply(d: unknown): { id: number; r?: unknown; err?: { code: string; message: string } } | undefined {
  const r = d as { id?: unknown; r?: unknown; err?: { code?: unknown; message?: unknown } } | null;
  if (!r || typeof r !== 'object' || !isPos(r.id)) return undefined;
  if (r.err === undefined) return { id: r.id, r: r.r };
  return { id: r.id, err: { code: String(r.err?.code ?? 'error'), message: String(r.err?.message ?? '') } };
}
