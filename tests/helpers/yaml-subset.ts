/**
 * A parser for the subset of YAML this repository's deployment files use (no YAML package is a
 * dependency): block mappings and sequences, flow sequences and mappings (`[a, "b"]`,
 * `{ k: v }`), plain, single- and double-quoted scalars, comments, anchors (`&a`), aliases (`*a`)
 * and merge keys (`<<: *a`). Anything outside the subset (block scalars `|`/`>`, multi-document
 * streams, tags, complex keys) throws, so a file that strays from it fails its test loudly
 * instead of being read wrong.
 */
type Node = unknown;
interface Line {
  indent: number;
  text: string;
  no: number;
}

export function parseYamlSubset(source: string): Node {
  const lines: Line[] = [];
  source.split(/\r?\n/).forEach((raw, i) => {
    const text = stripComment(raw).trimEnd();
    if (!text.trim()) return;
    if (/^\s*(---|\.\.\.)\s*$/.test(text)) throw new Error(`line ${i + 1}: multi-document streams are outside the subset`);
    if (/\t/.test(text.match(/^\s*/)![0])) throw new Error(`line ${i + 1}: tab indentation`);
    lines.push({ indent: text.length - text.trimStart().length, text: text.trim(), no: i + 1 });
  });
  const anchors = new Map<string, Node>();
  let pos = 0;

  const fail = (line: Line | undefined, why: string): never => {
    throw new Error(`line ${line?.no ?? 'end'}: ${why}`);
  };

  function block(indent: number): Node {
    const first = lines[pos];
    if (!first || first.indent < indent) return null;
    return first.text === '-' || first.text.startsWith('- ') ? sequence(first.indent) : mapping(first.indent);
  }

  function sequence(indent: number): Node[] {
    const out: Node[] = [];
    while (pos < lines.length && lines[pos]!.indent === indent && (lines[pos]!.text === '-' || lines[pos]!.text.startsWith('- '))) {
      const line = lines[pos++]!;
      const rest = line.text.slice(1).trim();
      if (/^[^'"[{]*:( |$)/.test(rest)) fail(line, 'mappings inside block sequences are outside the subset');
      out.push(value(rest, line, indent));
    }
    return out;
  }

  function mapping(indent: number): Record<string, Node> {
    const out: Record<string, Node> = {};
    const explicit = new Set<string>();
    while (pos < lines.length && lines[pos]!.indent === indent) {
      const line = lines[pos++]!;
      const m = line.text.match(/^("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^'"\s][^:]*?):(?: (.*))?$/);
      if (!m) fail(line, `not a "key: value" line: ${line.text}`);
      const key = String(scalar(m![1]!, line));
      const v = value((m![2] ?? '').trim(), line, indent);
      if (key === '<<') {
        const sources = Array.isArray(v) ? v : [v];
        for (const src of sources) {
          if (typeof src !== 'object' || src === null || Array.isArray(src)) fail(line, 'a merge key takes a mapping');
          for (const [k, x] of Object.entries(src as object)) if (!explicit.has(k)) out[k] = x;
        }
        continue;
      }
      if (explicit.has(key)) fail(line, `duplicate key ${key}`);
      explicit.add(key);
      out[key] = v;
    }
    if (pos < lines.length && lines[pos]!.indent > indent) fail(lines[pos], 'unexpected indentation');
    return out;
  }

  /** The value after `key:` or `- `: inline, or the block that follows with more indentation. */
  function value(rest: string, line: Line, indent: number): Node {
    let anchor: string | undefined;
    const a = rest.match(/^&([\w-]+)\s*(.*)$/);
    if (a) {
      anchor = a[1];
      rest = a[2]!;
    }
    let v: Node;
    if (rest === '') {
      const next = lines[pos];
      v = next && next.indent > indent ? block(next.indent) : null;
    } else if (rest.startsWith('*')) {
      const name = rest.slice(1);
      if (!anchors.has(name)) fail(line, `unknown alias *${name}`);
      v = structuredClone(anchors.get(name));
    } else if (rest === '|' || rest === '>' || /^[|>][-+0-9]*$/.test(rest) || rest.startsWith('!')) {
      v = fail(line, 'block scalars and tags are outside the subset');
    } else if (rest.startsWith('[') || rest.startsWith('{')) {
      const f = new Flow(rest, line);
      v = f.value();
      f.end();
    } else v = scalar(rest, line);
    if (anchor) anchors.set(anchor, v);
    return v;
  }

  const root = block(0);
  if (pos < lines.length) fail(lines[pos], 'unexpected content');
  return root;
}

/** Drops a comment: `#` at the start or after a space, outside quotes. */
function stripComment(raw: string): string {
  let quote: string | null = null;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (quote) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#' && (i === 0 || /\s/.test(raw[i - 1]!))) return raw.slice(0, i);
  }
  return raw;
}

function scalar(text: string, line: Line): Node {
  const t = text.trim();
  if (t.startsWith('"')) {
    if (!t.endsWith('"') || t.length < 2) throw new Error(`line ${line.no}: unterminated string`);
    return JSON.parse(t) as string;
  }
  if (t.startsWith("'")) {
    if (!t.endsWith("'") || t.length < 2) throw new Error(`line ${line.no}: unterminated string`);
    return t.slice(1, -1).replace(/''/g, "'");
  }
  if (t === '' || t === '~' || t === 'null') return null;
  if (t === 'true') return true;
  if (t === 'false') return false;
  if (/^-?\d+(\.\d+)?$/.test(t)) return Number(t);
  return t;
}

/** Flow collections on one line: `[a, "b", { k: v }]`. */
class Flow {
  private i = 0;
  constructor(
    private readonly s: string,
    private readonly line: Line,
  ) {}
  private ws() {
    while (this.s[this.i] === ' ') this.i++;
  }
  private fail(why: string): never {
    throw new Error(`line ${this.line.no}: ${why} at column ${this.i + 1}`);
  }
  end() {
    this.ws();
    if (this.i !== this.s.length) this.fail('unexpected text after a flow collection');
  }
  value(): Node {
    this.ws();
    const c = this.s[this.i];
    if (c === '[') {
      this.i++;
      const out: Node[] = [];
      this.ws();
      if (this.s[this.i] === ']') return this.i++, out;
      for (;;) {
        out.push(this.value());
        this.ws();
        const d = this.s[this.i++];
        if (d === ']') return out;
        if (d !== ',') this.fail('expected , or ]');
      }
    }
    if (c === '{') {
      this.i++;
      const out: Record<string, Node> = {};
      this.ws();
      if (this.s[this.i] === '}') return this.i++, out;
      for (;;) {
        const key = String(this.value());
        this.ws();
        if (this.s[this.i++] !== ':') this.fail('expected :');
        out[key] = this.value();
        this.ws();
        const d = this.s[this.i++];
        if (d === '}') return out;
        if (d !== ',') this.fail('expected , or }');
      }
    }
    if (c === '"' || c === "'") {
      let j = this.i + 1;
      while (j < this.s.length && this.s[j] !== c) j += this.s[j] === '\\' && c === '"' ? 2 : 1;
      if (j >= this.s.length) this.fail('unterminated string');
      const text = this.s.slice(this.i, j + 1);
      this.i = j + 1;
      return scalar(text, this.line);
    }
    const m = this.s.slice(this.i).match(/^[^,\]}:]*(?::(?! )[^,\]}:]*)*/);
    const text = m![0];
    if (!text.trim()) this.fail('expected a value');
    this.i += text.length;
    return scalar(text, this.line);
  }
}
