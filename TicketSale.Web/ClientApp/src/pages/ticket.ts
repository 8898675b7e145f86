import QRCode from "qrcode";
import { call } from "../api";
import { h } from "../dom";
import { formatDate, formatPrice } from "../format";
import { explain } from "../messages";
import { setTitle, show, type Page } from "../page";
import { session } from "../session";

export interface TicketPass {
  id: string;
  orderId: string;
  campaignId: string;
  campaignName: string;
  eventAt: string;
  place: string;
  priceCents: number;
  active: boolean;
  checkedInAt: string | null;
  /** The signed code the QR code shows; null once the ticket is cancelled. */
  code: string | null;
}

/** One ticket as the buyer shows it at the door: a card with its QR code, printable (to paper or PDF). */
export const ticketPage: Page = async (container, [orderId, ticketId]) => {
  setTitle("Ticket");
  if (!session().signedIn) {
    container.append(h("h1", {}, "Ticket"), h("p", {}, "Sign in to see your tickets."));
    return;
  }

  const answer = await call<TicketPass>(`/api/orders/${orderId}/tickets/${ticketId}`);
  if (!answer.ok) {
    container.append(h("h1", {}, "Ticket"));
    return show(explain(answer));
  }

  const pass = answer.body!;
  setTitle(`Ticket · ${pass.campaignName}`);
  const card = h("article", { id: "ticket", class: "card ticket-pass", "data-ticket-id": pass.id },
    h("h1", {}, pass.campaignName),
    h("p", { class: "event-date" }, formatDate(pass.eventAt)),
    h("p", { class: "place" }, pass.place),
    h("p", {}, formatPrice(pass.priceCents)));
  if (pass.code) {
    const canvas = h("canvas", { id: "ticket-qr", "data-code": pass.code, role: "img", "aria-label": "The ticket's QR code, to scan at the door" });
    await QRCode.toCanvas(canvas, pass.code, { errorCorrectionLevel: "M", margin: 4, scale: 6 });
    card.append(canvas, h("p", { class: "code" }, h("small", {}, "Code: "), h("code", {}, pass.code)));
    if (pass.checkedInAt) card.append(h("p", { class: "status" }, `Checked in ${formatDate(pass.checkedInAt)}.`));
    const print = h("button", { type: "button", id: "print-ticket" }, "Print or save as PDF");
    print.addEventListener("click", () => window.print());
    card.append(h("p", { class: "no-print" }, print));
  } else {
    card.append(h("p", { class: "status status-Cancelled" }, "This ticket was cancelled: it does not admit anyone."));
  }

  container.append(card, h("p", { class: "no-print" }, h("a", { href: "#/orders" }, "Back to my orders")));
};
