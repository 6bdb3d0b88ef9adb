// Two versions side by side: the files line by line, the terms and tables that differ, and the
// decisions that change on the cases.

import { path } from "../api";
import { field, h, replace } from "../dom";
import type { Context } from "../workspace";

interface FileDiff {
  name: string;
  status: string;
  from: string | null;
  to: string | null;
}
interface TermDiff {
  name: string;
  kind: string;
  unit: string | null;
  from: unknown;
  to: unknown;
}
interface TableDiff {
  name: string;
  status: string;
  from: unknown;
  to: unknown;
}
type CaseDecision = { reward: string; premium_adjustment_percent: string; qualified: boolean; tier: string | null } | { error: string };
interface CaseDiff {
  case: string;
  description: string;
  from: CaseDecision;
  to: CaseDecision;
  changed: boolean;
  from_renewed: boolean;
}
export interface VersionsDiff {
  policy_id: string;
  from: string;
  to: string;
  files: FileDiff[];
  terms: TermDiff[];
  tables: TableDiff[];
  cases: CaseDiff[];
  cases_changed: number;
  cases_not_run: number;
}

export function versionsPanel(ctx: Context): HTMLElement {
  const all = ctx.versions().map((v) => v.version);
  const open = ctx.version()?.version;
  const pick = (testid: string, selected: string | undefined): HTMLSelectElement =>
    h("select", { "data-testid": testid }, all.map((v) => h("option", { value: v, selected: v === selected }, v)));
  const other = all.filter((v) => v !== open);
  const from = pick("diff-from", other[other.length - 1] ?? open);
  const to = pick("diff-to", open);
  const out = h("div", { "data-testid": "diff-result" });
  const compare = h("button", { type: "button", "data-testid": "compare" }, "Compare");
  compare.addEventListener("click", () => {
    compare.disabled = true;
    ctx.api
      .call<VersionsDiff>("GET", diffPath(ctx.policyId(), from.value, to.value))
      .then((d) => replace(out, render(d)))
      .catch((e: unknown) => ctx.fail(e))
      .finally(() => (compare.disabled = false));
  });
  if (all.length < 2) return h("p", { class: "hint" }, "One version so far: nothing to compare it with.");
  return h("div", {}, h("div", { class: "row" }, field("From", from), field("To", to), compare), out);
}

/** `GET /v1/policies/{id}/diff?from=&to=`, every part escaped. */
export const diffPath = (policy: string, from: string, to: string): string =>
  `${path`/v1/policies/${policy}/diff`}?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`;

const show = (v: unknown): string => (v === null || v === undefined ? "—" : typeof v === "string" ? v : JSON.stringify(v));

function render(d: VersionsDiff): HTMLElement {
  const changedFiles = d.files.filter((f) => f.status !== "same");
  return h(
    "div",
    {},
    h("h3", {}, `Terms (${d.terms.length} differ)`),
    d.terms.length
      ? h(
          "table",
          { "data-testid": "diff-terms" },
          h("tr", {}, h("th", {}, "term"), h("th", {}, d.from), h("th", {}, d.to)),
          d.terms.map((t) => h("tr", {}, h("td", {}, t.name, t.unit ? ` (${t.unit})` : ""), h("td", { class: "old" }, show(t.from)), h("td", { class: "new" }, show(t.to)))),
        )
      : h("p", {}, "The same terms."),
    h("h3", {}, `Tables (${d.tables.length} differ)`),
    d.tables.map((t) => h("details", {}, h("summary", {}, `${t.name}: ${t.status}`), h("div", { class: "side-by-side" }, h("pre", { class: "old" }, show(t.from)), h("pre", { class: "new" }, show(t.to))))),
    caseChanges(d),
    h("h3", {}, `Files (${changedFiles.length} differ)`),
    changedFiles.map((f) => h("details", { "data-testid": "diff-file" }, h("summary", {}, `${f.name}: ${f.status}`), sideBySide(f.from ?? "", f.to ?? ""))),
  );
}

/** The cases decided by both versions, those whose decision changes first. */
export function caseChanges(d: VersionsDiff): HTMLElement {
  const decision = (c: CaseDecision): string =>
    "error" in c ? `error: ${c.error}` : `${c.reward}${c.tier ? ` · ${c.tier}` : ""}${Number(c.premium_adjustment_percent) !== 0 ? ` · premium ${c.premium_adjustment_percent} %` : ""}`;
  const rows = d.cases.slice().sort((a, b) => Number(b.changed) - Number(a.changed));
  return h(
    "div",
    {},
    h("h3", { "data-testid": "cases-changed" }, `Decisions on the cases: ${d.cases_changed} of ${d.cases.length} change from ${d.from} to ${d.to}`),
    d.cases_not_run ? h("p", {}, `${d.cases_not_run} more cases were not run (the server's limit).`) : null,
    h(
      "table",
      { class: "cases" },
      h("tr", {}, h("th", {}, "case"), h("th", {}, d.from), h("th", {}, d.to)),
      rows.map((c) =>
        h("tr", { class: c.changed ? "changed" : "" }, h("td", {}, c.case.replace(/^cases\//, "").replace(/\.toml$/, "")), h("td", {}, decision(c.from), c.from_renewed ? h("small", { title: `The case's period is past ${d.from}'s end date: decided with ${d.from} renewed unchanged` }, " (renewed)") : null), h("td", {}, decision(c.to))),
      ),
    ),
  );
}

/** Lines past which a file is shown whole rather than diffed line by line. */
const DIFF_LINES_MAX = 1500;

/** Two columns, lines aligned by their longest common subsequence; changed lines marked. */
function sideBySide(from: string, to: string): HTMLElement {
  const a = from.split("\n");
  const b = to.split("\n");
  const left = h("pre", { class: "old" });
  const right = h("pre", { class: "new" });
  const line = (pre: HTMLElement, text: string, kind: string): void => {
    pre.append(h("span", { class: `line ${kind}` }, text === "" ? " " : text), "\n");
  };
  if (a.length > DIFF_LINES_MAX || b.length > DIFF_LINES_MAX) {
    a.forEach((t) => line(left, t, ""));
    b.forEach((t) => line(right, t, ""));
    return h("div", { class: "side-by-side" }, left, right);
  }
  // lcs[i][j]: the longest common subsequence of a[i..] and b[j..].
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    const row = lcs[i] ?? [];
    const below = lcs[i + 1] ?? [];
    for (let j = b.length - 1; j >= 0; j--) row[j] = a[i] === b[j] ? (below[j + 1] ?? 0) + 1 : Math.max(below[j] ?? 0, row[j + 1] ?? 0);
  }
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      line(left, a[i] ?? "", "");
      line(right, b[j] ?? "", "");
      i++;
      j++;
    } else if (j < b.length && (i >= a.length || (lcs[i]?.[j + 1] ?? 0) >= (lcs[i + 1]?.[j] ?? 0))) {
      line(left, "", "blank");
      line(right, b[j] ?? "", "added");
      j++;
    } else {
      line(left, a[i] ?? "", "removed");
      line(right, "", "blank");
      i++;
    }
  }
  return h("div", { class: "side-by-side" }, left, right);
}
