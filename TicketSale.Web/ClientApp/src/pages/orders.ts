import { call, type CampaignDetails, type Order, type Ticket } from "../api";
import { h } from "../dom";
import { formatDate, formatPrice } from "../format";
import { explain } from "../messages";
import { setTitle, show, type Page } from "../page";
import { SeatLayout } from "../seatmap/layout";
import { session } from "../session";

/** The buyer's orders, newest first, each with its tickets, and cancellation where the campaign allows it. */
export const ordersPage: Page = async (container) => {
  setTitle("My orders");
  container.append(h("h1", {}, "My orders"));
  if (!session().signedIn) {
    container.append(h("p", {}, "Sign in to see your orders."));
    return;
  }

  const answer = await call<Order[]>("/api/orders");
  if (!answer.ok) return show(explain(answer));
  const orders = answer.body!;
  if (orders.length === 0) {
    container.append(h("p", {}, "No orders yet. ", h("a", { href: "#/" }, "See what is on sale.")));
    return;
  }

  const campaigns = new Map<string, CampaignDetails | null>();
  await Promise.all([...new Set(orders.map((o) => o.campaignId))].map(async (id) => {
    const details = await call<CampaignDetails>(`/api/campaigns/${id}`);
    campaigns.set(id, details.body);
  }));
  const list = h("ul", { id: "orders", class: "cards" });
  for (const order of orders) list.append(renderOrder(order, campaigns.get(order.campaignId) ?? null));
  container.append(list);
};

function renderOrder(order: Order, campaign: CampaignDetails | null): HTMLElement {
  const layout = campaign?.venue ? new SeatLayout(campaign.venue.sections, campaign.prices.map((p) => p.category)) : null;
  const ticketLabel = (ticket: Ticket): string =>
    ticket.seatIndex !== null
      ? (layout?.label(ticket.seatIndex) ?? `Seat ${ticket.seatIndex + 1}`)
      : (campaign?.generalAdmission.find((g) => g.id === ticket.generalAdmissionCategoryId)?.name ?? "General admission");
  const status = h("p", { class: `status status-${order.status}` }, order.status === "Confirmed" ? "Confirmed" : "Cancelled");
  const item = h("li", { class: "card", "data-order-id": order.id },
    h("h2", {}, campaign?.name ?? "Campaign"),
    status,
    h("p", {}, `Ordered ${formatDate(order.createdAt)} · ${formatPrice(order.totalCents)}`, campaign ? ` · event ${formatDate(campaign.eventAt)}` : ""),
    h("ul", { class: "tickets" }, ...order.tickets.map((t) => h("li", { "data-ticket-id": t.id, class: t.active ? "" : "void" },
      `${ticketLabel(t)} · ${formatPrice(t.priceCents)}${t.active ? "" : " (cancelled)"}`,
      t.active ? h("a", { href: `#/orders/${order.id}/tickets/${t.id}`, class: "show-ticket" }, " Show ticket (QR code)") : null))));
  if (order.status === "Confirmed" && campaign?.cancellationAllowed) {
    const cancel = h("button", { type: "button", class: "cancel-order" }, "Cancel this order");
    const confirm = h("button", { type: "button", class: "confirm-cancel danger", hidden: true }, "Yes, cancel it and refund me");
    cancel.addEventListener("click", () => {
      confirm.hidden = false;
      confirm.focus();
    });
    confirm.addEventListener("click", async () => {
      confirm.disabled = true;
      const answer = await call<Order>(`/api/orders/${order.id}/cancel`, { method: "POST" });
      if (!answer.ok) {
        confirm.disabled = false;
        return show(explain(answer));
      }

      item.replaceWith(renderOrder(answer.body!, campaign));
      show("The order is cancelled and will be refunded; its tickets are back on sale.");
    });
    item.append(h("p", {}, cancel, " ", confirm));
  }

  return item;
}
