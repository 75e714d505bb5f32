/**
 * `text/event-stream` parsing, the part of the WHATWG algorithm wirefall needs: only `data`
 * matters; comments and the other fields are skipped. Fed decoded text in arbitrary chunks;
 * calls `dispatch` with each event's data.
 */
export function sseParser(dispatch: (data: string) => void): (chunk: string) => void {
  const eol = /\r\n?|\n/g;
  let line = '';
  let data: string | undefined;
  let cr = false;
  return (chunk) => {
    if (!chunk) return;
    // A CR that ended the last chunk already ended its line; an LF right after it is the same break.
    let i = cr && chunk[0] === '\n' ? 1 : 0;
    eol.lastIndex = i;
    for (let m; (m = eol.exec(chunk)); i = eol.lastIndex) {
      const l = line + chunk.slice(i, m.index);
      line = '';
      if (!l) {
        if (data !== undefined) dispatch(data);
        data = undefined;
      } else {
        // dotAll: JSON keeps U+2028/U+2029 raw, and they are not line breaks here.
        const d = /^data(?:: ?(.*))?$/s.exec(l);
        if (d) data = data === undefined ? d[1] ?? '' : `${data}\n${d[1] ?? ''}`;
      }
    }
    cr = chunk[chunk.length - 1] === '\r';
    line += chunk.slice(i);
  };
}
