// One policy at a time: its versions, its files in editors with the server's diagnostics inline
// as one types, and the panels that run, try, price, compare and publish what is in them.

import type { EditorView } from "@codemirror/view";
import { Api, ApiError, path, type Caller, type Files, type PolicyVersion, type ServerDiagnostic, type VersionHistory } from "./api";
import { h, replace } from "./dom";
import { createEditor, focusFinding, getDoc, showFindings, type Finding, type Language } from "./editor";
import { casesPanel } from "./panels/cases";
import { trialPanel } from "./panels/trial";
import { impactPanel } from "./panels/impact";
import { versionsPanel } from "./panels/versions";
import { publishPanel } from "./panels/publish";

/** How long typing must pause before the package is checked again. */
const CHECK_DEBOUNCE_MS = 400;

/** What the panels share: the server, the caller, and the package as it is in the editors. */
export interface Context {
  readonly api: Api;
  readonly caller: Caller;
  may(access: string): boolean;
  policyId(): string;
  /** The version open in the editors, as stored (a new draft not yet saved: its base). */
  version(): PolicyVersion | null;
  versions(): VersionHistory[];
  files(): Files;
  /** The version label policy.toml gives now. */
  versionLabel(): string | null;
  /** Stores the editors' package as a draft when it has changed; the version to run. */
  saved(): Promise<PolicyVersion>;
  refresh(select?: string): Promise<void>;
  /** Builds a panel again from what the workspace holds now. */
  rerender(id: string): void;
  say(message: string): void;
  fail(error: unknown): void;
}

interface OpenFile {
  name: string;
  view: EditorView;
  tab: HTMLButtonElement;
  pane: HTMLElement;
}

export class Workspace implements Context {
  readonly element: HTMLElement;
  private readonly list = h("ul", { class: "policies", "aria-label": "Policies" });
  private readonly versionList = h("ul", { class: "versions", "aria-label": "Versions" });
  private readonly tabs = h("div", { class: "files", "aria-label": "Files" });
  private readonly panes = h("div", { class: "panes" });
  private readonly findings = h("div", { class: "findings", "data-testid": "findings", "aria-live": "polite" });
  private readonly statusLine = h("p", { class: "status", role: "status", "data-testid": "status" });
  private readonly errorLine = h("p", { class: "error", role: "alert", "data-testid": "error" });
  private readonly heading = h("h2", { "data-testid": "open-version" });
  private readonly actions = h("div", { class: "actions" });
  private readonly side = h("div", { class: "side" });
  private open_: OpenFile[] = [];
  private current: PolicyVersion | null = null;
  private history: VersionHistory[] = [];
  private policy = "";
  private dirty = false;
  private editable = false;
  private checkTimer: number | undefined;
  private checkRound = 0;

  constructor(
    readonly api: Api,
    readonly caller: Caller,
  ) {
    const nav = h(
      "nav",
      { class: "left", "aria-label": "Policies and versions" },
      h("h2", {}, "Policies"),
      this.list,
      h("h2", {}, "Versions"),
      this.versionList,
      h("h2", {}, "Files"),
      this.tabs,
    );
    const editor = h(
      "section",
      { class: "centre-column", "aria-label": "Package" },
      h("div", { class: "heading" }, this.heading, this.actions),
      this.panes,
      this.findings,
      this.statusLine,
      this.errorLine,
    );
    this.element = h("main", { class: "workspace" }, nav, editor, this.side);
    // Ctrl-S (Cmd-S) saves the draft, as in every editor; leaving with unsaved changes asks.
    this.element.addEventListener("keydown", (event) => {
      if ((event.ctrlKey || event.metaKey) && event.key === "s") {
        event.preventDefault();
        if (this.editable) void this.saved().catch((e: unknown) => this.fail(e));
      }
    });
    window.addEventListener("beforeunload", (event) => {
      if (this.dirty) event.preventDefault();
    });
  }

