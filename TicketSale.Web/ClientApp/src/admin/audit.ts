import { call } from "../api";
import { field, h } from "../dom";
import { formatInstant } from "../format";
import { explain } from "../messages";
import { setTitle, show, type Page } from "../page";
import { adminOnly, scrollable } from "./campaigns";

interface AuditEntry {
  id: number;
  at: string;
  action: string;
  actorId: string | null;
  account: string | null;
  subjectId: string | null;
  address: string | null;
  detail: string;
}

const actions = ["sign-in", "sign-in-failed", "sign-in-delayed", "sign-in-refused", "second-factor-failed", "refresh-token-reused", "password-changed",
  "second-factor-enrolled", "account-disabled", "account-enabled", "role-changed", "admin-change", "refund", "check-in"];

/** The audit log: who did what, newest first, by action or account, a page at a time. Read-only: nobody edits it. */
export const auditPage: Page = async (container) => {
  setTitle("Audit log");
  if (!adminOnly(container)) return;
  const action = h("select", { id: "audit-action" }, h("option", { value: "" }, "Every action"), ...actions.map((a) => h("option", { value: a }, a)));
  const account = h("input", { id: "audit-account", type: "email", autocomplete: "off" });
  const body = h("tbody", {});
  const more = h("button", { type: "button", id: "audit-older", hidden: true }, "Older entries");
  let before: number | null = null;

  const load = async (reset: boolean): Promise<void> => {
    if (reset) {
      before = null;
      body.replaceChildren();
    }

    const query = new URLSearchParams({ limit: "50" });
    if (action.value) query.set("action", action.value);
    if (account.value.trim()) query.set("account", account.value.trim());
    if (before !== null) query.set("before", String(before));
    const answer = await call<{ entries: AuditEntry[]; before: number | null }>(`/api/admin/audit?${query}`);
    if (!answer.ok) return show(explain(answer));
    body.append(...answer.body!.entries.map((e) => h("tr", { "data-audit-id": e.id, "data-action": e.action },
      h("td", {}, formatInstant(e.at)), h("th", { scope: "row" }, e.action), h("td", {}, e.account ?? ""), h("td", {}, e.detail),
      h("td", { class: "nowrap" }, e.address ?? ""), h("td", { class: "ids" }, [e.actorId && `by ${e.actorId}`, e.subjectId && `on ${e.subjectId}`].filter(Boolean).join(" ")))));
    if (body.children.length === 0) body.append(h("tr", {}, h("td", { colspan: 6 }, "Nothing recorded yet.")));
    before = answer.body!.before;
    more.hidden = before === null;
  };

  const filters = h("form", { id: "audit-filters", class: "card" }, field("Action", action), field("Account (e-mail address)", account),
    h("button", { type: "submit", class: "primary" }, "Show"));
  filters.addEventListener("submit", (event) => {
    event.preventDefault();
    void load(true);
  });
  more.addEventListener("click", () => void load(false));
  container.append(h("h1", {}, "Audit log"), filters, scrollable("Audit log", h("table", { id: "audit" },
    h("caption", {}, "Newest first"),
    h("thead", {}, h("tr", {}, ...["When", "Action", "Account", "What", "Address", "Who / on what"].map((c) => h("th", { scope: "col" }, c)))),
    body)), h("p", {}, more));
  await load(true);
};
