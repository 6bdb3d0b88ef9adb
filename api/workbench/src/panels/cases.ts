// The package's cases, run by the server on the package as it is in the editors.

import { h, replace } from "../dom";
import type { Context } from "../workspace";

interface Mismatch {
  field: string;
  expected: string;
  actual: string;
}
interface CaseOutcome {
  name: string;
  description: string;
  mismatches: Mismatch[];
  got: string[];
}
interface CaseResults {
  passed: number;
  failed: number;
  cases: CaseOutcome[];
  branches_no_case_reaches?: unknown[];
}

export function casesPanel(ctx: Context): HTMLElement {
  const summary = h("p", { "data-testid": "case-results", role: "status" }, "Not run yet.");
  const table = h("div", { class: "case-table" });
  const run = h("button", { type: "button", "data-testid": "run-cases" }, "Run the cases");
  run.addEventListener("click", () => {
    run.disabled = true;
    summary.textContent = "Running…";
    ctx.api
      .call<CaseResults>("POST", "/v1/policies/test", { files: ctx.files() })
      .then((r) => {
        summary.textContent = `${r.passed} passed, ${r.failed} failed`;
        summary.className = r.failed === 0 ? "good" : "bad";
        replace(table, render(r));
      })
      .catch((e: unknown) => {
        summary.textContent = "The cases could not run: the package does not load.";
        summary.className = "bad";
        ctx.fail(e);
      })
      .finally(() => (run.disabled = false));
  });
  return h("div", {}, h("p", { class: "hint" }, "Each case is a record with the decision it must get. They run on the package as it is in the editors, saved or not."), run, summary, table);
}

function render(r: CaseResults): HTMLElement {
  const rows = r.cases.map((c) => {
    const passed = c.mismatches.length === 0;
    return h(
      "tr",
      { class: passed ? "pass" : "fail", "data-testid": "case-row" },
      h("td", {}, passed ? "✓ pass" : "✗ fail"),
      h("td", {}, h("span", { class: "case-name" }, c.name.replace(/^cases\//, "").replace(/\.toml$/, "")), h("br"), h("small", {}, c.description)),
      h(
        "td",
        {},
        passed
          ? ""
          : h(
              "table",
              { class: "mismatches" },
              h("tr", {}, h("th", {}, "field"), h("th", {}, "expected"), h("th", {}, "actual")),
              c.mismatches.map((m) => h("tr", {}, h("td", {}, m.field), h("td", {}, m.expected), h("td", {}, m.actual))),
            ),
        passed || c.got.length === 0 ? "" : h("details", {}, h("summary", {}, "What it decided"), h("ol", {}, c.got.map((line) => h("li", {}, line)))),
      ),
    );
  });
  return h("table", { class: "cases" }, h("thead", {}, h("tr", {}, h("th", {}, "result"), h("th", {}, "case"), h("th", {}, "expected against actual"))), h("tbody", {}, rows));
}
