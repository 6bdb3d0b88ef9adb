// Try a record on the open version: one of its cases, a record typed here, or a device's or
// health system's export, decided with its explanation in the language chosen.

import { isRecord } from "../api";
import { field, h, replace } from "../dom";
import type { Context } from "../workspace";

interface MemberView {
  locale: string;
  title: string;
  reward: string;
  premium_change?: string;
  status?: string;
  points?: string;
  why_heading: string;
  why: string[];
}
interface TrialAnswer {
  policy_id: string;
  version: string;
  period: string;
  decision: Record<string, unknown>;
  shown: MemberView;
}

const RECORD_EXAMPLE = `{
  "period": "2026-03",
  "member": { "age": 58, "diabetes_type": "type2" },
  "readings": [
    { "time": "2026-03-02T07:10:00+08:00", "glucose_mmol_l": "6.1", "context": "fasting" },
    { "time": "2026-03-09T07:05:00+08:00", "glucose_mmol_l": "6.8", "context": "fasting" }
  ],
  "labs": []
}`;

/** Bytes of an export the page sends as text: the server's own limit is the last word. */
const EXPORT_BYTES_MAX = 16 * 1024 * 1024;

export function trialPanel(ctx: Context): HTMLElement {
  const files = ctx.files();
  const cases = Object.keys(files).filter((n) => n.startsWith("cases/")).sort();
  const locales = Object.keys(files)
    .filter((n) => n.startsWith("locales/") && n.endsWith(".ftl"))
    .map((n) => n.slice("locales/".length, -".ftl".length))
    .sort();
  const source = h(
    "select",
    { "data-testid": "trial-source" },
    h("option", { value: "case" }, "one of the cases"),
    h("option", { value: "record" }, "a record I type"),
    h("option", { value: "export" }, "a device or health-system export"),
  );
  const casePick = h("select", { "data-testid": "trial-case" }, cases.map((c) => h("option", { value: c }, c.replace(/^cases\//, "").replace(/\.toml$/, ""))));
  const record = h("textarea", { rows: 10, spellcheck: "false", "data-testid": "trial-record" });
  record.value = RECORD_EXAMPLE;
  const exportFile = h("input", { type: "file", "data-testid": "trial-export" });
  const exportPeriod = h("input", { type: "text", value: "2026-03", size: 8, "data-testid": "trial-period" });
  const exportZone = h("input", { type: "text", placeholder: "the policy's zone", size: 16, "data-testid": "trial-zone" });
  const locale = h("select", { "data-testid": "trial-locale" }, (locales.length ? locales : ["en"]).map((l) => h("option", { value: l }, l)));
  const decide = h("button", { type: "button", "data-testid": "try-decide" }, "Decide");
  const result = h("div", { class: "trial-result", "data-testid": "trial-result", "aria-live": "polite" });
  const sections = {
    case: field("Case", casePick),
    record: field("Record (JSON, as a trial request writes it)", record),
    export: h("div", {}, field("Export file", exportFile, "Dexcom Clarity, LibreView, CareLink, Nightscout, Apple Health, HL7 FHIR (read by their content)"), field("Period", exportPeriod), field("The device's time zone", exportZone)),
  };
  const show = (): void => {
    for (const [name, el] of Object.entries(sections)) el.hidden = name !== source.value;
  };
  source.addEventListener("change", show);
  show();
  decide.addEventListener("click", () => {
    decide.disabled = true;
    // The last answer goes at once: what shows is always the answer to what was asked.
    replace(result, h("p", { role: "status" }, "Deciding…"));
    run()
      .catch((e: unknown) => {
        replace(result);
        ctx.fail(e);
      })
      .finally(() => (decide.disabled = false));
  });

  async function run(): Promise<void> {
    const version = await ctx.saved();
    const body: Record<string, unknown> = { policy_id: version.policy_id, version: version.version };
    if (source.value === "case") {
      body["case"] = casePick.value;
    } else if (source.value === "record") {
      let typed: unknown;
      try {
        typed = JSON.parse(record.value);
      } catch (e) {
        throw new Error(`The record is not JSON: ${e instanceof Error ? e.message : String(e)}`);
      }
      if (!isRecord(typed)) throw new Error("The record is a JSON object: { \"period\": …, \"readings\": [ … ] }");
      Object.assign(body, typed);
    } else {
      const file = exportFile.files?.[0];
      if (!file) throw new Error("Choose the export file to read.");
      if (file.size > EXPORT_BYTES_MAX) throw new Error(`${file.name} is ${file.size} bytes; the workbench sends at most ${EXPORT_BYTES_MAX}. Use the API's export route for larger files.`);
      const text = await file.text();
      body["period"] = exportPeriod.value.trim();
      body["readings_export"] = exportZone.value.trim() ? { text, tz: exportZone.value.trim() } : { text };
    }
    const answer = await ctx.api.call<TrialAnswer>("POST", `/v1/evaluations/trial?locale=${encodeURIComponent(locale.value)}`, body);
    replace(result, render(answer));
    ctx.say(`Decided on ${answer.policy_id} ${answer.version} for ${answer.period}, shown in ${answer.shown.locale}.`);
  }

  return h(
    "div",
    {},
    h("p", { class: "hint" }, "Decides on the version open (a draft is saved first). Nothing is stored or paid."),
    field("Try", source),
    Object.values(sections),
    field("Language the member reads", locale),
    decide,
    result,
  );
}

function render(a: TrialAnswer): HTMLElement {
  const v = a.shown;
  const d = a.decision;
  const flags = Array.isArray(d["flags"]) ? (d["flags"] as unknown[]).map(String) : [];
  return h(
    "div",
    { lang: v.locale },
    h("h3", { "data-testid": "trial-title" }, v.title),
    // The member's own lines, as the member would read them.
    h("p", { class: "figure", "data-testid": "trial-reward" }, v.reward),
    v.premium_change ? h("p", { class: "figure" }, v.premium_change) : null,
    v.status ? h("p", { class: "figure" }, v.status) : null,
    v.points ? h("p", { class: "figure" }, v.points) : null,
    flags.length ? h("p", { lang: "en", class: "staff" }, `Flags, for staff only: ${flags.join(", ")}`) : null,
    h("h4", {}, v.why_heading),
    h("ol", { class: "steps", "data-testid": "trial-explanation" }, v.why.map((line) => h("li", {}, line))),
  );
}
