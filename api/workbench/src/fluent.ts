// A small CodeMirror stream language for Fluent (.ftl) message files: comments,
// message and term ids, attributes, placeables `{ $var }`, select expressions
// and their variants `[one]` / `*[other]`. Highlighting only; no validation.

import { StreamLanguage, type StreamParser, type StringStream } from "@codemirror/language";

/** An open placeable `{ ... }`. */
interface Placeable {
  /** After `->`: the lines inside are variants. */
  select: boolean;
  /** In the text (pattern) of a variant, rather than in an expression. */
  variantText: boolean;
}

export interface FluentState {
  /** Open placeables, innermost last. Empty: in a message's text or between entries. */
  stack: Placeable[];
  /** Just read an entry id or attribute name; the `=` comes next. */
  expectEquals: boolean;
}

const ID = /^[A-Za-z][A-Za-z0-9_-]*/;

/** Pattern text (a message value or a variant's value) up to the next placeable. */
function tokenText(stream: StringStream, state: FluentState): string {
  if (stream.eat("{")) {
    state.stack.push({ select: false, variantText: false });
    return "brace";
  }
  const top = state.stack[state.stack.length - 1];
  while (!stream.eol()) {
    const ch = stream.peek();
    if (ch === "{") break;
    if (ch === "}" && top) break; // closes the select expression this variant is in
    stream.next();
  }
  return "string";
}

function tokenExpression(stream: StringStream, state: FluentState, top: Placeable): string | null {
  if (stream.eatSpace()) return null;
  const ch = stream.peek();
  if (ch === undefined) return null;

  if (ch === "}") {
    stream.next();
    state.stack.pop();
    return "brace";
  }
  if (ch === "{") {
    stream.next();
    state.stack.push({ select: false, variantText: false });
    return "brace";
  }
  if (stream.match("->")) {
    top.select = true;
    return "operator";
  }
  if (top.select && stream.match(/^\*?\[\s*[^\]\s]*\s*\]/)) {
    top.variantText = true;
    return "labelName";
  }
  if (ch === '"') {
    stream.next();
    while (!stream.eol()) {
      const c = stream.next();
      if (c === "\\") stream.next();
      else if (c === '"') break;
    }
    return "string";
  }
  if (stream.match(/^-?[0-9]+(?:\.[0-9]+)?/)) return "number";
  if (ch === "$") {
    stream.next();
    stream.match(ID);
    return "variableName";
  }
  if (ch === "-" && stream.match(/^-[A-Za-z][A-Za-z0-9_-]*/)) return "variableName.special";
  if (ch === ".") {
    stream.next();
    stream.match(ID);
    return "propertyName";
  }
  const id = stream.match(ID);
  if (id) {
    if (stream.match(/^\s*\(/, false)) return "variableName.function"; // NUMBER(...), DATETIME(...)
    if (stream.match(/^\s*:/, false)) return "attributeName"; // named argument
    return "variableName"; // message reference
  }
  stream.next();
  return ch === "(" || ch === ")" ? "paren" : ch === "," || ch === ":" ? "punctuation" : "invalid";
}

export const fluentParser: StreamParser<FluentState> = {
  name: "fluent",
  startState: () => ({ stack: [], expectEquals: false }),
  copyState: (s) => ({ stack: s.stack.map((p) => ({ ...p })), expectEquals: s.expectEquals }),
  token(stream, state) {
    let top = state.stack[state.stack.length - 1];

    if (stream.sol()) {
      state.expectEquals = false;
      if (!top) {
        // Entries start in column 0: comments, `message-id =`, `-term-id =`.
        if (stream.match(/^#{1,3}(?=\s|$)/)) {
          stream.skipToEnd();
          return "lineComment";
        }
        if (stream.match(/^-?[A-Za-z][A-Za-z0-9_-]*(?=\s*=)/)) {
          state.expectEquals = true;
          return stream.current().startsWith("-") ? "variableName.special.definition" : "variableName.definition";
        }
        if (stream.eatSpace()) return null; // continuation line of a value, or an attribute
      } else if (top.select) {
        // Inside a select expression, a new line is a variant, the closing `}`,
        // or more text of the current variant.
        if (stream.eatSpace()) return null;
        if (stream.match(/^\*?\[/, false) || stream.peek() === "}") top.variantText = false;
      }
    }

    if (state.expectEquals) {
      if (stream.eatSpace()) return null;
      if (stream.eat("=")) {
        state.expectEquals = false;
        return "definitionOperator";
      }
      state.expectEquals = false;
    }

    top = state.stack[state.stack.length - 1];
    if (!top) {
      // `.attribute =` on an indented line of a message.
      const lineStart = stream.string.slice(0, stream.pos).trim() === "";
      if (lineStart && stream.match(/^\.[A-Za-z][A-Za-z0-9_-]*(?=\s*=)/)) {
        state.expectEquals = true;
        return "propertyName.definition";
      }
      return tokenText(stream, state);
    }
    if (top.variantText) {
      if (stream.peek() === "}") {
        top.variantText = false;
        return tokenExpression(stream, state, top);
      }
      return tokenText(stream, state);
    }
    return tokenExpression(stream, state, top);
  },
  languageData: {
    commentTokens: { line: "#" },
  },
};

/** The Fluent language, for `new LanguageSupport(fluent)` or directly as an extension. */
export const fluent = StreamLanguage.define(fluentParser);
