import { call } from "../api";
import { field, h } from "../dom";
import { formatInstant } from "../format";
import { explain } from "../messages";
import { setTitle, show, type Page } from "../page";
import { adminOnly, scrollable } from "./campaigns";

interface Webhook {
  id: string;
  url: string;
  events: string[];
  campaignId: string | null;
  secret: string;
}

interface Delivery {
  id: number;
  eventType: string;
  eventId: string;
  status: "Pending" | "Delivered" | "DeadLettered";
  attempts: number;
  nextAttemptAt: string;
  lastStatusCode: number | null;
  lastError: string | null;
  createdAt: string;
}

const events = ["order.placed", "order.confirmed", "order.cancelled", "ticket.checked-in"];

/**
 * Organizers' webhooks: where the events go, the secret that signs them, and each subscription's delivery log, with
 * dead letters to send again.
 */
export const webhooksPage: Page = async (container) => {
  setTitle("Webhooks");
  if (!adminOnly(container)) return;
  const list = h("tbody", {});
  const log = h("section", { id: "webhook-log", "aria-live": "polite" });
  const url = h("input", { id: "webhook-url", type: "url", required: true, autocomplete: "off" });
  const campaign = h("input", { id: "webhook-campaign", autocomplete: "off" });
  const boxes = events.map((e) => h("input", { type: "checkbox", id: `webhook-event-${e}`, value: e, checked: true }));

  const showLog = async (hook: Webhook): Promise<void> => {
    const answer = await call<Delivery[]>(`/api/admin/webhooks/${hook.id}/deliveries`);
    if (!answer.ok) return show(explain(answer));
    const rows = answer.body!.map((d) => {
      const cells = h("td", {});
      if (d.status === "DeadLettered") {
        const again = h("button", { type: "button", class: "redeliver" }, "Send again");
        again.addEventListener("click", async () => {
          const sent = await call(`/api/admin/webhooks/deliveries/${d.id}/redeliver`, { method: "POST" });
          show(sent.ok ? `${d.eventId} will be sent again.` : explain(sent));
          await showLog(hook);
        });
        cells.append(again);
      }

      return h("tr", { "data-delivery-id": d.id, "data-status": d.status },
        h("td", {}, formatInstant(d.createdAt)), h("th", { scope: "row" }, `${d.eventType} (${d.eventId})`), h("td", { class: "status" }, d.status),
        h("td", {}, String(d.attempts)), h("td", {}, d.lastStatusCode === null ? (d.lastError ?? "") : `${d.lastStatusCode}${d.lastError ? `: ${d.lastError}` : ""}`), cells);
    });
    if (rows.length === 0) rows.push(h("tr", {}, h("td", { colspan: 6 }, "Nothing sent yet.")));
    log.replaceChildren(h("h2", {}, `Deliveries to ${hook.url}`), scrollable("Deliveries", h("table", { id: "webhook-deliveries" },
      h("caption", {}, "Newest first, the last 100"),
      h("thead", {}, h("tr", {}, ...["Made", "Event", "State", "Attempts", "Last answer", ""].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, ...rows))));
  };

  const load = async (): Promise<void> => {
    const answer = await call<Webhook[]>("/api/admin/webhooks");
    if (!answer.ok) return show(explain(answer));
    list.replaceChildren(...answer.body!.map((hook) => {
      const deliveries = h("button", { type: "button", class: "show-log" }, "Delivery log");
      deliveries.addEventListener("click", () => void showLog(hook));
      const remove = h("button", { type: "button", class: "unsubscribe" }, "Stop");
      remove.addEventListener("click", async () => {
        const stopped = await call(`/api/admin/webhooks/${hook.id}`, { method: "DELETE" });
        if (!stopped.ok) return show(explain(stopped));
        show(`Nothing more is sent to ${hook.url}.`);
        await load();
      });
      return h("tr", { "data-webhook-id": hook.id },
        h("th", { scope: "row" }, hook.url), h("td", {}, hook.events.join(", ")), h("td", {}, hook.campaignId ?? "Every campaign"),
        h("td", {}, h("code", { class: "secret" }, hook.secret)), h("td", {}, deliveries, " ", remove));
    }));
    if (list.children.length === 0) list.append(h("tr", {}, h("td", { colspan: 5 }, "No webhook yet.")));
  };

  const form = h("form", { id: "webhook-new", class: "card" }, h("h2", {}, "New webhook"),
    field("Address", url, "Events are POSTed here, signed (Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature)."),
    field("Campaign id", campaign, "Empty for every campaign."),
    h("fieldset", {}, h("legend", {}, "Events"), ...boxes.map((box) => h("label", { class: "check" }, box, ` ${box.value}`))),
    h("button", { type: "submit", class: "primary" }, "Subscribe"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const answer = await call<Webhook>("/api/admin/webhooks", {
      method: "POST",
      body: { url: url.value.trim(), events: boxes.filter((b) => b.checked).map((b) => b.value), campaignId: campaign.value.trim() || null },
    });
    if (!answer.ok) return show(explain(answer));
    show(`Subscribed: events go to ${answer.body!.url}, signed with the secret shown.`);
    form.reset();
    await load();
  });

  container.append(h("p", {}, h("a", { href: "#/admin" }, "Back to the console")), h("h1", {}, "Webhooks"),
    scrollable("Webhooks", h("table", { id: "webhooks" },
      h("thead", {}, h("tr", {}, ...["Address", "Events", "Campaign", "Secret", ""].map((c) => h("th", { scope: "col" }, c)))), list)),
    form, log);
  await load();
};
