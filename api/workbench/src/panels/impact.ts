// The draft priced against a published version before it ships: the same simulated members
// and readings under both (common random numbers), cost and outcomes with their intervals, and
// the decisions that change on the cases.

import { path } from "../api";
import { field, h, replace } from "../dom";
import type { Context } from "../workspace";
import { caseChanges, diffPath, type VersionsDiff } from "./versions";

interface Stat {
  mean: string;
  mean_ci95: [string, string];
  p95: string;
}
interface PlanSummary {
  plan: { policy_id: string; version: string; currency: string };
  total_reward: Stat;
  earning_rate: string;
  participation_rate: string;
  outcomes?: { in_control_share?: Stat };
}
interface Summary {
  plans: PlanSummary[];
  difference_a_minus_b: Stat | null;
}
interface SimulationView {
  id: string;
  status: "queued" | "running" | "succeeded" | "failed" | "cancelled";
  member_periods_done: number;
  member_periods_total: number;
  error: string | null;
  summary_url: string;
  report_url: string;
}

/** How often a running simulation is asked where it is. */
const POLL_MS = 500;

export function impactPanel(ctx: Context): HTMLElement {
  const open = ctx.version();
  const published = ctx.versions().filter((v) => v.status === "published" && v.version !== open?.version);
  if (!open || published.length === 0) {
    return h("p", { class: "hint" }, "Impact compares the version open with a published one: this policy has none to compare with yet.");
  }
  const against = h("select", { "data-testid": "impact-against" }, published.slice().reverse().map((v) => h("option", { value: v.version }, `${v.version} (published, from ${v.effective_from})`)));
  const number = (value: number, testid: string): HTMLInputElement => h("input", { type: "number", min: 1, value, "data-testid": testid, size: 8 });
  const members = number(1000, "impact-members");
  const periods = number(12, "impact-periods");
  const replications = number(20, "impact-replications");
  const seed = number(1, "impact-seed");
  const price = h("button", { type: "button", "data-testid": "price-draft" }, "Price it");
  const cancel = h("button", { type: "button", class: "quiet", "data-testid": "cancel-pricing", hidden: true }, "Cancel");
  const progress = h("progress", { max: 1, value: 0, "data-testid": "impact-progress", "aria-label": "Simulation progress", hidden: true });
  const result = h("div", { "data-testid": "impact-result", "aria-live": "polite" });
  const changes = h("div", { "data-testid": "impact-cases" });
  let running: string | null = null;

  cancel.addEventListener("click", () => {
    if (running) void ctx.api.call("DELETE", path`/v1/simulations/${running}`).catch((e: unknown) => ctx.fail(e));
  });
  price.addEventListener("click", () => {
    price.disabled = true;
    run()
      .catch((e: unknown) => ctx.fail(e))
      .finally(() => {
        price.disabled = false;
        cancel.hidden = true;
        progress.hidden = true;
        running = null;
      });
  });

  async function run(): Promise<void> {
    const version = await ctx.saved();
    const base = against.value;
    replace(result, "Starting…");
    // Which decisions change on the cases: quick, and shown while the simulation runs.
    const diff = ctx.may("ReadPolicies")
      ? ctx.api.call<VersionsDiff>("GET", diffPath(version.policy_id, base, version.version))
      : null;
    if (diff) {
      diff.then((d) => replace(changes, caseChanges(d))).catch((e: unknown) => ctx.fail(e));
    }
    if (!ctx.may("RunSimulations")) {
      replace(result, "This key's role may not run simulations: the cases above are its impact.");
      return;
    }
    let sim = await ctx.api.call<SimulationView>("POST", "/v1/simulations", {
      policy_id: version.policy_id,
      version: version.version,
      compare_policy_id: version.policy_id,
      compare_version: base,
      members: Number(members.value),
      periods: Number(periods.value),
      replications: Number(replications.value),
      seed: Number(seed.value),
      renewal: "unchanged",
    });
    running = sim.id;
    cancel.hidden = false;
    progress.hidden = false;
    while (sim.status === "queued" || sim.status === "running") {
      progress.max = Math.max(1, sim.member_periods_total);
      progress.value = sim.member_periods_done;
      replace(result, `${sim.status}: ${sim.member_periods_done.toLocaleString("en")} of ${sim.member_periods_total.toLocaleString("en")} member-periods`);
      await new Promise((resolve) => window.setTimeout(resolve, POLL_MS));
      sim = await ctx.api.call<SimulationView>("GET", path`/v1/simulations/${sim.id}`);
    }
    if (sim.status !== "succeeded") {
      replace(result, h("p", { class: "bad", "data-testid": "impact-status" }, sim.status === "cancelled" ? "Cancelled." : `The run failed: ${sim.error ?? "no reason given"}`));
      return;
    }
    const summary = await ctx.api.call<Summary>("GET", sim.summary_url);
    const report = h("button", { type: "button", class: "quiet", "data-testid": "impact-report" }, "Download the full report");
    report.addEventListener("click", () => {
      ctx.api
        .text(sim.report_url)
        .then((html) => {
          const a = h("a", { href: URL.createObjectURL(new Blob([html], { type: "text/html" })), download: `${sim.id}-report.html` });
          a.click();
          URL.revokeObjectURL(a.href);
        })
        .catch((e: unknown) => ctx.fail(e));
    });
    replace(result, render(summary), report);
    ctx.say(`Priced ${version.version} against ${base} on ${members.value} simulated members.`);
  }

  return h(
    "div",
    {},
    h("h3", {}, "On simulated members"),
    h("p", { class: "hint" }, "The version open (saved first) and the one chosen run on the same simulated members and readings."),
    field("Against", against),
    h("div", { class: "row" }, field("Members", members), field("Periods", periods), field("Replications", replications), field("Seed", seed)),
    h("div", { class: "row" }, price, cancel, progress),
    result,
    ctx.may("BacktestHistory") ? historySection(ctx, against) : null,
    changes,
  );
}

