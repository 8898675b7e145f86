import { call } from "../api";
import { field, h } from "../dom";
import { formatPrice } from "../format";
import { explain } from "../messages";
import { setTitle, show, type Page } from "../page";
import { adminOnly, scrollable } from "./campaigns";

interface PromoCode {
  id: string;
  code: string;
  kind: "Percent" | "AmountOff";
  value: number;
  category: string | null;
  budget: number;
  used: number;
}

/** A campaign's promo codes: what each takes off, on which tickets, and how much of its budget of uses is taken. */
export const promoCodesPage: Page = async (container, [campaignId]) => {
  setTitle("Promo codes");
  if (!adminOnly(container)) return;
  const body = h("tbody", {});
  const code = h("input", { id: "promo-new-code", required: true, maxlength: 32, autocomplete: "off" });
  const kind = h("select", { id: "promo-new-kind" }, h("option", { value: "Percent" }, "Percent off"), h("option", { value: "AmountOff" }, "Amount off per ticket (cents)"));
  const value = h("input", { id: "promo-new-value", type: "number", min: 1, required: true });
  const category = h("input", { id: "promo-new-category", autocomplete: "off" });
  const budget = h("input", { id: "promo-new-budget", type: "number", min: 1, required: true });

  const load = async (): Promise<void> => {
    const answer = await call<PromoCode[]>(`/api/admin/campaigns/${campaignId}/promo-codes`);
    if (!answer.ok) return show(explain(answer));
    body.replaceChildren(...answer.body!.map((c) => h("tr", { "data-code": c.code },
      h("th", { scope: "row" }, c.code),
      h("td", {}, c.kind === "Percent" ? `${c.value} % off` : `${formatPrice(c.value)} off`),
      h("td", {}, c.category ?? "Every ticket"),
      h("td", { class: "uses" }, `${c.used} of ${c.budget}`))));
    if (body.children.length === 0) body.append(h("tr", {}, h("td", { colspan: 4 }, "No promo code yet.")));
  };

  const form = h("form", { id: "promo-new", class: "card" }, h("h2", {}, "New promo code"),
    field("Code", code, "3 to 32 letters, digits or '-'; buyers type it in any case."), field("Discount", kind), field("Value", value),
    field("Category", category, "A price category or general-admission category; empty for every ticket."), field("Uses", budget, "How many purchases may use it."),
    h("button", { type: "submit", class: "primary" }, "Create"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const answer = await call(`/api/admin/campaigns/${campaignId}/promo-codes`, {
      method: "POST",
      body: { code: code.value.trim(), kind: kind.value, value: Number(value.value), category: category.value.trim() || null, budget: Number(budget.value) },
    });
    if (!answer.ok) return show(explain(answer));
    show(`Promo code ${code.value.trim().toUpperCase()} created.`);
    form.reset();
    await load();
  });

  container.append(h("p", {}, h("a", { href: `#/admin/campaigns/${campaignId}` }, "Back to the dashboard")), h("h1", {}, "Promo codes"),
    scrollable("Promo codes", h("table", { id: "promo-codes" },
      h("thead", {}, h("tr", {}, ...["Code", "Discount", "On", "Used"].map((c) => h("th", { scope: "col" }, c)))), body)),
    form);
  await load();
};
