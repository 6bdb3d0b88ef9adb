// The workbench end to end, in headless Chromium driven by playwright-core, against a real
// `incentive serve` (tests/workbench_in_chromium.rs starts it, makes the tenants and keys, and
// runs this script). An author signs in, opens a policy, breaks a name and sees the diagnostic
// at its line, fixes it, runs the cases, tries a record in zh-CN and in en, prices the draft
// against the published version, asks for approval; a second holder approves; the first
// publishes; a key of another tenant sees none of it; a platform key is not offered the editor.
// No console error, and no request leaves the server. Exits non-zero, naming the step, on the
// first thing that does not hold.
//
// Environment: WORKBENCH_URL (http://127.0.0.1:PORT), CHROMIUM, POLICY_DIR (the reference
// package tangdaifu-smbg), AUTHOR_KEY (holder alice), APPROVER_KEY (holder bob), ADMIN_KEY
// (holder carol), PLATFORM_KEY, OTHER_TENANT_KEY, SCREENSHOTS (a folder, optional).

import { chromium } from "playwright-core";
import { readFileSync, readdirSync, statSync, mkdirSync } from "node:fs";
import { join, relative } from "node:path";

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const base = env("WORKBENCH_URL");
const keys = {
  author: env("AUTHOR_KEY"),
  approver: env("APPROVER_KEY"),
  admin: env("ADMIN_KEY"),
  platform: env("PLATFORM_KEY"),
  other: env("OTHER_TENANT_KEY"),
};
const shots = process.env.SCREENSHOTS;
if (shots) mkdirSync(shots, { recursive: true });
const POLICY = "tangdaifu-smbg";
/** Long enough for a debug build's check and a small simulation on a loaded two-core machine. */
const WAIT_MS = 60_000;

function assert(condition, message) {
  if (!condition) throw new Error(message);
}

// --- The world: a published 0.9.0 for 2025 with a smaller rebate, and alice's draft 1.0.0 ---

function packageFiles(dir) {
  const files = {};
  const walk = (d) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else files[relative(dir, p).split("\\").join("/")] = readFileSync(p, "utf8");
    }
  };
  walk(dir);
  return files;
}