interface BacktestSummary {
  plan: { version: string; currency: string };
  periods: string[];
  members: number;
  would_pay: { total_reward: string; members_earning: number; members_measuring: number; reward_by_period: string[] };
  actually_paid: { total_reward: string; members_paid: number; reward_by_period: string[] } | null;
}

/** `2026-03-01` as the period of `kind` it falls in: `2026-03`, `2026-Q1` or `2026`. */
function periodOf(day: string, kind: string): string {
  const [year = "", month = "01"] = day.split("-");
  if (kind === "annual") return year;
  if (kind === "quarterly") return `${year}-Q${Math.floor((Number(month) - 1) / 3) + 1}`;
  return `${year}-${month}`;
}

/** The version open and the one chosen over the tenant's real members, beside what was paid:
 * totals only, as the role rules say. */
function historySection(ctx: Context, against: HTMLSelectElement): HTMLElement {
  const open = ctx.version();
  const kind = open?.period_kind ?? "monthly";
  const first = periodOf(open?.effective_from ?? "2026-01-01", kind);
  const from = h("input", { type: "text", value: first, size: 8, "data-testid": "history-from" });
  const to = h("input", { type: "text", value: first, size: 8, "data-testid": "history-to" });
  const run = h("button", { type: "button", "data-testid": "history-impact" }, "Run over our history");
  const out = h("div", { "data-testid": "history-result", "aria-live": "polite" });
  run.addEventListener("click", () => {
    run.disabled = true;
    replace(out, "Running…");
    const backtest = (version: string, renewal: boolean): Promise<BacktestSummary> =>
      ctx.api.call<BacktestSummary>("POST", path`/v1/policies/${ctx.policyId()}/versions/${version}/backtest`, {
        from: from.value.trim(),
        to: to.value.trim(),
        ...(renewal ? { renewal: "unchanged" } : {}),
      });
    ctx
      .saved()
      .then((version) => Promise.all([backtest(version.version, false), backtest(against.value, true)]))
      .then(([mine, theirs]) => replace(out, historyTable(mine, theirs)))
      .catch((e: unknown) => {
        replace(out);
        ctx.fail(e);
      })
      .finally(() => (run.disabled = false));
  });
  return h(
    "div",
    {},
    h("h3", {}, "On this tenant's members"),
    h("p", { class: "hint" }, "Both versions decide every member's real history for the periods given (the one chosen renewed past its dates), beside what was actually paid. Totals only."),
    h("div", { class: "row" }, field("From", from), field("To", to), run),
    out,
  );
}

