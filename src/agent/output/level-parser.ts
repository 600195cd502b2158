/**
 * The agent output protocol (REFERENCE 2.3), one parser per stream: `N::text` is one message at
 * level N; a line that is exactly `N:::` opens a multi-line message closed by a line that is
 * exactly `:::`; any other line is a message at the stream's own level (1 stdout, 2 stderr).
 * Pure: text in, messages out. Empty unprefixed lines carry nothing and are dropped (they still
 * count in the stream tails, which are kept elsewhere).
 */

export interface OutputMessage {
  level: number;
  text: string;
}

const SINGLE = /^(\d{1,2})::(.*)$/s;
const MULTI_OPEN = /^(\d{1,2}):::$/;
const MULTI_CLOSE = ':::';

const isLevel = (n: number) => n >= 1 && n <= 30;

export class LevelParser {
  private partial = '';
  private multi: { level: number; lines: string[]; size: number } | null = null;

  /**
   * @param plainLevel level of unprefixed lines: 1 for stdout, 2 for stderr.
   * @param maxMessage characters kept of one message; a line longer than this without a newline
   *   is cut into pieces so a process that never writes `\n` cannot grow the buffer forever.
   */
  constructor(
    private readonly plainLevel: number,
    private readonly maxMessage = 1024 * 1024,
  ) {}

  push(chunk: string): OutputMessage[] {
    const out: OutputMessage[] = [];
    const pieces = (this.partial + chunk).split('\n');
    this.partial = pieces.pop() ?? '';
    for (const line of pieces) this.line(line.endsWith('\r') ? line.slice(0, -1) : line, out);
    while (this.partial.length > this.maxMessage) {
      this.line(this.partial.slice(0, this.maxMessage), out);
      this.partial = this.partial.slice(this.maxMessage);
    }
    return out;
  }

  /** The stream ended: a last line without newline counts, and an open multi-line message ends. */
  end(): OutputMessage[] {
    const out: OutputMessage[] = [];
    if (this.partial !== '') this.line(this.partial, out);
    this.partial = '';
    if (this.multi) out.push(this.closeMulti());
    return out;
  }

  private line(line: string, out: OutputMessage[]): void {
    if (this.multi) {
      if (line === MULTI_CLOSE) out.push(this.closeMulti());
      else if (this.multi.size < this.maxMessage) {
        this.multi.lines.push(line);
        this.multi.size += line.length + 1;
      }
      return;
    }
    const open = MULTI_OPEN.exec(line);
    if (open && isLevel(Number(open[1]))) {
      this.multi = { level: Number(open[1]), lines: [], size: 0 };
      return;
    }
    const single = SINGLE.exec(line);
    if (single && isLevel(Number(single[1]))) out.push({ level: Number(single[1]), text: single[2]! });
    else if (line !== '') out.push({ level: this.plainLevel, text: line });
  }

  private closeMulti(): OutputMessage {
    const { level, lines } = this.multi!;
    this.multi = null;
    return { level, text: lines.join('\n').slice(0, this.maxMessage) };
  }
}
