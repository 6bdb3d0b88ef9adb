// The workbench's code editor: a CodeMirror 6 view set up for policy files
// (TOML config, Rhai rules, Fluent messages), with findings from the server's
// checks shown inline under the lines they are about.
//
// Exported API:
//   createEditor(opts)          -> EditorView
//   getDoc(view)                -> string
//   showFindings(view, list)    replaces the findings shown (underline + note + gutter dot)
//   focusFinding(view, finding) moves the cursor to a finding and scrolls to it
//   findingRange(state, f)      the document range a finding underlines
//   byteOffsetsToPositions(doc, offsets) UTF-8 byte offsets -> document positions

import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import {
  bracketMatching,
  HighlightStyle,
  indentOnInput,
  indentUnit,
  StreamLanguage,
  syntaxHighlighting,
} from "@codemirror/language";
import { toml } from "@codemirror/legacy-modes/mode/toml";
import { highlightSelectionMatches, search, searchKeymap } from "@codemirror/search";
import {
  EditorSelection,
  EditorState,
  RangeSet,
  StateEffect,
  StateField,
  type Extension,
  type Range,
  type Text,
} from "@codemirror/state";
import {
  Decoration,
  drawSelection,
  EditorView,
  gutter,
  GutterMarker,
  highlightActiveLine,
  highlightActiveLineGutter,
  keymap,
  lineNumbers,
  WidgetType,
  type DecorationSet,
} from "@codemirror/view";
import { tags } from "@lezer/highlight";
import { fluent } from "./fluent";
import { rhai } from "./rhai";

export type Language = "toml" | "rhai" | "ftl" | "text";

/** A diagnostic from the server's checks, as the Rust side reports it. */
export interface Finding {
  severity: "error" | "warning";
  code: string;
  message: string;
  help?: string | undefined;
  /** 1-based line. */
  line: number;
  /** 1-based column, in characters (Unicode scalar values). */
  column: number;
  /** Byte range (UTF-8) into the file's text, end exclusive. */
  span?: [number, number] | undefined;
}

export interface EditorOptions {
  parent: HTMLElement;
  doc: string;
  language: Language;
  /** Set as data-testid on the element that takes typing (.cm-content). */
  testid: string;
  /** Accessible name of the editor (aria-label on .cm-content). */
  label: string;
  readOnly?: boolean | undefined;
  /** Called with the whole text after each change made in the editor. */
  onChange?: ((text: string) => void) | undefined;
}

// ---------------------------------------------------------------------------
// Languages

const tomlLanguage = StreamLanguage.define(toml);

function languageExtension(language: Language): Extension {
  switch (language) {
    case "toml":
      return tomlLanguage;
    case "rhai":
      return rhai;
    case "ftl":
      return fluent;
    case "text":
      return [];
  }
}

// ---------------------------------------------------------------------------
// Positions

/** UTF-8 length of the UTF-16 code unit at `i` of `s` (a surrogate pair counts 4 on its first unit). */
function utf8Width(s: string, i: number): { bytes: number; units: number } {
  const c = s.charCodeAt(i);
  if (c < 0x80) return { bytes: 1, units: 1 };
  if (c < 0x800) return { bytes: 2, units: 1 };
  if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
    const d = s.charCodeAt(i + 1);
    if (d >= 0xdc00 && d <= 0xdfff) return { bytes: 4, units: 2 };
  }
  return { bytes: 3, units: 1 };
}

/**
 * Converts UTF-8 byte offsets into the document's text to document positions
 * (UTF-16 offsets), in one pass. An offset inside a multi-byte character maps
 * to that character's start; offsets past the end map to the document's end.
 * Line breaks count one byte each (the document's "\n").
 */
export function byteOffsetsToPositions(doc: Text, offsets: readonly number[]): number[] {
  const order = offsets.map((_, i) => i).sort((a, b) => (offsets[a] ?? 0) - (offsets[b] ?? 0));
  const result: number[] = new Array<number>(offsets.length).fill(doc.length);
  let k = 0;
  let bytes = 0;
  let pos = 0;
  const assign = (limit: number) => {
    // Assign every pending offset that is below `limit` bytes to `pos`.
    while (k < order.length) {
      const idx = order[k] as number;
      const off = Math.max(0, Math.floor(offsets[idx] ?? 0));
      if (off >= limit) return;
      result[idx] = pos;
      k++;
    }
  };
  const iter = doc.iter();
  while (k < order.length && !iter.next().done) {
    const chunk = iter.value;
    if (iter.lineBreak) {
      assign(bytes + 1);
      bytes += 1;
      pos += 1;
      continue;
    }
    for (let i = 0; i < chunk.length && k < order.length; ) {
      const w = utf8Width(chunk, i);
      assign(bytes + w.bytes);
      bytes += w.bytes;
      pos += w.units;
      i += w.units;
    }
  }
  return result;
}