  may(access: string): boolean {
    return this.caller.may.includes(access);
  }
  policyId(): string {
    return this.policy;
  }
  version(): PolicyVersion | null {
    return this.current;
  }
  versions(): VersionHistory[] {
    return this.history;
  }
  files(): Files {
    const files: Files = {};
    for (const f of this.open_) files[f.name] = getDoc(f.view);
    return files;
  }
  versionLabel(): string | null {
    const manifest = this.files()["policy.toml"] ?? "";
    const match = /^\s*version\s*=\s*"([^"]*)"/m.exec(manifest);
    return match?.[1] ?? null;
  }
  say(message: string): void {
    this.errorLine.textContent = "";
    this.statusLine.textContent = message;
  }
  fail(error: unknown): void {
    this.errorLine.textContent = error instanceof Error ? error.message : String(error);
    if (error instanceof ApiError && error.diagnostics.length > 0) this.showDiagnostics(error.diagnostics);
  }

  /** Opens the policy and version a link names (`#policy=…&version=…`), else the list. */
  async open(hash: string): Promise<void> {
    const params = new URLSearchParams(hash.replace(/^#/, ""));
    const ids = await this.api.call<string[]>("GET", "/v1/policies");
    replace(
      this.list,
      ids.map((id) =>
        h(
          "li",
          {},
          h("button", { type: "button", class: "item", "data-testid": "policy-item", "data-policy": id, onclick: () => void this.choose(id).catch((e: unknown) => this.fail(e)) }, id),
        ),
      ),
    );
    if (ids.length === 0) this.say("This tenant has no policies yet: store one with `incentive` or the API.");
    const wanted = params.get("policy");
    if (wanted && ids.includes(wanted)) await this.choose(wanted, params.get("version") ?? undefined);
  }

  async choose(policy: string, version?: string): Promise<void> {
    this.policy = policy;
    for (const b of this.list.querySelectorAll("button")) b.setAttribute("aria-current", String(b.dataset["policy"] === policy));
    await this.refresh(version);
  }

  /** Reads the policy's versions again and opens `select` (else the draft, else the latest). */
  async refresh(select?: string): Promise<void> {
    await this.readVersions();
    const pick =
      this.history.find((v) => v.version === select) ??
      this.history.find((v) => v.status === "draft") ??
      this.history[this.history.length - 1];
    if (pick) await this.load(pick);
  }

  private async readVersions(): Promise<void> {
    this.history = await this.api.call<VersionHistory[]>("GET", path`/v1/policies/${this.policy}/versions`);
    replace(
      this.versionList,
      this.history
        .slice()
        .reverse()
        .map((v) =>
          h(
            "li",
            {},
            h(
              "button",
              { type: "button", class: "item", "data-testid": "version-item", "data-version": v.version, onclick: () => void this.load(v).catch((e: unknown) => this.fail(e)) },
              h("span", {}, v.version),
              h("span", { class: `badge ${v.status}` }, v.status),
              h("small", {}, `${v.effective_from} → ${v.effective_to ?? "open"}${v.stored_by ? ` · ${v.stored_by}` : ""}`),
            ),
          ),
        ),
    );
    this.markVersion();
  }

  private markVersion(): void {
    for (const b of this.versionList.querySelectorAll("button")) b.setAttribute("aria-current", String(b.dataset["version"] === this.current?.version));
  }

  private async load(version: PolicyVersion): Promise<void> {
    const answer = await this.api.call<{ files: Files }>(
      "GET",
      path`/v1/policies/${version.policy_id}/versions/${version.version}/files`,
    );
    this.current = version;
    this.editable = version.status === "draft" && this.may("AuthorPolicies");
    this.dirty = false;
    this.remember();
    this.markVersion();
    this.showFiles(answer.files);
    this.renderHeading();
    this.renderPanels();
    this.say(`Opened ${version.policy_id} ${version.version} (${version.status}).`);
  }

  private renderHeading(): void {
    const v = this.current;
    if (!v) return;
    replace(this.heading, `${v.policy_id} `, h("span", {}, this.versionLabel() ?? v.version), " ", h("span", { class: `badge ${v.status}` }, this.dirty ? "unsaved changes" : v.status));
    const buttons: HTMLElement[] = [];
    if (this.may("AuthorPolicies")) {
      if (this.editable) {
        buttons.push(h("button", { type: "button", "data-testid": "save-draft", onclick: () => void this.saved().catch((e: unknown) => this.fail(e)) }, "Save draft"));
      } else {
        const label = h("input", { type: "text", "data-testid": "new-version", "aria-label": "Version of the new draft", placeholder: "new version, e.g. 1.1.0", size: 14 });
        buttons.push(
          label,
          h("button", { type: "button", "data-testid": "start-draft", onclick: () => this.startDraft(label.value.trim()) }, "Start a draft from this version"),
        );
      }
    }
    replace(this.actions, buttons);
  }

  /** Makes the open version the base of a new draft: its version label rewritten, editable. */
  private startDraft(label: string): void {
    if (!/^[0-9A-Za-z][0-9A-Za-z.+-]{0,31}$/.test(label)) {
      this.fail(new Error("Give the new draft a version such as 1.1.0 (letters, digits, `.`, `+`, `-`)."));
      return;
    }
    const manifest = this.open_.find((f) => f.name === "policy.toml");
    if (!manifest) return;
    const text = getDoc(manifest.view).replace(/^(\s*version\s*=\s*)"[^"]*"/m, `$1"${label}"`);
    manifest.view.dispatch({ changes: { from: 0, to: manifest.view.state.doc.length, insert: text } });
    this.editable = true;
    const files = this.files();
    this.showFiles(files);
    this.dirty = true;
    this.renderHeading();
    this.say(`A new draft ${label}, from ${this.current?.version ?? "?"}: edit it, then save it.`);
    this.scheduleCheck();
  }

  private showFiles(files: Files): void {
    const names = Object.keys(files).sort(fileOrder);
    this.open_ = [];
    replace(this.tabs);
    replace(this.panes);
    replace(this.findings);
    names.forEach((name, index) => {
      const id = `pane-${index}`;
      const pane = h("div", { class: "pane", id, role: "group", "aria-labelledby": `tab-${index}`, hidden: index !== 0 });
      const group = name.includes("/") ? name.slice(0, name.indexOf("/")) : "";
      if (group && !this.tabs.querySelector(`[data-group="${group}"]`)) this.tabs.append(h("h3", { "data-group": group }, group === "cases" ? "Cases" : group === "locales" ? "Member text" : group));
      const short = group ? name.slice(group.length + 1).replace(/\.toml$/, "") : name;
      const tab = h("button", { type: "button", id: `tab-${index}`, "aria-controls": id, "aria-current": String(index === 0), "data-file": name, "data-testid": "file-tab", title: name }, short);
      tab.addEventListener("click", () => this.showTab(name));
      tab.addEventListener("keydown", (e) => this.tabKeys(e, index));
      this.tabs.append(tab);
      this.panes.append(pane);
      const view = createEditor({
        parent: pane,
        doc: files[name] ?? "",
        language: languageOf(name),
        testid: editorTestId(name),
        label: `${name}${this.editable ? "" : " (read only)"}`,
        readOnly: !this.editable,
        onChange: () => this.changed(),
      });
      this.open_.push({ name, view, tab, pane });
    });
  }

  private tabKeys(event: KeyboardEvent, index: number): void {
    const step = event.key === "ArrowDown" ? 1 : event.key === "ArrowUp" ? -1 : 0;
    if (step === 0) return;
    const next = this.open_[(index + step + this.open_.length) % this.open_.length];
    if (next) {
      this.showTab(next.name);
      next.tab.focus();
    }
  }

  showTab(name: string): void {
    for (const f of this.open_) {
      const on = f.name === name;
      f.pane.hidden = !on;
      f.tab.setAttribute("aria-current", String(on));
      if (on) f.view.requestMeasure();
    }
  }

  private changed(): void {
    if (!this.dirty) {
      this.dirty = true;
      this.renderHeading();
    }
    this.scheduleCheck();
  }

  private scheduleCheck(): void {
    if (!this.may("AuthorPolicies")) return;
    window.clearTimeout(this.checkTimer);
    this.checkTimer = window.setTimeout(() => void this.check(), CHECK_DEBOUNCE_MS);
  }

  /** Asks the server to check the package as it is now; a later round wins over an earlier. */
  private async check(): Promise<void> {
    const round = ++this.checkRound;
    try {
      const answer = await this.api.call<{ ok: boolean; diagnostics: { items: ServerDiagnostic[] } }>("POST", "/v1/policies/check", { files: this.files() });
      if (round === this.checkRound) this.showDiagnostics(answer.diagnostics.items);
    } catch (e) {
      if (round === this.checkRound) this.fail(e);
    }
  }

  private showDiagnostics(diagnostics: ServerDiagnostic[]): void {
    const byFile = new Map<string, Finding[]>();
    for (const d of diagnostics) {
      const list = byFile.get(d.file) ?? [];
      list.push(findingOf(d));
      byFile.set(d.file, list);
    }
    for (const f of this.open_) showFindings(f.view, byFile.get(f.name) ?? []);
    const errors = diagnostics.filter((d) => d.severity === "error").length;
    const warnings = diagnostics.length - errors;
    replace(
      this.findings,
      h("p", { "data-testid": "findings-count" }, errors + warnings === 0 ? "No problems found." : `${errors} error(s), ${warnings} warning(s)`),
      h(
        "ul",
        {},
        diagnostics.map((d) =>
          h(
            "li",
            {},
            h(
              "button",
              { type: "button", class: `finding-link ${d.severity}`, "data-testid": "finding-item", onclick: () => this.goTo(d) },
              `${d.file}:${d.line}:${d.column} ${d.severity}: ${d.message}`,
            ),
          ),
        ),
      ),
    );
  }

  private goTo(d: ServerDiagnostic): void {
    const file = this.open_.find((f) => f.name === d.file);
    if (!file) return;
    this.showTab(d.file);
    focusFinding(file.view, findingOf(d));
  }

  async saved(): Promise<PolicyVersion> {
    const current = this.current;
    if (!current) throw new Error("Open a policy first.");
    if (!this.dirty) return current;
    if (!this.editable) throw new Error("Only a draft can be saved: start a draft from this version.");
    const stored = await this.api.call<PolicyVersion>("POST", "/v1/policies", { files: this.files() });
    this.current = stored;
    this.dirty = false;
    // The editors keep their text, cursor and undo: they hold what was just stored.
    await this.readVersions();
    this.remember();
    this.renderHeading();
    this.rerender("publish");
    this.say(`Saved draft ${stored.version}.`);
    return stored;
  }

  /** The open version in the address, so a link to it can be sent (to an approver). */
  private remember(): void {
    const v = this.current;
    if (v) history.replaceState(null, "", `#policy=${encodeURIComponent(v.policy_id)}&version=${encodeURIComponent(v.version)}`);
  }

  private readonly builders = new Map<string, () => HTMLElement>();

  /** Builds one panel again from what the workspace holds now. */
  rerender(id: string): void {
    const build = this.builders.get(id);
    const panel = this.side.querySelector(`[data-testid="panel-${id}"]`);
    const body = panel?.querySelector(":scope > .panel-body");
    if (build && body) body.replaceWith(build());
  }

  private renderPanels(): void {
    const panels: [string, string, () => HTMLElement][] = [];
    if (this.may("AuthorPolicies")) panels.push(["cases", "Cases", () => casesPanel(this)]);
    if (this.may("TryPolicies")) panels.push(["trial", "Try a record", () => trialPanel(this)]);
    if (this.may("RunSimulations") || this.may("AuthorPolicies")) panels.push(["impact", "Impact", () => impactPanel(this)]);
    panels.push(["versions", "Compare versions", () => versionsPanel(this)]);
    panels.push(["publish", "Approve and publish", () => publishPanel(this)]);
    this.builders.clear();
    for (const [id, , build] of panels) this.builders.set(id, () => h("div", { class: "panel-body" }, build()));
    replace(
      this.side,
      panels.map(([id, title]) =>
        h("details", { class: "panel", "data-testid": `panel-${id}`, open: true }, h("summary", {}, title), this.builders.get(id)?.() ?? null),
      ),
    );
  }
}

/** A diagnostic as the server words it, as the editor shows it. */
function findingOf(d: ServerDiagnostic): Finding {
  return { severity: d.severity, code: d.code, message: d.message, help: d.help, line: d.line, column: d.column, span: [d.span.start, d.span.end] };
}

function languageOf(name: string): Language {
  if (name.endsWith(".toml")) return "toml";
  if (name.endsWith(".rhai")) return "rhai";
  if (name.endsWith(".ftl")) return "ftl";
  return "text";
}

function editorTestId(name: string): string {
  if (name === "rules.rhai") return "editor-rules";
  if (name === "policy.toml") return "editor-terms";
  return "editor-file";
}

/** The terms and the rules first, then the cases and the catalogs, each by name. */
function fileOrder(a: string, b: string): number {
  const rank = (n: string): number => (n === "policy.toml" ? 0 : n === "rules.rhai" ? 1 : n.startsWith("cases/") ? 2 : 3);
  return rank(a) - rank(b) || a.localeCompare(b);
}
