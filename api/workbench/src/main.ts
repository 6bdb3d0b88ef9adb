// The policy workbench: sign in with an API key, then work on the tenant's policies through the
// public API. The key lives in this tab's session storage only.

import { Api, ApiError, type Caller } from "./api";
import { h, field, replace } from "./dom";
import { Workspace } from "./workspace";

const KEY_STORAGE = "incentive.workbench.key";

const app = document.getElementById("app");
if (app) void boot(app);

async function boot(root: HTMLElement): Promise<void> {
  const key = sessionStorage.getItem(KEY_STORAGE);
  if (key) {
    try {
      await start(root, key);
      return;
    } catch {
      sessionStorage.removeItem(KEY_STORAGE);
    }
  }
  signIn(root);
}

function signIn(root: HTMLElement, problem?: string): void {
  const input = h("input", {
    type: "password",
    autocomplete: "off",
    spellcheck: "false",
    "data-testid": "api-key",
    placeholder: "ik_…",
    required: true,
  });
  const error = h("p", { class: "error", role: "alert", "data-testid": "sign-in-error" }, problem ?? "");
  const button = h("button", { type: "submit", "data-testid": "sign-in" }, "Sign in");
  const form = h(
    "form",
    { class: "sign-in", "aria-labelledby": "sign-in-title" },
    h("h1", { id: "sign-in-title" }, "Policy workbench"),
    h("p", {}, "Sign in with the API key your administrator gave you. It stays in this tab only, and is forgotten when the tab closes."),
    field("API key", input),
    button,
    error,
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const key = input.value.trim();
    if (!key) return;
    button.disabled = true;
    start(root, key)
      .then(() => sessionStorage.setItem(KEY_STORAGE, key))
      .catch((e: unknown) => {
        button.disabled = false;
        error.textContent =
          e instanceof ApiError && e.status === 401
            ? "This key is not known, or has been revoked."
            : e instanceof Error
              ? e.message
              : String(e);
      });
  });
  replace(root, h("main", { class: "centre" }, form));
  input.focus();
}

async function start(root: HTMLElement, key: string): Promise<void> {
  const api = new Api(key);
  const caller = await api.call<Caller>("GET", "/v1/caller");
  const signOut = (): void => {
    sessionStorage.removeItem(KEY_STORAGE);
    history.replaceState(null, "", location.pathname);
    signIn(root);
  };
  const header = h(
    "header",
    { class: "top" },
    h("strong", {}, "incentive · policy workbench"),
    h(
      "span",
      { class: "who", "data-testid": "who" },
      `${caller.holder ?? "no holder"} · ${caller.role} · ${caller.tenant}`,
    ),
    h("button", { type: "button", class: "quiet", "data-testid": "sign-out", onclick: signOut }, "Sign out"),
  );
  if (!caller.may.includes("ReadPolicies")) {
    replace(
      root,
      header,
      h(
        "main",
        { class: "centre" },
        h(
          "p",
          { "data-testid": "no-workbench", role: "status" },
          `A ${caller.role} key has no part in the workbench: it neither reads nor writes policies. ` +
            "It works through the API (docs/api.md).",
        ),
      ),
    );
    return;
  }
  const workspace = new Workspace(api, caller);
  replace(root, header, workspace.element);
  await workspace.open(location.hash);
}