/** The position of 1-based line and 1-based character column, clamped to the document. */
function lineColumnToPosition(doc: Text, line: number, column: number): number {
  const n = Math.min(Math.max(1, Math.floor(line) || 1), doc.lines);
  const l = doc.line(n);
  let pos = l.from;
  let remaining = Math.max(1, Math.floor(column) || 1) - 1;
  const text = l.text;
  let i = 0;
  while (remaining > 0 && i < text.length) {
    i += utf8Width(text, i).units;
    remaining--;
  }
  pos += i;
  return pos;
}

/** End of the word at `pos`, else the end of its line. */
function wordOrLineEnd(state: EditorState, pos: number): number {
  const word = state.wordAt(pos);
  if (word && word.to > pos) return word.to;
  return state.doc.lineAt(pos).to;
}

/**
 * The document range a finding refers to: its byte span when present and not
 * empty, else from line:column to the end of the word there (or of the line).
 */
export function findingRange(state: EditorState, finding: Finding): { from: number; to: number } {
  return findingRanges(state, [finding])[0] ?? { from: 0, to: 0 };
}

function findingRanges(state: EditorState, findings: readonly Finding[]): { from: number; to: number }[] {
  const doc = state.doc;
  const offsets: number[] = [];
  for (const f of findings) {
    if (f.span && f.span[1] > f.span[0]) offsets.push(f.span[0], f.span[1]);
  }
  const positions = byteOffsetsToPositions(doc, offsets);
  let p = 0;
  return findings.map((f) => {
    if (f.span && f.span[1] > f.span[0]) {
      const from = positions[p++] ?? doc.length;
      let to = positions[p++] ?? doc.length;
      // An end inside a multi-byte character rounds down; include that character.
      if (to <= from) to = Math.min(doc.length, from + 1);
      return { from, to };
    }
    const from = lineColumnToPosition(doc, f.line, f.column);
    return { from, to: wordOrLineEnd(state, from) };
  });
}

// ---------------------------------------------------------------------------
// Findings: state, decorations, gutter

class FindingWidget extends WidgetType {
  constructor(readonly finding: Finding) {
    super();
  }

  override eq(other: FindingWidget): boolean {
    const a = this.finding;
    const b = other.finding;
    return (
      a.severity === b.severity &&
      a.code === b.code &&
      a.message === b.message &&
      a.help === b.help &&
      a.line === b.line &&
      a.column === b.column
    );
  }

  toDOM(): HTMLElement {
    const f = this.finding;
    // The outer element has no margin (CodeMirror measures block widgets by
    // their border box, so margins would misalign the gutters); it pads the box.
    const outer = document.createElement("div");
    outer.className = `cm-finding cm-finding-note-${f.severity}`;
    outer.setAttribute("data-testid", "diagnostic");
    outer.setAttribute("role", "note");
    outer.setAttribute("data-severity", f.severity);
    outer.setAttribute("data-code", f.code);
    const box = document.createElement("div");
    box.className = "cm-finding-box";
    const head = document.createElement("span");
    head.className = "cm-finding-head";
    head.textContent = `${f.severity} [${f.code}] line ${f.line}, column ${f.column}: ${f.message}`;
    box.appendChild(head);
    if (f.help !== undefined && f.help !== "") {
      box.appendChild(document.createTextNode("\n"));
      const help = document.createElement("span");
      help.className = "cm-finding-help";
      help.textContent = `help: ${f.help}`;
      box.appendChild(help);
    }
    outer.appendChild(box);
    return outer;
  }

  override get estimatedHeight(): number {
    return this.finding.help ? 40 : 22;
  }
}

class FindingGutterMarker extends GutterMarker {
  constructor(readonly severity: Finding["severity"], readonly title: string) {
    super();
  }

  override eq(other: GutterMarker): boolean {
    return other instanceof FindingGutterMarker && other.severity === this.severity && other.title === this.title;
  }

  override toDOM(): Node {
    const dot = document.createElement("span");
    dot.className = `cm-finding-dot cm-finding-dot-${this.severity}`;
    dot.textContent = "●";
    dot.title = this.title;
    dot.setAttribute("aria-hidden", "true");
    return dot;
  }
}

interface FindingsValue {
  decorations: DecorationSet;
  gutter: RangeSet<GutterMarker>;
  /** Each finding shown, with its range mapped through the edits made since. */
  items: readonly { finding: Finding; from: number; to: number }[];
}

