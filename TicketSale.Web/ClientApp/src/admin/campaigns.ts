import { call, type CampaignDetails, type CampaignSummary } from "../api";
import { h } from "../dom";
import { formatDate } from "../format";
import { explain } from "../messages";
import { setTitle, show, type Page } from "../page";
import { isAdmin } from "../session";

export function adminOnly(container: HTMLElement): boolean {
  if (isAdmin()) return true;
  container.append(h("h1", {}, "Organizers only"), h("p", {}, "Sign in with an organizer account to use the console."));
  return false;
}

const steps: Partial<Record<CampaignSummary["status"], { action: string; label: string }>> = {
  Draft: { action: "publish", label: "Publish" },
  Published: { action: "open", label: "Open the sale" },
  OnSale: { action: "close", label: "Close the sale" },
};

/** The organizer's console: every campaign with its state, the next step of its lifecycle, and its dashboard. */
export const adminCampaignsPage: Page = async (container) => {
  setTitle("Organizer console");
  if (!adminOnly(container)) return;
  container.append(h("h1", {}, "Organizer console"),
    h("p", { class: "actions" }, h("a", { href: "#/admin/campaigns/new", class: "button primary" }, "New campaign"), " ", h("a", { href: "#/admin/venues", class: "button" }, "Venues"), " ", h("a", { href: "#/admin/audit", class: "button" }, "Audit log"), " ", h("a", { href: "#/admin/webhooks", class: "button" }, "Webhooks")));
  const answer = await call<CampaignSummary[]>("/api/admin/campaigns");
  if (!answer.ok) return show(explain(answer));
  const rows = answer.body!.map((campaign) => {
    const step = steps[campaign.status];
    const cells = h("td", {});
    if (step) {
      const button = h("button", { type: "button", class: `step-${step.action}` }, step.label);
      button.addEventListener("click", async () => {
        button.disabled = true;
        const moved = await call<CampaignDetails>(`/api/admin/campaigns/${campaign.id}/${step.action}`, { method: "POST" });
        show(moved.ok ? `${campaign.name}: ${moved.body!.status === "OnSale" ? "the sale is open" : moved.body!.status === "Closed" ? "the sale is closed" : "published"}.` : explain(moved), true);
        window.dispatchEvent(new HashChangeEvent("hashchange"));
      });
      cells.append(button, " ");
    }

    if (campaign.status === "Draft" || campaign.status === "Published") cells.append(h("a", { href: `#/admin/campaigns/${campaign.id}/edit` }, "Edit"), " ");
    cells.append(h("a", { href: `#/admin/campaigns/${campaign.id}`, class: "dashboard-link" }, "Dashboard"));
    return h("tr", { "data-campaign-id": campaign.id },
      h("th", { scope: "row" }, campaign.name), h("td", { class: "status" }, campaign.status), h("td", {}, formatDate(campaign.saleOpensAt)), cells);
  });
  container.append(scrollable("Campaigns", h("table", { id: "admin-campaigns" },
    h("caption", {}, "Campaigns, newest first"),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Campaign"), h("th", { scope: "col" }, "State"), h("th", { scope: "col" }, "Sale opens"), h("th", { scope: "col" }, "Actions"))),
    h("tbody", {}, ...rows))));
};

/** A wide table in a region of its own that scrolls sideways on a narrow screen, not the whole page (keyboard too). */
export function scrollable(label: string, table: HTMLTableElement): HTMLElement {
  return h("div", { class: "table-scroll", role: "region", "aria-label": label, tabindex: 0 }, table);
}
