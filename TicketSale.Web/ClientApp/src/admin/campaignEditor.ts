import { call, type CampaignDetails, type Venue } from "../api";
import { field, h } from "../dom";
import { explain } from "../messages";
import { setTitle, show, type Page } from "../page";
import { adminOnly } from "./campaigns";

/** "2026-12-07T18:30" in the organizer's time zone, as a datetime-local input takes it. */
export function toLocalInput(iso: string): string {
  const date = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

const inHours = (hours: number) => toLocalInput(new Date(Date.now() + hours * 3600_000).toISOString());

interface GaDraft {
  name: HTMLInputElement;
  capacity: HTMLInputElement;
  price: HTMLInputElement;
}

/**
 * A campaign's settings: venue, dates, prices per category, general admission, per-user limit, hold time,
 * cancellation and the waiting room. Edits are made against the version loaded (a concurrent edit is refused, not
 * overwritten), until the sale opens.
 */
export const campaignEditorPage: Page = async (container, [id]) => {
  setTitle(id ? "Edit campaign" : "New campaign");
  if (!adminOnly(container)) return;
  const venuesAnswer = await call<Venue[]>("/api/admin/venues");
  if (!venuesAnswer.ok) return show(explain(venuesAnswer));
  const venues = venuesAnswer.body!;
  let existing: CampaignDetails | null = null;
  if (id) {
    const loaded = await call<CampaignDetails>(`/api/admin/campaigns/${id}`);
    if (!loaded.ok) return show(explain(loaded));
    existing = loaded.body!;
  }

  const input = (key: string, attributes: Record<string, string | number | boolean>) => h("input", { id: `campaign-${key}`, ...attributes });
  const name = input("name", { required: true, maxlength: 200, value: existing?.name ?? "" });
  const venue = h("select", { id: "campaign-venue" }, h("option", { value: "" }, "No reserved seats (general admission only)"),
    ...venues.map((v) => h("option", { value: v.id, selected: existing?.venue?.id === v.id }, `${v.name} (${v.seatCount.toLocaleString("en")} seats)`)));
  const eventAt = input("event", { type: "datetime-local", required: true, value: existing ? toLocalInput(existing.eventAt) : inHours(24 * 30) });
  const opens = input("opens", { type: "datetime-local", required: true, value: existing ? toLocalInput(existing.saleOpensAt) : inHours(0) });
  const closes = input("closes", { type: "datetime-local", required: true, value: existing ? toLocalInput(existing.saleClosesAt) : inHours(24 * 7) });
  const limit = input("limit", { type: "number", min: 1, max: 50, required: true, value: existing?.perUserLimit ?? 4 });
  const holdSeconds = input("hold-seconds", { type: "number", min: 2, max: 1200, required: true, value: existing?.holdSeconds ?? 600 });
  const cancellation = input("cancellation", { type: "checkbox", checked: existing?.cancellationAllowed ?? true });
  const waitingRoom = input("waiting-room", { type: "checkbox", checked: existing?.waitingRoomEnabled ?? false });
  const rate = input("admission-rate", { type: "number", min: 0.1, max: 100000, step: "any", required: true, value: existing?.admissionsPerSecond ?? 50 });
  const pace = input("pace", { type: "checkbox", checked: existing?.paceAdmissionsByStock ?? true });

  const pricesBox = h("fieldset", { id: "prices" }, h("legend", {}, "Seat prices per category (€)"));
  const priceInputs = new Map<string, HTMLInputElement>();
  const renderPrices = () => {
    const chosen = venues.find((v) => v.id === venue.value);
    const categories = [...new Set(chosen?.sections.map((s) => s.priceCategory) ?? [])];
    pricesBox.replaceChildren(h("legend", {}, "Seat prices per category (€)"));
    if (categories.length === 0) pricesBox.append(h("p", { class: "hint" }, "Pick a venue to price its seats."));
    categories.forEach((category, i) => {
      const cents = existing?.prices.find((p) => p.category === category)?.priceCents;
      const price = priceInputs.get(category) ?? h("input", { id: `price-${i + 1}`, type: "number", min: 0, step: "0.01", required: true, value: cents !== undefined ? cents / 100 : 50 });
      priceInputs.set(category, price);
      pricesBox.append(field(category, price));
    });
  };
  venue.addEventListener("change", renderPrices);
  renderPrices();

  const gaBox = h("fieldset", { id: "general-admission-editor" }, h("legend", {}, "General admission"));
  const gaDrafts: GaDraft[] = [];
  const addGa = (values = { name: "Standing", capacity: 100, priceCents: 3000 }) => {
    const n = gaDrafts.length + 1;
    const draft: GaDraft = {
      name: h("input", { id: `ga-${n}-name`, required: true, maxlength: 50, value: values.name }),
      capacity: h("input", { id: `ga-${n}-capacity`, type: "number", min: 1, max: 1000000, required: true, value: values.capacity }),
      price: h("input", { id: `ga-${n}-price`, type: "number", min: 0, step: "0.01", required: true, value: values.priceCents / 100 }),
    };
    gaDrafts.push(draft);
    const remove = h("button", { type: "button", class: "link" }, `Remove category ${n}`);
    const row = h("div", { class: "ga-row" }, field("Name", draft.name), field("Tickets", draft.capacity), field("Price (€)", draft.price), remove);
    remove.addEventListener("click", () => { gaDrafts.splice(gaDrafts.indexOf(draft), 1); row.remove(); });
    gaBox.append(row);
  };
  for (const g of existing?.generalAdmission ?? []) addGa({ name: g.name, capacity: g.capacity, priceCents: g.priceCents });
  const addGaButton = h("button", { type: "button", id: "add-ga" }, "Add a general-admission category");
  addGaButton.addEventListener("click", () => addGa());

  const form = h("form", { id: "campaign-form", "aria-labelledby": "campaign-form-title" },
    h("h1", { id: "campaign-form-title" }, existing ? `Edit ${existing.name}` : "New campaign"),
    field("Name", name), field("Venue", venue),
    field("Event starts", eventAt), field("Sale opens", opens), field("Sale closes", closes),
    pricesBox, gaBox, addGaButton,
    field("Tickets per person", limit), field("Hold time (seconds)", holdSeconds, "How long picked tickets are kept while the buyer pays."),
    h("div", { class: "check" }, cancellation, h("label", { for: cancellation.id }, "Buyers may cancel their orders")),
    h("fieldset", {}, h("legend", {}, "Waiting room"),
      h("div", { class: "check" }, waitingRoom, h("label", { for: waitingRoom.id }, "Buyers wait in line for their turn")),
      field("Admissions per second", rate),
      h("div", { class: "check" }, pace, h("label", { for: pace.id }, "Admit no more buyers than there are tickets left"))),
    h("button", { type: "submit", class: "primary" }, existing ? "Save changes" : "Create the campaign"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = {
      name: name.value.trim(),
      venueId: venue.value || null,
      eventAt: new Date(eventAt.value).toISOString(),
      saleOpensAt: new Date(opens.value).toISOString(),
      saleClosesAt: new Date(closes.value).toISOString(),
      perUserLimit: Number(limit.value),
      cancellationAllowed: cancellation.checked,
      prices: [...priceInputs].filter(([category]) => venues.find((v) => v.id === venue.value)?.sections.some((s) => s.priceCategory === category))
        .map(([category, input]) => ({ category, priceCents: Math.round(Number(input.value) * 100) })),
      generalAdmission: gaDrafts.map((g) => ({ name: g.name.value.trim(), capacity: Number(g.capacity.value), priceCents: Math.round(Number(g.price.value) * 100) })),
      holdSeconds: Number(holdSeconds.value),
      waitingRoomEnabled: waitingRoom.checked,
      admissionsPerSecond: Number(rate.value),
      paceAdmissionsByStock: pace.checked,
      version: existing?.version ?? null,
    };
    const answer = existing
      ? await call<CampaignDetails>(`/api/admin/campaigns/${existing.id}`, { method: "PUT", body })
      : await call<CampaignDetails>("/api/admin/campaigns", { method: "POST", body });
    if (!answer.ok) return show(explain(answer));
    show(`${answer.body!.name} saved. Publish it from the console when it is ready.`, true);
    location.hash = "#/admin";
  });
  container.append(h("p", {}, h("a", { href: "#/admin" }, "Back to the console")), form);
};
