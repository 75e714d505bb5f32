import type { Transport, TransportContext, TransportFactory, TransportFailure } from '../../src/transports/transport';

/** A transport the test drives by hand: what the "server" says, and whether it failed. */
export class FakeTransport implements Transport {
  readonly sent: string[] = [];
  closed: { code?: number; reason?: string } | undefined;
  constructor(readonly ctx: TransportContext) {}
  get rung() {
    return this.ctx.rung.name;
  }
  /** Frames the client sent, decoded and flattened (hello included). */
  get frames(): Record<string, unknown>[] {
    return [this.ctx.hello, ...this.sent].flatMap((t) => {
      const v = JSON.parse(t);
      return Array.isArray(v) ? v : [v];
    });
  }
  send(text: string): void {
    this.sent.push(text);
  }
  close(code?: number, reason?: string): void {
    this.closed = { code, reason };
  }
  open(): this {
    this.ctx.events.open();
    return this;
  }
  receive(...frames: object[]): this {
    this.ctx.events.message(JSON.stringify(frames.length === 1 ? frames[0] : frames));
    return this;
  }
  greet(): this {
    return this.open().receive({ t: 'greet', v: [1] });
  }
  welcome(w: Partial<{ sid: string; key: string; hb: number; ack: number; resumed: boolean; max: number }> = {}): this {
    return this.receive({ t: 'welcome', v: 3, sid: 's1', key: 'k1', hb: 5000, ack: 0, resumed: false, max: 1024, ...w });
  }
  fail(f: TransportFailure): void {
    this.ctx.events.close(f);
  }
}

/** A factory that records every transport it makes. */
export function fakeTransports() {
  const made: FakeTransport[] = [];
  const factory: TransportFactory = (ctx) => {
    const t = new FakeTransport(ctx);
    made.push(t);
    return t;
  };
  return { made, factory, last: () => made[made.length - 1]! };
}