const setFindingsEffect = StateEffect.define<readonly Finding[]>();

function buildFindings(state: EditorState, findings: readonly Finding[]): FindingsValue {
  const ranges = findingRanges(state, findings);
  const decos: Range<Decoration>[] = [];
  const worst = new Map<number, { severity: Finding["severity"]; titles: string[] }>();
  findings.forEach((f, i) => {
    const r = ranges[i];
    if (!r) return;
    if (r.to > r.from) {
      decos.push(Decoration.mark({ class: `cm-finding-${f.severity}` }).range(r.from, r.to));
    }
    const line = state.doc.lineAt(r.from);
    decos.push(Decoration.widget({ widget: new FindingWidget(f), block: true, side: 1 }).range(line.to));
    const g = worst.get(line.from) ?? { severity: f.severity, titles: [] };
    if (f.severity === "error") g.severity = "error";
    g.titles.push(`${f.severity} [${f.code}]: ${f.message}`);
    worst.set(line.from, g);
  });
  const markers = [...worst].map(([from, g]) => new FindingGutterMarker(g.severity, g.titles.join("\n")).range(from));
  const items = findings.map((finding, i) => ({ finding, from: ranges[i]?.from ?? 0, to: ranges[i]?.to ?? 0 }));
  return { decorations: Decoration.set(decos, true), gutter: RangeSet.of(markers, true), items };
}

const findingsField = StateField.define<FindingsValue>({
  create: () => ({ decorations: Decoration.none, gutter: RangeSet.empty, items: [] }),
  update(value, tr) {
    let next = value;
    if (tr.docChanged) {
      const changes = tr.changes;
      next = {
        decorations: next.decorations.map(changes),
        gutter: next.gutter.map(changes),
        items: next.items.map(({ finding, from, to }) => {
          const f = changes.mapPos(from, 1);
          return { finding, from: f, to: Math.max(f, changes.mapPos(to, -1)) };
        }),
      };
    }
    for (const e of tr.effects) {
      if (e.is(setFindingsEffect)) next = buildFindings(tr.state, e.value);
    }
    return next;
  },
  provide: (field) => EditorView.decorations.from(field, (v) => v.decorations),
});

const findingsGutter = gutter({
  class: "cm-finding-gutter",
  markers: (view) => view.state.field(findingsField).gutter,
  initialSpacer: () => new FindingGutterMarker("warning", ""),
});

// ---------------------------------------------------------------------------
// Look

// One style for all three languages; every colour has at least 4.5:1 contrast on white.
const highlightStyle = HighlightStyle.define([
  { tag: [tags.keyword, tags.self], color: "#7a1fa2" },
  { tag: [tags.bool, tags.atom, tags.null, tags.labelName], color: "#0550ae" },
  { tag: [tags.number, tags.literal], color: "#0b6e3c" },
  { tag: [tags.string, tags.character], color: "#a31515" },
  { tag: [tags.special(tags.string), tags.escape, tags.regexp], color: "#9a3412" },
  { tag: [tags.lineComment, tags.blockComment, tags.comment], color: "#8a3f00", fontStyle: "italic" },
  { tag: tags.docComment, color: "#6b4a00", fontStyle: "italic" },
  { tag: [tags.function(tags.variableName), tags.function(tags.propertyName)], color: "#1d4ed8" },
  { tag: [tags.definition(tags.variableName), tags.definition(tags.propertyName)], color: "#0037b3", fontWeight: "bold" },
  { tag: tags.function(tags.definition(tags.variableName)), color: "#0037b3", fontWeight: "bold" },
  { tag: [tags.propertyName, tags.attributeName], color: "#0f5f6e" },
  { tag: [tags.namespace, tags.typeName, tags.special(tags.variableName)], color: "#0b6e5c" },
  { tag: tags.heading, color: "#0550ae", fontWeight: "bold" },
  { tag: tags.invalid, color: "#d1242f" },
]);