function historyTable(mine: BacktestSummary, theirs: BacktestSummary): HTMLElement {
  const paid = mine.actually_paid;
  const rows: [string, string, string, string][] = [
    [`Total reward (${mine.plan.currency})`, money(mine.would_pay.total_reward), money(theirs.would_pay.total_reward), paid ? money(paid.total_reward) : "—"],
    ["Members earning", String(mine.would_pay.members_earning), String(theirs.would_pay.members_earning), paid ? String(paid.members_paid) : "—"],
  ];
  return h(
    "div",
    {},
    h("p", {}, `${mine.members} members, ${mine.periods.join(", ")}`),
    h(
      "table",
      { class: "impact", "data-testid": "history-table" },
      h("thead", {}, h("tr", {}, h("th", {}, ""), h("th", {}, `${mine.plan.version} (this)`), h("th", {}, theirs.plan.version), h("th", {}, "actually paid"))),
      h("tbody", {}, rows.map(([label, a, b, c]) => h("tr", {}, h("th", {}, label), h("td", {}, a), h("td", {}, b), h("td", {}, c)))),
    ),
  );
}

/** Money to the cent, shares as percentages: the summary's exact decimals, rounded to read. */
const money = (text: string): string => Number(text).toLocaleString("en", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const share = (text: string): string => `${(Number(text) * 100).toFixed(1)} %`;
const interval = (s: Stat, as: (text: string) => string): string => `${as(s.mean)} (95 % CI ${as(s.mean_ci95[0])} to ${as(s.mean_ci95[1])})`;

function render(s: Summary): HTMLElement {
  const [a, b] = s.plans;
  if (!a || !b) return h("p", {}, "The run gave no comparison.");
  const rows: [string, (p: PlanSummary) => string][] = [
    [`Total reward (${a.plan.currency})`, (p) => interval(p.total_reward, money)],
    [`Total reward, 95th percentile (${a.plan.currency})`, (p) => money(p.total_reward.p95)],
    ["Members earning a reward", (p) => share(p.earning_rate)],
    ["Members taking part", (p) => share(p.participation_rate)],
    ["Members in control (outcome)", (p) => (p.outcomes?.in_control_share ? interval(p.outcomes.in_control_share, share) : "—")],
  ];
  return h(
    "div",
    {},
    h(
      "table",
      { class: "impact", "data-testid": "impact-table" },
      h("thead", {}, h("tr", {}, h("th", {}, ""), h("th", {}, `${a.plan.version} (this)`), h("th", {}, `${b.plan.version}`))),
      h("tbody", {}, rows.map(([label, value]) => h("tr", {}, h("th", {}, label), h("td", {}, value(a)), h("td", {}, value(b))))),
    ),
    s.difference_a_minus_b
      ? h("p", { "data-testid": "impact-difference" }, `Difference in total reward, this minus ${b.plan.version}: ${interval(s.difference_a_minus_b, money)} ${a.plan.currency}`)
      : null,
    chart([a, b]),
  );
}

/** Each plan's mean total reward as a bar, with its 95 % interval as a whisker. */
function chart(plans: PlanSummary[]): SVGSVGElement {
  const ns = "http://www.w3.org/2000/svg";
  const el = <K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>): SVGElementTagNameMap[K] => {
    const node = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
    return node;
  };
  const width = 320;
  const height = 150;
  const top = Math.max(1, ...plans.map((p) => Number(p.total_reward.mean_ci95[1])));
  const svg = el("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "data-testid": "impact-chart", width, height });
  const title = el("title", {});
  title.textContent = `Mean total reward by plan: ${plans.map((p) => `${p.plan.version} ${p.total_reward.mean}`).join(", ")}`;
  svg.append(title);
  const y = (v: number): number => height - 25 - (v / top) * (height - 40);
  plans.forEach((p, i) => {
    const x = 50 + i * 130;
    const mean = Number(p.total_reward.mean);
    svg.append(el("rect", { x, y: y(mean), width: 70, height: Math.max(0, height - 25 - y(mean)), class: i === 0 ? "bar-a" : "bar-b" }));
    const [lo, hi] = p.total_reward.mean_ci95.map(Number);
    svg.append(el("line", { x1: x + 35, x2: x + 35, y1: y(lo ?? mean), y2: y(hi ?? mean), class: "whisker" }));
    const label = el("text", { x: x + 35, y: height - 8, "text-anchor": "middle" });
    label.textContent = p.plan.version;
    svg.append(label);
  });
  return svg;
}
