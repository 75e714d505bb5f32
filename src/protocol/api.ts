/**
 * The types both sides are written against: what each side may send, and the rungs of the
 * ladder. The client, the server and the React bindings all import them from here.
 */
import type { Wire } from './data';

/**
 * What a client may send and what its server may push: message names mapped to data shapes.
 * @example
 * type Chat = {
 *   client: { say: { text: string } };
 *   server: { said: { from: string; text: string } };
 * };
 */
export interface ApiShape {
  client: object;
  server: object;
  /**
   * Optional: the calls a client may make with `client.request()`, each as `[argument, reply]`;
   * the server answers them with `conn.handle()`.
   * @example rpc: { getUser: [{ id: string }, { name: string }] }
   */
  rpc?: object;
}

/** The API of a client or server created without a type argument: any name, any data that can make the trip. */
export type AnyApi = { client: Record<string, Wire>; server: Record<string, Wire>; rpc?: Record<string, [Wire, Wire]> };

/**
 * `Api` when every message shape (and every call's argument and reply) can make the trip; a
 * compile error naming what cannot otherwise. `connect<Api>()`, `createServer<Api>()` and the
 * React bindings check their `Api` this way already; this alias checks an API where it is declared.
 * Untyped clients and servers check every value against {@link Wire}.
 * @example
 * export type Chat = SendableApi<{ client: { say: { text: string } }; server: { said: { text: string; at: number } } }>;
 */
export type SendableApi<Api extends ApiShape & ApiCheck<Api>> = Api;

/**
 * What `Api` must also be for `connect<Api>()`, `createServer<Api>()` and the React bindings: its
 * shapes with every part that cannot make the trip (a `Date`, a `Map`, a `Set`, a function or a
 * class instance with methods, a bigint, `undefined` inside an array) replaced by a sentence
 * saying so, which the compiler then shows: `Type 'Date' is not assignable to type '"a Date
 * cannot make the trip: …"'`. A generic wrapper declares `Api extends ApiShape & ApiCheck<Api>`.
 */
export type ApiCheck<Api> = {
  client: { [K in keyof Part<Api, 'client'>]: Check<Part<Api, 'client'>[K], false> };
  server: { [K in keyof Part<Api, 'server'>]: Check<Part<Api, 'server'>[K], false> };
  rpc?: { [K in keyof Part<Api, 'rpc'>]: Part<Api, 'rpc'>[K] extends readonly [infer A, infer B] ? readonly [Check<A, false>, Check<B, false>] : 'a call is declared as [argument, reply]' };
};
type Part<Api, P extends string> = Api extends { [Q in P]?: infer X } ? NonNullable<X> : {};

type Leaf = string | number | boolean | null | Uint8Array | ArrayBuffer;
type Refused<What extends string> = `${What} cannot make the trip: JSON values and Uint8Array/ArrayBuffer only`;
type Why<T> =
  T extends Date ? 'a Date'
  : T extends Map<unknown, unknown> ? 'a Map'
  : T extends Set<unknown> ? 'a Set'
  : T extends (...args: never[]) => unknown ? 'a function (or a method)'
  : T extends RegExp ? 'a RegExp'
  : T extends Promise<unknown> ? 'a Promise'
  : T extends Error ? 'an Error'
  : T extends WeakMap<object, unknown> | WeakSet<object> ? 'a WeakMap or WeakSet'
  : T extends ArrayBufferView ? 'a typed array other than Uint8Array'
  : T extends bigint ? 'a bigint'
  : T extends symbol ? 'a symbol'
  : 'this value';
type NotPlain = Date | RegExp | Map<unknown, unknown> | Set<unknown> | WeakMap<object, unknown> | WeakSet<object> | Promise<unknown> | Error | ArrayBufferView | ((...args: never[]) => unknown);

/**
 * `T`, with each part that cannot make the trip replaced by a `Refused` sentence (distributes
 * over unions). `Wire` itself, `unknown` and `any` pass: their values are checked at run time.
 */
type Check<T, InArray extends boolean> =
  Wire extends T ? T
  : T extends undefined ? (InArray extends true ? Refused<'undefined in an array (JSON makes it null)'> : T)
  : T extends Leaf ? T
  : T extends NotPlain ? Refused<Why<T>>
  : T extends readonly unknown[] ? { [I in keyof T]: Check<T[I], true> }
  : T extends object ? { [K in keyof T]: Check<T[K], false> }
  : Refused<Why<T>>;

/** The transport ladder, best first. */
export type RungName = 'wss' | 'ws' | 'sse' | 'longpoll';
export const LADDER: readonly RungName[] = ['wss', 'ws', 'sse', 'longpoll'];
