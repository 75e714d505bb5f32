/**
 * `text/event-stream` parsing, the part of the WHATWG algorithm wirefall needs: only `data`
 * matters; comments and the other fields are skipped. Fed decoded text in arbitrary chunks;
 * calls `dispatch` with each event's data. Returns how much of an event it holds (UTF-16 units of
 * its unfinished line and data): the caller bounds it (sse.ts).
 */
export function sseParser(dispatch: (data: string) => void): (chunk: string) => number {
  const eol = /\r\n?|\n/g;
  let line = '';
  let data: string | undefined;
  let cr = false;
  return (chunk) => {
    // A CR that ended the last chunk already ended its line; an LF right after it is the same break.
    let i = cr && chunk[0] === '\n' ? 1 : 0;
    eol.lastIndex = i;
    for (let m; (m = eol.exec(chunk)); i = eol.lastIndex) {
      const l = line + chunk.slice(i, m.index);
      line = '';
      if (!l) {
        if (data !== undefined) dispatch(data);
        data = undefined;
      } else if (/^data(:|$)/.test(l)) {
        // The pattern reads 5 characters, not the line: an event is a whole batch, tens of KB.
        const d = l.slice(l[5] === ' ' ? 6 : 5);
        data = data === undefined ? d : `${data}\n${d}`;
      }
    }
    // An empty chunk (the decoder holding back a split character) leaves `cr` as it was.
    if (chunk) cr = chunk[chunk.length - 1] === '\r';
    return (line += chunk.slice(i)).length + (data?.length ?? 0);
  };
}
