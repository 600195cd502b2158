/**
 * Where a key is written in a TOML file. smol-toml gives positions only for syntax errors, so for
 * a value that parses but fails validation we scan the text: table headers (`[a.b]`) set the
 * current table, and `key = ...` lines name `table.key`. That covers every file the agent2 format
 * produces; a key inside an inline table or a multi-line array is reported at its parent's line.
 */

type KeyPath = readonly (string | number)[];

interface Entry {
  path: string[];
  line: number;
  header: boolean;
}

const HEADER = /^\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$/;
const KEY = /^((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*=/;

function splitDotted(dotted: string): string[] {
  const parts = dotted.match(/"[^"]*"|'[^']*'|[^.\s]+/g) ?? [];
  return parts.map((p) => (/^["']/.test(p) ? p.slice(1, -1) : p));
}

/** Every header and key line of the file, with the full path it defines. */
function entries(text: string): Entry[] {
  const found: Entry[] = [];
  let table: string[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    const header = HEADER.exec(line);
    if (header) {
      table = splitDotted(header[1]!);
      found.push({ path: table, line: i + 1, header: true });
      return;
    }
    const key = KEY.exec(line);
    if (key) found.push({ path: [...table, ...splitDotted(key[1]!)], line: i + 1, header: false });
  });
  return found;
}

const samePath = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((s, i) => s === b[i]);

/**
 * 1-based line of the deepest written key along `path` (array indexes end the search: a list
 * element is reported at its key). A key that is missing points at its table's header; 1 when
 * nothing along the path is written.
 */
export function lineOfKey(text: string, path: KeyPath): number {
  const all = entries(text);
  const names: string[] = [];
  for (const segment of path) {
    if (typeof segment !== 'string') break;
    names.push(segment);
  }
  for (let n = names.length; n > 0; n--) {
    const hit = all.find((e) => samePath(e.path, names.slice(0, n)));
    if (hit) return hit.line;
  }
  return 1;
}

/** The dotted key defined on `line` or, failing that, the table it is in (for syntax errors). */
export function keyAtLine(text: string, line: number): string | null {
  let table: Entry | null = null;
  for (const entry of entries(text)) {
    if (entry.line > line) break;
    if (entry.line === line) return entry.path.join('.');
    if (entry.header) table = entry;
  }
  return table ? table.path.join('.') : null;
}