async function api(key, method, path, body) {
  const response = await fetch(base + path, {
    method,
    headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

const reference = packageFiles(env("POLICY_DIR"));
const previous = { ...reference };
previous["policy.toml"] = reference["policy.toml"]
  .replace('version = "1.0.0"', 'version = "0.9.0"')
  .replace("effective_from = 2026-01-01", "effective_from = 2025-01-01")
  .replace("effective_to = 2026-12-31", "effective_to = 2025-12-31")
  .replace("{ from = 90, value = 30 }", "{ from = 90, value = 20 }");
// Last year's package had last year's cases; this one's are for 2026, so 0.9.0 goes without.
for (const name of Object.keys(previous)) if (name.startsWith("cases/")) delete previous[name];
await api(keys.admin, "PUT", "/v1/settings", { four_eyes: false });
await api(keys.admin, "POST", "/v1/policies", { files: previous });
await api(keys.admin, "POST", `/v1/policies/${POLICY}/versions/0.9.0/publish`);
await api(keys.admin, "PUT", "/v1/settings", { four_eyes: true });
await api(keys.author, "POST", "/v1/policies", { files: reference });
// Twelve members with a March of fasting readings in target, as the platform sends them: the
// tenant's own history, which a draft is run over (totals only, over ten members at least).
const march = Array.from({ length: 12 }, (_, d) => ({
  time: `2026-03-${String(d + 1).padStart(2, "0")}T07:00:00+08:00`,
  glucose_mmol_l: "5.8",
  context: "fasting",
}));
for (let m = 1; m <= 12; m++) {
  const id = `M${String(m).padStart(3, "0")}`;
  await api(keys.platform, "PUT", `/v1/members/${id}`, { age: 50 + m, diabetes_type: "type2" });
  await api(keys.platform, "POST", `/v1/members/${id}/readings`, { readings: march });
}

// --- The browser ---

const browser = await chromium.launch({
  executablePath: env("CHROMIUM"),
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const problems = [];
/** Every answer of 400 and above, by whom and in which step: only the refusals meant. */
const refusals = [];

async function person(name) {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: "en-GB" });
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT_MS);
  page.on("console", (m) => {
    // A refused request is logged by the browser too: it is judged below, by its response.
    if (m.text().startsWith("Failed to load resource: the server responded")) return;
    if (m.type() === "error" || m.type() === "warning") problems.push(`${name}: console ${m.type()}: ${m.text()}`);
  });
  page.on("response", (r) => {
    if (r.status() >= 400) refusals.push(`${name} in "${step}": ${r.request().method()} ${new URL(r.url()).pathname} ${r.status()}`);
  });
  page.on("pageerror", (e) => problems.push(`${name}: page error: ${e.message}`));
  page.on("request", (r) => {
    const url = r.url();
    if (!url.startsWith(base) && !url.startsWith("data:") && !url.startsWith("blob:")) problems.push(`${name}: a request left the server: ${url}`);
  });
  return { page, context };
}

async function signIn(page, key, hash = "") {
  await page.goto(`${base}/workbench/${hash}`);
  await page.getByTestId("api-key").fill(key);
  await page.getByTestId("sign-in").click();
  await page.getByTestId("who").waitFor();
}

/** Selects the next `text` in the focused editor with its search panel (Ctrl-F, Enter, Escape). */
async function findInEditor(page, text) {
  await page.keyboard.press("Control+f");
  const field = page.locator(".cm-search input[name=search]");
  await field.focus();
  await page.keyboard.press("Control+a");
  await page.keyboard.type(text);
  await page.keyboard.press("Enter");
  await page.keyboard.press("Escape");
}

async function shot(page, name) {
  if (shots) await page.screenshot({ path: join(shots, `workbench-${name}.png`) });
}

let step = "start";
const steps = [];
async function check(name, body) {
  step = name;
  await body();
  steps.push(name);
  console.log(`ok - ${name}`);
}

try {
  const alice = await person("alice");
  const { page } = alice;

  await check("the sign-in page asks for a key and nothing else", async () => {
    await page.goto(`${base}/workbench/`);
    await page.getByTestId("api-key").waitFor();
  });

  await check("an author signs in and sees the tenant's policies", async () => {
    await signIn(page, keys.author);
    assert((await page.getByTestId("who").innerText()).includes("alice"), "the header names alice");
    await page.locator(`[data-testid=policy-item][data-policy="${POLICY}"]`).waitFor();
  });

  await check("the key is in session storage only, not in the address, a cookie or local storage", async () => {
    const where = await page.evaluate(() => ({ session: JSON.stringify(sessionStorage), local: JSON.stringify(localStorage), cookie: document.cookie, url: location.href }));
    assert(where.session.includes(keys.author), "the key is in session storage");
    assert(!where.local.includes(keys.author) && !where.cookie.includes(keys.author) && !where.url.includes(keys.author), "the key is nowhere else");
  });

  await check("opening the policy opens alice's draft in the editors", async () => {
    await page.locator(`[data-testid=policy-item][data-policy="${POLICY}"]`).click();
    await page.getByTestId("open-version").filter({ hasText: "1.0.0" }).waitFor();
    await page.locator("[data-testid=version-item][data-version='0.9.0']").waitFor();
    await page.locator("[data-testid=file-tab][data-file='rules.rhai']").click();
    await page.getByTestId("editor-rules").waitFor();
  });

  await check("a broken name shows its diagnostic at its line as the author types", async () => {
    const editor = page.getByTestId("editor-rules");
    await editor.click();
    await findInEditor(page, "terms.min_readings ||");
    await page.keyboard.type("terms.min_readingz ||");
    const finding = page.getByTestId("diagnostic").first();
    await finding.waitFor();
    const text = await finding.innerText();
    assert(/^error \[unknown-term\] line 23, column \d+: .*min_readingz/.test(text), `the finding names the term at line 23: ${text}`);
    assert(text.includes("did you mean `min_readings`?"), `the finding carries its help: ${text}`);
    await shot(page, "diagnostic");
  });

  await check("fixing the name clears the diagnostic, and Ctrl-S saves the draft", async () => {
    await findInEditor(page, "terms.min_readingz ||");
    await page.keyboard.type("terms.min_readings ||");
    await page.getByTestId("findings-count").filter({ hasText: "No problems found." }).waitFor();
    assert((await page.getByTestId("diagnostic").count()) === 0, "no finding is left in the editor");
    await page.keyboard.press("Control+s");
    await page.getByTestId("status").filter({ hasText: "Saved draft 1.0.0." }).waitFor();
  });

  await check("every control has a name a screen reader reads, and is reached by the keyboard", async () => {
    const unnamed = await page.evaluate(() =>
      [...document.querySelectorAll("input, select, textarea, button, [contenteditable=true]")]
        .filter((el) => !el.closest("[hidden]") && el.getAttribute("type") !== "hidden")
        .filter((el) => {
          const named = el.getAttribute("aria-label") || el.getAttribute("aria-labelledby") || el.getAttribute("title");
          const labelled = "labels" in el && el.labels && el.labels.length > 0;
          const text = el.tagName === "BUTTON" && (el.textContent ?? "").trim() !== "";
          return !(named || labelled || text);
        })
        .map((el) => el.outerHTML.slice(0, 120)),
    );
    assert(unnamed.length === 0, `controls without a name:\n${unnamed.join("\n")}`);
    const unreachable = await page.evaluate(() =>
      [...document.querySelectorAll("input, select, textarea, button")].filter((el) => !el.closest("[hidden]") && el.tabIndex < 0).length,
    );
    assert(unreachable === 0, `${unreachable} controls the Tab key skips`);
  });

  await check("the cases run and each shows pass or fail", async () => {
    await page.getByTestId("run-cases").click();
    await page.getByTestId("case-results").filter({ hasText: /^\d+ passed, \d+ failed$/ }).waitFor();
    const text = await page.getByTestId("case-results").innerText();
    const cases = Object.keys(reference).filter((n) => n.startsWith("cases/")).length;
    assert(text === `${cases} passed, 0 failed`, `every case passes: ${text}`);
    assert((await page.getByTestId("case-row").count()) === cases, "a row a case");
    await shot(page, "cases");
  });

  await check("a case tried in zh-CN is explained in Chinese, step by step", async () => {
    await page.getByTestId("trial-source").selectOption("case");
    await page.getByTestId("trial-case").selectOption("cases/full-rebate.toml");
    await page.getByTestId("trial-locale").selectOption("zh-CN");
    await page.getByTestId("try-decide").click();
    await page.getByTestId("trial-title").filter({ hasText: "糖大夫" }).waitFor();
    const steps = await page.getByTestId("trial-explanation").locator("li").allInnerTexts();
    assert(steps.length >= 2 && steps.some((s) => /[\u4e00-\u9fff]/.test(s)), `explained in Chinese: ${steps.join(" | ")}`);
    assert((await page.getByTestId("trial-reward").innerText()).includes("30"), "the full rebate is 30");
    await shot(page, "trial-zh-CN");
  });

  await check("the same case tried in en is explained in English", async () => {
    await page.getByTestId("trial-locale").selectOption("en");
    await page.getByTestId("try-decide").click();
    await page.locator("[data-testid=trial-result] > [lang=en]").waitFor();
    const steps = await page.getByTestId("trial-explanation").locator("li").allInnerTexts();
    assert(steps.length >= 2 && steps.every((s) => !/[\u4e00-\u9fff]/.test(s) || s.includes("糖大夫")), `explained in English: ${steps.join(" | ")}`);
  });

  await check("a record typed in is decided", async () => {
    await page.getByTestId("trial-source").selectOption("record");
    await page.getByTestId("try-decide").click();
    // The typed record's two readings do not pass the measuring gate.
    await page.getByTestId("trial-explanation").locator("li", { hasText: "2 times on 2 days" }).waitFor();
    assert((await page.getByTestId("trial-reward").innerText()).includes("0.00"), "nothing is paid");
  });

  await check("the draft is priced against the published version on the same simulated members", async () => {
    await page.getByTestId("impact-members").fill("200");
    await page.getByTestId("impact-periods").fill("3");
    await page.getByTestId("impact-replications").fill("4");
    await page.getByTestId("price-draft").click();
    await page.getByTestId("impact-table").waitFor();
    const difference = await page.getByTestId("impact-difference").innerText();
    assert(/this minus 0\.9\.0: -?[\d.]+ \(95 % CI/.test(difference), `the difference with its interval: ${difference}`);
    await page.getByTestId("impact-chart").waitFor();
    await page.getByTestId("impact-table").scrollIntoViewIfNeeded();
    const changed = await page.getByTestId("cases-changed").first().innerText();
    assert(/Decisions on the cases: [1-9]\d* of \d+ change from 0\.9\.0 to 1\.0\.0/.test(changed), `the full rebate's cases change: ${changed}`);
    await shot(page, "impact");
  });

  await check("a device's export uploaded is read and decided", async () => {
    // Nightscout entries, a sensor reading every hour for five days of March.
    const entries = [];
    for (let day = 2; day <= 6; day++) {
      for (let hour = 0; hour < 24; hour++) {
        const date = Date.UTC(2026, 2, day, hour) - 8 * 3600 * 1000;
        entries.push({ type: "sgv", sgv: 110, date, dateString: new Date(date).toISOString() });
      }
    }
    await page.getByTestId("trial-source").selectOption("export");
    await page.getByTestId("trial-export").setInputFiles({ name: "entries.json", mimeType: "application/json", buffer: Buffer.from(JSON.stringify(entries)) });
    await page.getByTestId("trial-period").fill("2026-03");
    await page.getByTestId("trial-zone").fill("Asia/Shanghai");
    await page.getByTestId("try-decide").click();
    await page.getByTestId("trial-explanation").locator("li", { hasText: "120 times on 5 days" }).waitFor();
  });

  await check("the draft and the published version are run over the tenant's own members, totals only", async () => {
    await page.getByTestId("history-from").fill("2026-03");
    await page.getByTestId("history-to").fill("2026-03");
    await page.getByTestId("history-impact").click();
    const table = page.getByTestId("history-table");
    await table.waitFor();
    const text = await table.innerText();
    // Every member fasts in target all March: 30 each under 1.0.0, 20 under 0.9.0, none paid.
    assert(/360\.00/.test(text) && /240\.00/.test(text), `twelve members' totals: ${text}`);
    assert(!/M0\d\d/.test(await page.getByTestId("history-result").innerText()), "no member is named");
    await table.scrollIntoViewIfNeeded();
    await shot(page, "history");
  });

  await check("a long run shows its progress and is cancelled", async () => {
    await page.getByTestId("impact-members").fill("10000");
    await page.getByTestId("impact-periods").fill("12");
    await page.getByTestId("impact-replications").fill("50");
    await page.getByTestId("price-draft").click();
    await page.getByTestId("impact-progress").waitFor();
    await page.getByTestId("cancel-pricing").click();
    await page.getByTestId("impact-status").filter({ hasText: "Cancelled." }).waitFor();
  });

  await check("the two versions are compared side by side: files, tables and the cases that change", async () => {
    await page.getByTestId("diff-from").selectOption("0.9.0");
    await page.getByTestId("diff-to").selectOption("1.0.0");
    await page.getByTestId("compare").click();
    const result = page.getByTestId("diff-result");
    await result.getByTestId("cases-changed").waitFor();
    const files = await result.getByTestId("diff-file").locator("summary").allInnerTexts();
    assert(files.includes("policy.toml: changed") && files.includes("cases/full-rebate.toml: added"), `the files that differ: ${files.join(", ")}`);
    await result.locator("summary", { hasText: "policy.toml: changed" }).click();
    const added = await result.locator(".new .line.added").allInnerTexts();
    assert(added.some((l) => l.includes("value = 30")), `the changed step is marked: ${added.join(" | ")}`);
    await result.scrollIntoViewIfNeeded();
    await shot(page, "diff");
  });

  await check("publishing without another person's approval is refused by the server", async () => {
    await page.getByTestId("publish").click();
    await page.getByTestId("error").filter({ hasText: /approv/i }).waitFor();
  });

  let link = "";
  await check("the author asks for approval and gets a link to send", async () => {
    await page.getByTestId("ask-approval").click();
    link = await page.getByTestId("approval-link").inputValue();
    assert(link.includes(`#policy=${POLICY}&version=1.0.0`), `the link names the draft: ${link}`);
    assert(!link.includes(keys.author), "the link carries no key");
    assert((await page.getByTestId("approve").count()) === 0, "alice is not offered to approve her own draft");
  });

  const bob = await person("bob");
  await check("a second holder opens the link, reads the draft and approves it", async () => {
    await signIn(bob.page, keys.approver, link.slice(link.indexOf("#")));
    await bob.page.getByTestId("open-version").filter({ hasText: "1.0.0" }).waitFor();
    await bob.page.getByTestId("approval-comment").fill("Rebate steps checked against the pricing memo.");
    await bob.page.getByTestId("approve").click();
    await bob.page.getByTestId("approvals").filter({ hasText: "bob" }).waitFor();
    assert((await bob.page.getByTestId("approve").count()) === 0, "an approval that stands is not offered again");
    await bob.page.getByTestId("approvals").scrollIntoViewIfNeeded();
    await shot(bob.page, "approval");
  });

  await check("the first author publishes the approved draft", async () => {
    await page.reload();
    await page.getByTestId("approval-state").filter({ hasText: "Approved by bob" }).waitFor();
    await page.getByTestId("publish").click();
    await page.getByTestId("status").filter({ hasText: "Published tangdaifu-smbg 1.0.0" }).waitFor();
    await page.locator("[data-testid=version-item][data-version='1.0.0'] .badge.published").waitFor();
    await page.getByTestId("approval-state").scrollIntoViewIfNeeded();
    await shot(page, "published");
  });

  await check("a published version is the start of a new draft, saved with Ctrl-S", async () => {
    await page.getByTestId("new-version").fill("1.1.0");
    await page.getByTestId("start-draft").click();
    await page.getByTestId("open-version").filter({ hasText: "unsaved changes" }).waitFor();
    assert((await page.getByTestId("open-version").innerText()).includes("1.1.0"), "the new draft's version");
    await page.locator("[data-testid=file-tab][data-file='rules.rhai']").click();
    await page.getByTestId("editor-rules").click();
    await page.keyboard.press("Control+Home");
    await page.keyboard.type("// 1.1.0: the same rules, for now.\n");
    await page.keyboard.press("Control+s");
    await page.getByTestId("status").filter({ hasText: "Saved draft 1.1.0." }).waitFor();
    await page.locator("[data-testid=version-item][data-version='1.1.0'] .badge.draft").waitFor();
  });

  const eve = await person("eve");
  await check("a key of another tenant sees none of it, even given the link", async () => {
    await signIn(eve.page, keys.other, link.slice(link.indexOf("#")));
    await eve.page.getByTestId("status").filter({ hasText: "no policies" }).waitFor();
    assert((await eve.page.getByTestId("policy-item").count()) === 0, "no policy of acme is listed");
    const text = await eve.page.locator("body").innerText();
    assert(!text.includes(POLICY) && !text.includes("1.0.0") && !text.includes("1.1.0"), "nothing of acme's policy shows");
  });

  const platform = await person("platform");
  await check("a platform key is not offered the editor", async () => {
    await signIn(platform.page, keys.platform);
    await platform.page.getByTestId("no-workbench").waitFor();
    assert((await platform.page.getByTestId("editor-rules").count()) === 0, "no editor");
    assert((await platform.page.getByTestId("policy-item").count()) === 0, "no policy list");
  });

  await check("signing out forgets the key", async () => {
    await page.getByTestId("sign-out").click();
    await page.getByTestId("api-key").waitFor();
    assert((await page.evaluate(() => sessionStorage.length)) === 0, "session storage is empty");
  });

  await check("no console error, no request outside the server, and no refusal but the one meant", async () => {
    assert(problems.length === 0, problems.join("\n"));
    const meant = `alice in "publishing without another person's approval is refused by the server": POST /v1/policies/${POLICY}/versions/1.0.0/publish 409`;
    assert(refusals.length === 1 && refusals[0] === meant, `refusals: ${refusals.join("; ")}`);
  });
} catch (e) {
  if (shots) {
    const pages = browser.contexts().flatMap((c) => c.pages());
    for (const [i, p] of pages.entries()) await p.screenshot({ path: join(shots, `failure-${i}.png`) }).catch(() => {});
  }
  console.error(`not ok - ${step}: ${e instanceof Error ? e.message : String(e)}`);
  if (problems.length) console.error(problems.join("\n"));
  await browser.close();
  process.exit(1);
}
await browser.close();
console.log(`${steps.length} steps passed`);
