/**
 * A cursor over datapath flow/action text (`name(args),name(args)`), shared by the
 * key and action parsers. It knows parentheses, commas and `=`; what the tokens mean
 * is the parsers' business. Every failure is an OdpParseError with the offset.
 */
import { type DatapathErrorCode, OdpParseError } from "./errors.js";

export class OdpCursor {
  pos = 0;
  constructor(
    readonly text: string,
    private readonly code: DatapathErrorCode,
  ) {}

  fail(message: string): never {
    throw new OdpParseError(this.code, message, this.text, this.pos);
  }

  atEnd(): boolean {
    this.skipSpace();
    return this.pos >= this.text.length;
  }

  skipSpace(): void {
    while (
      this.pos < this.text.length &&
      (this.text[this.pos] === " " || this.text[this.pos] === "\t")
    )
      this.pos++;
  }

  peek(): string {
    this.skipSpace();
    return this.text[this.pos] ?? "";
  }

  /** Consumes `s` if it comes next. */
  eat(s: string): boolean {
    this.skipSpace();
    if (this.text.startsWith(s, this.pos)) {
      this.pos += s.length;
      return true;
    }
    return false;
  }

  expect(s: string): void {
    if (!this.eat(s)) this.fail(`expected "${s}"`);
  }

  /** A name: letters, digits, `_`, `-`, `.`. */
  name(): string {
    this.skipSpace();
    const m = /^[A-Za-z_][A-Za-z0-9_.-]*/.exec(this.text.slice(this.pos));
    if (!m) this.fail("expected a name");
    this.pos += m[0].length;
    return m[0];
  }

  /** Text up to the next `,` `)` or `/` at this nesting level (a value). */
  value(stopAtSlash = true): string {
    this.skipSpace();
    const start = this.pos;
    let depth = 0;
    while (this.pos < this.text.length) {
      const c = this.text[this.pos];
      if (c === "(") depth++;
      else if (c === ")") {
        if (depth === 0) break;
        depth--;
      } else if (depth === 0 && (c === "," || (stopAtSlash && c === "/"))) break;
      this.pos++;
    }
    return this.text.slice(start, this.pos).trim();
  }

  /** The raw text inside balanced parentheses; the cursor must be just past `(`. */
  balanced(): string {
    const start = this.pos;
    let depth = 0;
    while (this.pos < this.text.length) {
      const c = this.text[this.pos];
      if (c === "(") depth++;
      else if (c === ")") {
        if (depth === 0) return this.text.slice(start, this.pos);
        depth--;
      }
      this.pos++;
    }
    return this.fail("unbalanced parentheses");
  }
}

/** OVS's integer scanning: `0x` hex, else decimal; null when not a number in range. */
export function parseUint(text: string, max = 0xffffffff): number | null {
  const t = text.trim();
  let v: number;
  if (/^0[xX][0-9a-fA-F]+$/.test(t)) v = Number.parseInt(t.slice(2), 16);
  else if (/^[0-9]+$/.test(t)) v = Number.parseInt(t, 10);
  else return null;
  return v <= max ? v : null;
}
