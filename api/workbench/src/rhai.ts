// A CodeMirror stream language for Rhai, the scripting language policies are
// written in. It only tokenizes (for highlighting) and guesses indentation
// from bracket depth; it does not parse.

import { StreamLanguage, type StreamParser, type StringStream } from "@codemirror/language";

const DEFINITION_KEYWORDS = new Set(["let", "const", "fn"]);
const MODULE_KEYWORDS = new Set(["import", "export", "as", "private", "global"]);
const CONTROL_KEYWORDS = new Set([
  "if", "else", "return", "while", "loop", "do", "until", "for", "in", "break", "continue",
  "switch", "throw", "try", "catch",
]);

/** Where the tokenizer is when a line ends in the middle of something. */
type Mode =
  | { kind: "code"; braces: number } // inside `${ ... }` of a backtick string; braces = `{` open in it
  | { kind: "template" }; // inside the text of a backtick string

export interface RhaiState {
  /** Nesting depth of an unterminated block comment (0: not in one). */
  comment: number;
  /** Whether that block comment is a doc comment. */
  docComment: boolean;
  /** Inside a double-quoted string (continued past a line end only by a trailing backslash). */
  string: boolean;
  /** Stack of backtick-string / interpolation modes; empty at top level. */
  modes: Mode[];
  /** Previous significant token, to tell property names and definitions apart. */
  last: "dot" | "fn" | "let" | "other";
  /** Bracket depth, for indentation. */
  depth: number;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*/;
// 1, 1_000, 1.5, 1e-3, 0xff, 0o17, 0b1010. A dot must be followed by a digit,
// so `1..5` (range) and `1.abs()` are not read as floats.
const NUMBER =
  /^(?:0x[0-9A-Fa-f_]+|0o[0-7_]+|0b[01_]+|[0-9][0-9_]*(?:\.[0-9][0-9_]*)?(?:[eE][+-]?[0-9][0-9_]*)?)/;
const OPERATOR =
  /^(?:\?\?|=>|->|\*\*=?|<<=?|>>=?|[=!<>]=|&&|\|\||[-+*/%&|^]=?|[=<>!?~@#$])/;
const CHAR = /^'(?:\\(?:u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|x[0-9A-Fa-f]{2}|.)|[^\\'])'/u;

function tokenBlockComment(stream: StringStream, state: RhaiState): string {
  const style = state.docComment ? "docComment" : "blockComment";
  while (!stream.eol()) {
    if (stream.match("/*")) {
      state.comment++;
    } else if (stream.match("*/")) {
      state.comment--;
      if (state.comment === 0) break;
    } else {
      stream.next();
    }
  }
  return style;
}

/** Inside a "..." string: escapes get their own style; back to code at the closing quote. */
function tokenString(stream: StringStream, state: RhaiState): string {
  if (stream.eat("\\")) {
    if (stream.eol()) return "escape"; // line continuation: the string goes on on the next line
    if (stream.eat("u")) stream.match(/^[0-9A-Fa-f]{4}/);
    else if (stream.eat("U")) stream.match(/^[0-9A-Fa-f]{8}/);
    else if (stream.eat("x")) stream.match(/^[0-9A-Fa-f]{2}/);
    else stream.next();
    return "escape";
  }
  while (!stream.eol()) {
    const ch = stream.next();
    if (ch === '"') {
      state.string = false;
      return "string";
    }
    if (stream.peek() === "\\") return "string";
  }
  // Unterminated at the end of a line without a continuation backslash.
  state.string = false;
  return "string";
}

/** Inside the text of a backtick (literal, multi-line) string: no escapes, only `${ ... }`. */
function tokenTemplate(stream: StringStream, state: RhaiState): string {
  if (stream.match("${")) {
    state.modes.push({ kind: "code", braces: 0 });
    return "string.special";
  }
  while (!stream.eol()) {
    if (stream.match("``")) continue; // a doubled backtick stands for one backtick
    const ch = stream.peek();
    if (ch === "`") {
      stream.next();
      state.modes.pop();
      break;
    }
    if (ch === "$" && stream.string.charAt(stream.pos + 1) === "{") break;
    stream.next();
  }
  return "string.special";
}

function keywordStyle(word: string): string | null {
  if (DEFINITION_KEYWORDS.has(word)) return "definitionKeyword";
  if (MODULE_KEYWORDS.has(word)) return "moduleKeyword";
  if (CONTROL_KEYWORDS.has(word)) return "controlKeyword";
  if (word === "true" || word === "false") return "bool";
  if (word === "this") return "self";
  return null;
}

function tokenCode(stream: StringStream, state: RhaiState): string | null {
  if (stream.eatSpace()) return null;
  const top = state.modes[state.modes.length - 1];

  // Comments: `///` and `//!` are doc comments, `/** */` a doc block comment.
  if (stream.match(/^\/\/(?:\/(?!\/)|!)/)) {
    stream.skipToEnd();
    return "docComment";
  }
  if (stream.match("//")) {
    stream.skipToEnd();
    return "lineComment";
  }
  if (stream.match("/*")) {
    state.comment = 1;
    state.docComment = stream.match(/^\*(?![*/])/, false) !== null;
    return tokenBlockComment(stream, state);
  }

  const ch = stream.peek();
  if (ch === undefined) return null;

  // Strings and characters.
  if (ch === '"') {
    stream.next();
    state.string = !stream.eol(); // a quote at the very end of a line is unterminated
    state.last = "other";
    return "string";
  }
  if (ch === "`") {
    stream.next();
    state.modes.push({ kind: "template" });
    state.last = "other";
    return "string.special";
  }
  if (ch === "'" && stream.match(CHAR)) {
    state.last = "other";
    return "character";
  }

  if (/[0-9]/.test(ch) && stream.match(NUMBER)) {
    state.last = "other";
    return "number";
  }

  // Identifiers: keywords, definitions, calls, properties, module paths.
  const ident = stream.match(IDENT);
  if (ident) {
    const word = typeof ident === "boolean" ? stream.current() : ident[0];
    const last = state.last;
    state.last = "other";
    if (last !== "dot") {
      const kw = keywordStyle(word);
      if (kw !== null) {
        if (word === "fn") state.last = "fn";
        else if (word === "let" || word === "const") state.last = "let";
        return kw;
      }
    }
    const isCall = Boolean(stream.match(/^!?\s*\(/, false));
    if (last === "dot") return isCall ? "propertyName.function" : "propertyName";
    if (last === "fn") return "variableName.function.definition";
    if (last === "let") return "variableName.definition";
    if (stream.match(/^\s*::/, false)) return "namespace";
    if (isCall) return "variableName.function";
    return "variableName";
  }

  // Brackets, tracking `${ ... }` nesting inside backtick strings.
  if (ch === "{" || ch === "(" || ch === "[") {
    stream.next();
    state.depth++;
    if (ch === "{" && top?.kind === "code") top.braces++;
    state.last = "other";
    return ch === "{" ? "brace" : ch === "(" ? "paren" : "squareBracket";
  }
  if (ch === "}" || ch === ")" || ch === "]") {
    stream.next();
    state.last = "other";
    if (ch === "}" && top?.kind === "code") {
      if (top.braces === 0) {
        state.modes.pop(); // end of `${ ... }`: back to the backtick string's text
        return "string.special";
      }
      top.braces--;
    }
    state.depth = Math.max(0, state.depth - 1);
    return ch === "}" ? "brace" : ch === ")" ? "paren" : "squareBracket";
  }

  // Member access (`.`, `?.`) is followed by a property name; `..`, `..=` are ranges.
  if (stream.match(/^\.\.=?/)) {
    state.last = "other";
    return "operator";
  }
  if (stream.match(/^\??\./)) {
    state.last = "dot";
    return "derefOperator";
  }
  if (stream.match("::")) {
    state.last = "other";
    return "punctuation";
  }
  if (ch === "," || ch === ";" || ch === ":") {
    stream.next();
    state.last = "other";
    return ch === ";" ? "separator" : "punctuation";
  }
  state.last = "other";
  if (stream.match(OPERATOR)) return "operator";
  stream.next();
  return "invalid";
}

export const rhaiParser: StreamParser<RhaiState> = {
  name: "rhai",
  startState: () => ({ comment: 0, docComment: false, string: false, modes: [], last: "other", depth: 0 }),
  copyState: (s) => ({
    ...s,
    modes: s.modes.map((m): Mode => (m.kind === "code" ? { kind: "code", braces: m.braces } : { kind: "template" })),
  }),
  token(stream, state) {
    if (state.comment > 0) return tokenBlockComment(stream, state);
    if (state.string) return tokenString(stream, state);
    if (state.modes[state.modes.length - 1]?.kind === "template") return tokenTemplate(stream, state);
    return tokenCode(stream, state);
  },
  indent(state, textAfter, cx) {
    if (state.comment > 0 || state.string || state.modes[state.modes.length - 1]?.kind === "template") {
      return null;
    }
    const closing = /^[\])}]/.test(textAfter) ? 1 : 0;
    return Math.max(0, state.depth - closing) * cx.unit;
  },
  languageData: {
    commentTokens: { line: "//", block: { open: "/*", close: "*/" } },
    indentOnInput: /^\s*[\])}]$/,
  },
};

/** The Rhai language, for `new LanguageSupport(rhai)` or directly as an extension. */
export const rhai = StreamLanguage.define(rhaiParser);