const theme = EditorView.theme({
  "&": {
    height: "100%",
    fontSize: "13px",
    backgroundColor: "#ffffff",
    color: "#1f2328",
  },
  "&.cm-focused": { outline: "2px solid #2563eb", outlineOffset: "-2px" },
  ".cm-scroller": {
    overflow: "auto",
    fontFamily: 'ui-monospace, "SFMono-Regular", "DejaVu Sans Mono", Menlo, Consolas, monospace',
    lineHeight: "1.45",
  },
  ".cm-content": { padding: "4px 0" },
  ".cm-gutters": { backgroundColor: "#f6f8fa", color: "#57606a", borderRight: "1px solid #d0d7de" },
  ".cm-activeLine": { backgroundColor: "#f1f5ff" },
  ".cm-activeLineGutter": { backgroundColor: "#e2e8f8", color: "#1f2328" },
  ".cm-finding-error": {
    textDecoration: "underline wavy #d1242f",
    textDecorationSkipInk: "none",
    textUnderlineOffset: "3px",
  },
  ".cm-finding-warning": {
    textDecoration: "underline wavy #bf8700",
    textDecorationSkipInk: "none",
    textUnderlineOffset: "3px",
  },
  // Width 0 and at least the content's: a long message wraps at the code's width rather than
  // widening the content (which would scroll the code under the gutter).
  ".cm-finding": { padding: "2px 8px 4px 4px", width: "0", minWidth: "100%", boxSizing: "border-box" },
  ".cm-finding-box": {
    whiteSpace: "pre-wrap",
    fontFamily: "system-ui, sans-serif",
    fontSize: "12px",
    lineHeight: "1.4",
    padding: "2px 8px",
    borderLeft: "3px solid",
    borderRadius: "2px",
  },
  ".cm-finding-note-error .cm-finding-box": { backgroundColor: "#ffebe9", color: "#82071e", borderColor: "#d1242f" },
  ".cm-finding-note-warning .cm-finding-box": { backgroundColor: "#fff8c5", color: "#5c3d00", borderColor: "#bf8700" },
  ".cm-finding-help": { color: "#1f2328" },
  ".cm-finding-gutter .cm-gutterElement": { padding: "0 2px", textAlign: "center" },
  ".cm-finding-dot": { fontSize: "10px" },
  ".cm-finding-dot-error": { color: "#d1242f" },
  ".cm-finding-dot-warning": { color: "#bf8700" },
});

// ---------------------------------------------------------------------------
// Editor

function buildState(opts: EditorOptions): EditorState {
  const onChange = opts.onChange;
  const readOnly = opts.readOnly === true;
  return EditorState.create({
    doc: opts.doc,
    extensions: [
      lineNumbers(),
      findingsGutter,
      highlightActiveLineGutter(),
      highlightActiveLine(),
      // Long comments and tables wrap: nothing of a line hides behind a horizontal scroll.
      EditorView.lineWrapping,
      history(),
      drawSelection(),
      indentUnit.of("    "), // the policies are indented with four spaces
      indentOnInput(),
      bracketMatching(),
      syntaxHighlighting(highlightStyle),
      search({ top: true }),
      highlightSelectionMatches(),
      keymap.of([...searchKeymap, ...historyKeymap, ...defaultKeymap, indentWithTab]),
      languageExtension(opts.language),
      findingsField,
      EditorState.readOnly.of(readOnly),
      EditorView.contentAttributes.of({
        "data-testid": opts.testid,
        "aria-label": opts.label,
        ...(readOnly ? { "aria-readonly": "true" } : {}),
      }),
      theme,
      onChange
        ? EditorView.updateListener.of((update) => {
            if (update.docChanged) onChange(update.state.doc.toString());
          })
        : [],
    ],
  });
}

/** Creates an editor in `opts.parent`. Its height follows the parent's. */
export function createEditor(opts: EditorOptions): EditorView {
  return new EditorView({ parent: opts.parent, state: buildState(opts) });
}

/** The whole text of the editor. */
export function getDoc(view: EditorView): string {
  return view.state.doc.toString();
}

/**
 * Shows `findings` inline, replacing those shown before: each range gets a
 * wavy underline, each finding a note (data-testid="diagnostic", role="note")
 * under its line, in the order given, and its line a dot in the gutter. They
 * move with edits until the next call. `showFindings(view, [])` clears them.
 */
export function showFindings(view: EditorView, findings: readonly Finding[]): void {
  view.dispatch({ effects: setFindingsEffect.of([...findings]) });
}

/**
 * Puts the cursor at the start of a finding's range, scrolls it into view and
 * focuses the editor. For a finding shown by showFindings (the same object, or
 * one with the same code, line, column and message) the range is where it has
 * moved with the edits since; for another one it is computed from the text.
 */
export function focusFinding(view: EditorView, finding: Finding): void {
  const items = view.state.field(findingsField).items;
  const shown =
    items.find((i) => i.finding === finding) ??
    items.find(
      (i) =>
        i.finding.code === finding.code &&
        i.finding.line === finding.line &&
        i.finding.column === finding.column &&
        i.finding.message === finding.message,
    );
  const { from } = shown ?? findingRange(view.state, finding);
  view.dispatch({
    selection: EditorSelection.cursor(from),
    effects: EditorView.scrollIntoView(from, { y: "center" }),
  });
  view.focus();
}
