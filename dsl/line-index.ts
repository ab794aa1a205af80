// Offsets to file:line:col. Every range in the syntax tree and in diagnostics is computed here from
// token offsets, so the lexer, the parser and the checks never count lines themselves. A line ends
// at '\n' only ('\r\n' is a '\n' preceded by whitespace), the same rule the lexer's Newline token uses.
import type { Position, SourceRange } from '../core/diagnostic.js';

export class LineIndex {
  /** Offset of the first character of each line. */
  private readonly lineStarts: number[] = [0];

  constructor(
    readonly file: string,
    readonly text: string,
  ) {
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) this.lineStarts.push(i + 1);
  }

  /** 1-based line and column of a 0-based offset (clamped into the text). */
  position(offset: number): Position {
    const clamped = Math.max(0, Math.min(offset, this.text.length));
    let low = 0;
    let high = this.lineStarts.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (this.lineStarts[middle]! <= clamped) low = middle;
      else high = middle - 1;
    }
    return { offset: clamped, line: low + 1, column: clamped - this.lineStarts[low]! + 1 };
  }

  /** The range [start, end) of this file; end is the offset just after the last character. */
  range(start: number, end: number): SourceRange {
    return { file: this.file, start: this.position(start), end: this.position(Math.max(start, end)) };
  }
}
