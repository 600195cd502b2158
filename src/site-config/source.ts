import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { Errors } from '../shared/errors.js';

export type DataPath = readonly PropertyKey[];

/**
 * A parsed YAML file that remembers where each value came from, so that every message about it
 * can read `file:line: path: reason`. `file` is kept exactly as the caller gave it: a relative
 * path stays relative, which is what the operator typed and will recognise.
 */
export class YamlSource {
  /** The document as plain JS (maps become objects). */
  readonly value: unknown;

  private constructor(
    readonly file: string,
    private readonly doc: Document.Parsed,
    private readonly lines: LineCounter,
  ) {
    this.value = doc.toJS();
  }

  /**
   * Parses `text`; a syntax error throws CONFIG_INVALID as `file:line: message`. Only the first
   * error is reported: the ones after it are usually its fallout.
   */
  static parse(text: string, file: string): YamlSource {
    const lines = new LineCounter();
    // Merge keys (`<<: *base`) are on because PyYAML, and so OCS, accepts them.
    const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, merge: true });
    const [first] = doc.errors;
    if (first) throw Errors.CONFIG_INVALID(`${file}:${lineAt(lines, first.pos[0])}: ${first.message}`);
    try {
      return new YamlSource(file, doc, lines);
    } catch (err) {
      // toJS throws on alias bombs; that is the file's fault, not ours.
      throw Errors.CONFIG_INVALID(`${file}:1: ${(err as Error).message}`);
    }
  }

  /**
   * 1-based line of the deepest node that exists along `path`. A mapping entry reports its key's
   * line (a block value may start on a later line than the key the operator is looking for).
   */
  lineOf(path: DataPath): number {
    let node: unknown = this.doc.contents;
    let offset = rangeStart(node) ?? 0;
    for (const segment of path) {
      node = this.resolve(node);
      if (isMap(node)) {
        const pair = this.findPair(node, String(segment));
        if (!pair) break;
        offset = rangeStart(pair.key) ?? offset;
        node = pair.value;
      } else if (isSeq(node) && typeof segment === 'number' && node.items[segment] !== undefined) {
        node = node.items[segment];
        offset = rangeStart(node) ?? offset;
      } else {
        break;
      }
    }
    return lineAt(this.lines, offset);
  }

  /** `file:line: path: reason`, the one format of every SCF error and warning. */
  at(path: DataPath, reason: string): string {
    const where = formatPath(path);
    return `${this.file}:${this.lineOf(path)}: ${where ? `${where}: ` : ''}${reason}`;
  }

  private resolve(node: unknown): unknown {
    return isAlias(node) ? node.resolve(this.doc) : node;
  }

  /** Finds `key` in `map`, then in what its `<<` merge keys bring in, as toJS does. */
  private findPair(map: unknown, key: string): { key: unknown; value: unknown } | undefined {
    if (!isMap(map)) return undefined;
    const own = map.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
    if (own) return own;
    for (const pair of map.items) {
      if (!isScalar(pair.key) || typeof pair.key.value !== 'symbol') continue;
      const source = this.resolve(pair.value);
      const bases = isSeq(source) ? source.items.map((i) => this.resolve(i)) : [source];
      for (const base of bases) {
        const found = this.findPair(base, key);
        if (found) return found;
      }
    }
    return undefined;
  }
}

/** `hosts.lab1.agent-instances[2].instance-id`; keys that would read ambiguously are quoted. */
export function formatPath(path: DataPath): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else {
      const key = String(segment);
      out += /^[\w-]+$/.test(key) ? `${out ? '.' : ''}${key}` : `[${JSON.stringify(key)}]`;
    }
  }
  return out;
}

function rangeStart(node: unknown): number | undefined {
  return (node as Node | null)?.range?.[0];
}

function lineAt(lines: LineCounter, offset: number): number {
  return Math.max(1, lines.linePos(offset).line);
}
