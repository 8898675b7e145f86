import { call, type CampaignStatus } from "../api";
import { lineChart, rates, type Sample } from "../charts";
import { field, h } from "../dom";
import { explain } from "../messages";
import { setTitle, show, type Page } from "../page";
import { adminOnly, scrollable } from "./campaigns";

export interface CategoryFigures {
  name: string;
  kind: "Seats" | "GeneralAdmission";
  capacity: number;
  sold: number;
  held: number;
  free: number;
}

export interface SalesDashboard {
  campaignId: string;
  name: string;
  status: CampaignStatus;
  categories: CategoryFigures[];
  holdsPlaced: number;
  purchasesConfirmed: number;
  purchasesFailed: number;
  ticketsSold: number;
  revenueCents: number;
  purchasesPending: number;
  purchasesQueued: number | null;
  deadLettered: number;
  deadLettersWaiting: number | null;
  waitingRoom: { enabled: boolean; waiting: number; admitted: number; preQueue: number; admissionsPerSecond: number; paceAdmissionsByStock: boolean } | null;
  inventoryDriftSeats: number | null;
  ticketsCheckedIn: number;
  inventoryCheckedAt: string | null;
}

const keep = 120;
const intervalSeconds = 1;

/** A campaign's sale as it happens: what is sold, held and free, the rates, the line, purchases in flight, health. */
export const dashboardPage: Page = async (container, [id]) => {
  setTitle("Sales dashboard");
  if (!adminOnly(container)) return;
  const title = h("h1", {}, "Sales dashboard");
  const tiles = h("div", { id: "tiles", class: "tiles" });
  const table = h("tbody", {});
  const charts = h("div", { id: "charts", class: "charts" });
  const updated = h("p", { class: "hint", id: "updated" });
  const reconcile = h("button", { type: "button", id: "reconcile" }, "Reconcile the inventory");
  reconcile.addEventListener("click", async () => {
    reconcile.disabled = true;
    const answer = await call<{ soldSeats: number; holdsKept: number; holdsDropped: number }>(`/api/admin/campaigns/${id}/reconcile`, { method: "POST" });
    reconcile.disabled = false;
    show(answer.ok
      ? `Inventory rebuilt from the database: ${answer.body!.soldSeats} seats sold, ${answer.body!.holdsKept} holds kept, ${answer.body!.holdsDropped} dropped.`
      : explain(answer));
  });
  const rate = h("input", { id: "dashboard-rate", type: "number", min: 0.1, step: "any" });
  const setRate = h("button", { type: "button", id: "set-rate" }, "Set the admission rate");
  // Only for a sale behind a waiting room: its rate is what the line moves at.
  const rateBox = h("div", { class: "rate", hidden: true }, field("Admissions per second", rate), setRate);
  container.append(h("p", {}, h("a", { href: "#/admin" }, "Back to the console"), " · ", h("a", { href: `#/admin/campaigns/${id}/promo-codes`, id: "promo-codes-link" }, "Promo codes")), title, updated, tiles,
    scrollable("Tickets by category", h("table", { id: "categories" }, h("caption", {}, "Tickets by category"),
      h("thead", {}, h("tr", {}, ...["Category", "Capacity", "Sold", "Held", "Free"].map((c) => h("th", { scope: "col" }, c)))), table)),
    charts, h("p", { class: "actions" }, reconcile), rateBox);

  const samples: Sample[] = [];
  const queueLengths: number[] = [];
  let last: SalesDashboard | null = null;
  setRate.addEventListener("click", async () => {
    if (!last) return;
    const answer = await call(`/api/admin/campaigns/${id}/waiting-room`, {
      method: "PUT",
      body: { enabled: true, admissionsPerSecond: Number(rate.value), paceAdmissionsByStock: last.waitingRoom?.paceAdmissionsByStock ?? true },
    });
    show(answer.ok ? `Admitting ${rate.value} buyers a second.` : explain(answer));
  });

  let stopped = false;
  let timer = 0;
  const poll = async () => {
    const answer = await call<SalesDashboard>(`/api/admin/campaigns/${id}/dashboard`);
    if (stopped) return;
    if (!answer.ok) {
      updated.textContent = `Not updated: ${explain(answer)}`;
    } else {
      const d = answer.body!;
      if (!last) rate.value = String(d.waitingRoom?.admissionsPerSecond ?? "");
      rateBox.hidden = !d.waitingRoom?.enabled;
      last = d;
      title.textContent = `Sales dashboard: ${d.name}`;
      samples.push({ at: performance.now(), counters: { holds: d.holdsPlaced, confirmations: d.purchasesConfirmed } });
      queueLengths.push(d.waitingRoom?.waiting ?? 0);
      if (samples.length > keep) samples.shift();
      if (queueLengths.length > keep) queueLengths.shift();
      render(d);
      updated.textContent = `Live: updated ${new Date().toLocaleTimeString("en")}.`;
    }

    timer = window.setTimeout(() => void poll(), intervalSeconds * 1000);
  };

  const render = (d: SalesDashboard) => {
    const holdRates = rates(samples, "holds");
    const confirmationRates = rates(samples, "confirmations");
    const latest = (values: number[]) => (values.length > 0 ? values[values.length - 1]! : 0);
    const tile = (key: string, label: string, value: string, warn = false) =>
      h("div", { class: `tile${warn ? " warn" : ""}`, "data-figure": key }, h("span", { class: "tile-label" }, label), h("strong", { class: "tile-value" }, value));
    const total = d.categories.reduce((sum, c) => ({ sold: sum.sold + c.sold, held: sum.held + c.held, free: sum.free + c.free }), { sold: 0, held: 0, free: 0 });
    tiles.replaceChildren(
      tile("status", "State", d.status),
      tile("sold", "Tickets sold", total.sold.toLocaleString("en")),
      tile("held", "Tickets held", total.held.toLocaleString("en")),
      tile("free", "Tickets free", total.free.toLocaleString("en")),
      tile("checked-in", "Checked in at the door", `${d.ticketsCheckedIn.toLocaleString("en")} of ${d.ticketsSold.toLocaleString("en")}`),
      tile("holds-per-second", "Holds per second", latest(holdRates).toFixed(1)),
      tile("confirmations-per-second", "Confirmations per second", latest(confirmationRates).toFixed(1)),
      tile("queue", "Waiting in line", d.waitingRoom?.enabled ? d.waitingRoom.waiting.toLocaleString("en") : "no waiting room"),
      tile("admission-rate", "Admissions per second", d.waitingRoom?.enabled ? String(d.waitingRoom.admissionsPerSecond) : "–"),
      tile("in-flight", "Purchases in flight", `${d.purchasesPending} paying${d.purchasesQueued === null ? "" : `, ${d.purchasesQueued} queued`}`),
      tile("confirmed", "Purchases confirmed", d.purchasesConfirmed.toLocaleString("en")),
      tile("dead-letters", "Dead letters", `${d.deadLettered}${d.deadLettersWaiting ? ` (+${d.deadLettersWaiting} waiting)` : ""}`, d.deadLettered > 0),
      tile("drift", "Inventory drift", d.inventoryDriftSeats === null ? "not checked yet" : `${d.inventoryDriftSeats} seats`, (d.inventoryDriftSeats ?? 0) > 0));
    table.replaceChildren(...d.categories.map((c) => h("tr", { "data-category": c.name },
      h("th", { scope: "row" }, `${c.name}${c.kind === "GeneralAdmission" ? " (general admission)" : ""}`),
      ...[c.capacity, c.sold, c.held, c.free].map((n) => h("td", {}, n.toLocaleString("en"))))));
    charts.replaceChildren(
      h("figure", {}, lineChart(holdRates, "Holds per second"), h("figcaption", {}, "Holds per second")),
      h("figure", {}, lineChart(confirmationRates, "Confirmations per second"), h("figcaption", {}, "Confirmations per second")),
      h("figure", {}, lineChart(queueLengths, "Waiting in line"), h("figcaption", {}, "Waiting in line")));
  };

  await poll();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
};
