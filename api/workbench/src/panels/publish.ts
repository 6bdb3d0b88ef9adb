// Four eyes: a draft is approved by a key of another holder, then published. The server
// enforces it (a change after approval voids it); the page shows where the draft stands.

import { path, type Approval, type PolicyVersion } from "../api";
import { field, h, replace } from "../dom";
import type { Context } from "../workspace";

export function publishPanel(ctx: Context): HTMLElement {
  const v = ctx.version();
  if (!v) return h("p", {}, "Open a version.");
  const entry = ctx.versions().find((x) => x.version === v.version);
  const approvals: Approval[] = entry?.approvals ?? [];
  const standing = approvals.filter((a) => a.current);
  const me = ctx.caller.holder;
  const out = h("div", { "data-testid": "publish-result", "aria-live": "polite" });
  const parts: (HTMLElement | null)[] = [
    h(
      "p",
      { "data-testid": "approval-state" },
      v.status !== "draft"
        ? `${v.version} is ${v.status}${v.stored_by ? `; stored by ${v.stored_by}` : ""}.`
        : standing.length > 0
          ? `Approved by ${standing.map((a) => a.approver).join(", ")}: it may be published.`
          : ctx.caller.four_eyes
            ? `Draft${v.stored_by ? ` stored by ${v.stored_by}` : ""}: it needs the approval of another person before it can be published.`
            : "Draft: this tenant publishes without a second approval.",
    ),
    approvals.length
      ? h(
          "ul",
          { class: "approvals", "data-testid": "approvals" },
          approvals.map((a) =>
            h("li", { class: a.current ? "" : "void" }, `${a.approver}, ${when(a.approved_at)}: “${a.comment}”`, a.current ? "" : " — void: the draft changed after it"),
          ),
        )
      : null,
  ];
  if (v.status === "draft" && ctx.may("AuthorPolicies") && ctx.caller.four_eyes && me && me === v.stored_by) {
    const ask = h("button", { type: "button", "data-testid": "ask-approval" }, "Ask for approval");
    ask.addEventListener("click", () => {
      ctx
        .saved()
        .then((saved) => {
          const link = `${location.origin}${location.pathname}#policy=${encodeURIComponent(saved.policy_id)}&version=${encodeURIComponent(saved.version)}`;
          replace(
            out,
            h("p", {}, "Send this link to the person who approves; they open it with their own key:"),
            h("input", { type: "text", readonly: true, value: link, "data-testid": "approval-link", "aria-label": "Link to the draft", size: 60 }),
          );
        })
        .catch((e: unknown) => ctx.fail(e));
    });
    parts.push(ask);
  }
  const approvedByMe = standing.some((a) => a.approver === me);
  if (v.status === "draft" && ctx.may("ApprovePolicies") && me && me !== v.stored_by && !approvedByMe) {
    const comment = h("textarea", { rows: 3, maxlength: 2000, "data-testid": "approval-comment" });
    const approve = h("button", { type: "button", "data-testid": "approve" }, `Approve ${v.version} as ${me}`);
    approve.addEventListener("click", () => {
      approve.disabled = true;
      ctx.api
        .call<Approval>("POST", path`/v1/policies/${v.policy_id}/versions/${v.version}/approve`, { comment: comment.value })
        .then(async () => {
          await ctx.refresh(v.version);
          ctx.say(`Approved ${v.policy_id} ${v.version}.`);
        })
        .catch((e: unknown) => ctx.fail(e))
        .finally(() => (approve.disabled = false));
    });
    parts.push(field("Why it may ship", comment), approve);
  }
  if (v.status === "draft" && ctx.may("AuthorPolicies")) {
    const publish = h("button", { type: "button", "data-testid": "publish" }, `Publish ${v.version}`);
    publish.addEventListener("click", () => {
      publish.disabled = true;
      ctx
        .saved()
        .then((saved) => ctx.api.call<PolicyVersion>("POST", path`/v1/policies/${saved.policy_id}/versions/${saved.version}/publish`))
        .then(async (published) => {
          await ctx.refresh(published.version);
          ctx.say(`Published ${published.policy_id} ${published.version}: members are decided by it from ${published.effective_from}.`);
        })
        .catch((e: unknown) => ctx.fail(e))
        .finally(() => (publish.disabled = false));
    });
    parts.push(publish);
  }
  parts.push(out);
  return h("div", {}, parts);
}

/** `2026-12-05T16:46:44.362553Z` as `2026-12-05 16:46 UTC`: the record keeps the instant. */
function when(instant: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})/.exec(instant);
  return m ? `${m[1]} ${m[2]} UTC` : instant;
}
