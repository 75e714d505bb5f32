/** Issue 16, item 14: safe defaults. Without an allow-list, no Origin is echoed for CORS. */
import { afterEach, describe, expect, it } from 'vitest';
import { guardProcess } from '../support/guard';
import { cleanup, startServer, track } from '../support/harness';

guardProcess();
afterEach(cleanup);

const HELLO = encodeURIComponent('{"t":"hello","v":1}');

describe('CORS on the HTTP rungs', () => {
  it('with allowedOrigins unset, an arbitrary Origin is not echoed in Access-Control-Allow-Origin', async () => {
    const { server, url } = await startServer();
    track(server);
    for (const q of [`?t=lp&hello=${HELLO}`, '?t=lp&sid=x']) {
      const res = await fetch(url + q, { method: q.includes('sid') ? 'POST' : 'GET', headers: { Origin: 'https://evil.example' }, body: q.includes('sid') ? 'k\n[]' : undefined });
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
      await res.arrayBuffer();
    }
    const pre = await fetch(url + '?t=lp', { method: 'OPTIONS', headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'POST' } });
    expect(pre.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('with an allow-list, an allowed Origin is echoed and others are refused', async () => {
    const { server, url } = await startServer({ allowedOrigins: ['https://app.example'] });
    track(server);
    const ok = await fetch(`${url}?t=lp&hello=${HELLO}`, { headers: { Origin: 'https://app.example' } });
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://app.example');
    await ok.arrayBuffer();
    const no = await fetch(`${url}?t=lp&hello=${HELLO}`, { headers: { Origin: 'https://evil.example' } });
    expect(no.status).toBe(403);
    expect(no.headers.get('access-control-allow-origin')).toBeNull();
    await no.arrayBuffer();
  });
});
