import { describe, expect, test } from 'vitest';
import { deriveRungs } from '../../src/core/rungs';
import { connect } from '../../src/index';

const names = (url: string, opts = {}) => deriveRungs(url, opts).map((r) => `${r.name} ${r.url}`);

describe('deriveRungs', () => {
  const LADDER = ['wss wss://example.com/wf?x=1', 'ws ws://example.com:8124/wf?x=1', 'sse http://example.com:8124/wf?x=1', 'longpoll http://example.com:8124/wf?x=1'];

  test('an http URL tries wss on 443 first, then ws, then the HTTP rungs', () => {
    expect(names('http://example.com:8124/wf?x=1')).toEqual(LADDER);
  });

  test('a fragment is dropped: WebSocket constructors refuse one, and the HTTP rungs\' query would land inside it', () => {
    expect(names('http://example.com:8124/wf?x=1#top')).toEqual(LADDER);
  });

  test('the secure port is configurable', () => {
    expect(names('ws://example.com/wf', { securePort: 8443 })[0]).toBe('wss wss://example.com:8443/wf');
  });

  test('a secure URL never tries plain ws', () => {
    expect(names('https://example.com/wf')).toEqual([
      'wss wss://example.com/wf',
      'sse https://example.com/wf',
      'longpoll https://example.com/wf',
    ]);
    expect(names('wss://example.com:9000/wf').map((n) => n.split(' ')[0])).toEqual(['wss', 'sse', 'longpoll']);
  });

  test('a page served over https never tries plain ws (mixed content)', () => {
    expect(names('http://example.com/wf', { pageUrl: 'https://example.com/app' }).some((n) => n.startsWith('ws '))).toBe(false);
  });

  test('a relative URL resolves against the page', () => {
    expect(names('/wf', { pageUrl: 'https://example.com/app/page' })).toEqual([
      'wss wss://example.com/wf',
      'sse https://example.com/wf',
      'longpoll https://example.com/wf',
    ]);
  });

  test('transports restricts the ladder', () => {
    expect(names('http://h/wf', { transports: ['ws', 'longpoll'] })).toEqual(['ws ws://h/wf', 'longpoll http://h/wf']);
  });

  test('bad URLs are typed errors', () => {
    expect(() => deriveRungs('nope')).toThrow(expect.objectContaining({ code: 'WF_INVALID' }));
    expect(() => deriveRungs('ftp://h/x')).toThrow(expect.objectContaining({ code: 'WF_INVALID' }));
  });
});

describe('connect() options', () => {
  test('an empty ladder is refused at once, not left connecting for ever', () => {
    expect(() => connect('http://h/wf', { transports: [] })).toThrow(expect.objectContaining({ code: 'WF_INVALID' }));
    expect(() => connect('http://h/wf', { transports: ['ws'], transportFactories: { ws: undefined } })).toThrow(
      expect.objectContaining({ code: 'WF_INVALID' }),
    );
  });
});
