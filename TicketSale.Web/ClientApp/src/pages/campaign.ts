import { call, problemKind, sleep, type CampaignDetails, type Hold, type PriceQuote, type SeatsAnswer, type WaitingList } from "../api";
import { field, h } from "../dom";
import { formatCountdown, formatDate, formatPrice } from "../format";
import { explain } from "../messages";
import { setTitle, show, type Page } from "../page";
import { purchase } from "../purchase";
import { Availability, categoryKey } from "../seatmap/availability";
import { SeatLayout } from "../seatmap/layout";
import { bestAvailable } from "../seatmap/picking";
import { SeatMap, categoryColors } from "../seatmap/SeatMap";
import { session } from "../session";
import { goAway, waitForTurn } from "../waitingRoom";

/**
 * A campaign's page: its dates and prices, the seat map kept live by the change stream, picking seats (pointer or
 * keyboard) or a general-admission quantity, the hold with its countdown, payment and its outcome. Behind a waiting
 * room, the visitor first waits for their turn (position and expected wait shown), and the map loads once it comes.
 */
export const campaignPage: Page = async (container, [id], left) => {
  const answer = await call<CampaignDetails>(`/api/campaigns/${id}`, { signal: left });
  if (left.aborted) return;
  if (!answer.ok) {
    setTitle("Campaign");
    container.append(h("h1", {}, "Campaign not found"));
    show(explain(answer));
    return;
  }

  const page = new CampaignPage(container, answer.body!);
  // Left while loading: its stream and map stop then, not when it has finished starting.
  left.addEventListener("abort", () => page.leave(), { once: true });
  await page.start();
  return () => page.leave();
};

declare global {
  interface Window {
    seatMap?: SeatMap;
  }
}

class CampaignPage {
  private availability: Availability | null = null;
  private layout: SeatLayout | null = null;
  private map: SeatMap | null = null;
  private events: EventSource | null = null;
  private admission = "";
  private readonly selection = new Set<number>();
  private hold: Hold | null = null;
  private countdown = 0;
  private left = false;
  private admitted = false;
  private refetching = false;
  /** The promo code the price was last quoted with: the purchase uses it. */
  private promoCode: string | undefined;
  private readonly categories: string[];
  private readonly queue = h("p", { id: "queue", role: "status", hidden: true });
  private readonly buying = h("section", { id: "buying", "aria-label": "Tickets" });
  private readonly holdPanel = h("section", { id: "hold", "aria-labelledby": "hold-title", hidden: true });
  private readonly waitingList = h("section", { id: "waiting-list", "aria-labelledby": "waiting-list-title", hidden: true });
  private waitingListPoll = 0;
  private readonly selectionList = h("ul", { id: "selection" });
  private readonly gaLeft = new Map<string, HTMLElement>();
  private readonly onPageHide = () => { if (this.admitted && this.campaign.waitingRoomEnabled) goAway(this.campaign.id); };

  constructor(private readonly container: HTMLElement, private readonly campaign: CampaignDetails) {
    this.categories = campaign.prices.map((p) => p.category);
  }

  async start(): Promise<void> {
    const c = this.campaign;
    setTitle(c.name);
    this.container.append(
      h("h1", {}, c.name),
      h("dl", { class: "facts" },
        h("dt", {}, "Event"), h("dd", {}, formatDate(c.eventAt)),
        h("dt", {}, "Sale"), h("dd", {}, `${formatDate(c.saleOpensAt)} to ${formatDate(c.saleClosesAt)}`),
        c.venue && h("dt", {}, "Venue"), c.venue && h("dd", {}, c.venue.name),
        h("dt", {}, "Rules"), h("dd", {}, `Up to ${c.perUserLimit} tickets per person. A hold keeps tickets for ${formatCountdown(c.holdSeconds)} min. ` +
          (c.cancellationAllowed ? "Orders can be cancelled until the event." : "Orders cannot be cancelled."))),
      this.queue, this.holdPanel, this.waitingList, this.buying);
    window.addEventListener("pagehide", this.onPageHide);
    // Before the waiting room: a buyer on the waiting list sees their place, or the tickets offered, straight away
    // (without a waiting room, opening the sale looks at the list).
    if (c.status === "OnSale" && c.waitingRoomEnabled && session().signedIn) await this.refreshWaitingList();

    if (c.status === "Published") {
      this.buying.append(h("p", {}, `The sale opens ${formatDate(c.saleOpensAt)}.`));
      if (c.waitingRoomEnabled) this.offerToJoin("Join the waiting room");
      return;
    }

    if (c.status !== "OnSale") {
      this.buying.append(h("p", {}, "This sale has closed."));
      return;
    }

    if (c.waitingRoomEnabled) this.offerToJoin("Join the line to buy");
    else await this.openSale();
  }

  leave(): void {
    if (this.left) return;
    this.left = true;
    this.onPageHide();
    window.removeEventListener("pagehide", this.onPageHide);
    this.events?.close();
    this.map?.dispose();
    clearInterval(this.countdown);
    clearTimeout(this.waitingListPoll);
  }

  private offerToJoin(label: string): void {
    const join = h("button", { type: "button", id: "join", class: "primary" }, label);
    join.addEventListener("click", async () => {
      if (!session().signedIn) return show("Sign in first: the line keeps one place per account.");
      join.disabled = true;
      this.queue.hidden = false;
      const turn = await waitForTurn(this.campaign.id, (text) => { this.queue.textContent = text; }, () => this.left);
      if (this.left) return;
      if (!turn.admitted) {
        this.queue.hidden = true;
        join.disabled = false;
        return show(turn.reason);
      }

      join.remove();
      this.admission = turn.token;
      this.admitted = true;
      await this.openSale();
    });
    this.buying.append(join);
  }

  /** Loads availability (the stream first, so no change between the two is missed) and shows what can be bought. */
  private async openSale(): Promise<void> {
    const c = this.campaign;
    this.buying.replaceChildren();
    const startedAt = performance.now();
    const pending: string[] = [];
    this.events = new EventSource(`/api/campaigns/${c.id}/seats/events`);
    this.events.addEventListener("availability", (event) => {
      const data = (event as MessageEvent<string>).data;
      if (this.availability) this.applyChange(data);
      else pending.push(data);
    });
    const seats = await call<SeatsAnswer>(`/api/campaigns/${c.id}/seats`);
    if (this.left) return;
    if (!seats.ok) {
      show(explain(seats));
      return;
    }

    this.availability = new Availability(seats.body!);
    for (const change of pending) this.applyChange(change);
    if (c.venue && c.venue.seatCount > 0) this.showSeatMap(startedAt);
    if (c.generalAdmission.length > 0) this.showGeneralAdmission();
    if (session().signedIn) await this.refreshWaitingList();
    else this.showWaitingList({ waiting: 0, entry: null });
  }

  /** Nothing left to hold: every seat taken and every general-admission category at zero. */
  private soldOut(): boolean {
    const c = this.campaign;
    if (!this.availability) return false;
    return this.availability.countFree(c.venue?.seatCount ?? 0) === 0 && c.generalAdmission.every((g) => this.availability!.left(g.id) <= 0);
  }

  /**
   * The buyer's waiting-list entry: their place (looked at again every few seconds), the tickets offered to them (the
   * hold panel), or, when nothing is left or others already wait, a way to join.
   */
  private async refreshWaitingList(): Promise<void> {
    clearTimeout(this.waitingListPoll);
    const answer = await call<WaitingList>(`/api/campaigns/${this.campaign.id}/waiting-list`);
    if (this.left || !answer.ok) return;
    this.showWaitingList(answer.body!);
  }

  private showWaitingList(list: WaitingList): void {
    const entry = list.entry;
    const title = h("h2", { id: "waiting-list-title" }, "Waiting list");
    const tickets = (n: number) => `${n} ticket${n > 1 ? "s" : ""}`;
    if (entry?.status === "Waiting") {
      const leave = h("button", { type: "button", id: "leave-waiting-list" }, "Leave the waiting list");
      leave.addEventListener("click", () => void this.leaveWaitingList());
      this.waitingList.replaceChildren(title,
        h("p", { id: "waiting-place" }, `You are number ${entry.place} on the waiting list, for ${tickets(entry.quantity)}.`),
        h("p", { class: "hint" }, "Tickets that come back are held for each buyer in turn. When it is yours, they show here and we e-mail you."),
        leave);
      this.waitingList.hidden = false;
      this.waitingListPoll = window.setTimeout(() => void this.refreshWaitingList(), 3000);
      return;
    }

    if (entry?.status === "Offered" && entry.offer) {
      this.waitingList.replaceChildren(title, h("p", { id: "waiting-place" }, "Your turn has come: the tickets below are held for you."));
      this.waitingList.hidden = false;
      if (this.hold?.holdId !== entry.offer.holdId) this.showHold({ ...entry.offer, campaignId: this.campaign.id });
      return;
    }

    if (entry?.status === "Bought") {
      this.waitingList.replaceChildren(title, h("p", { id: "waiting-place" }, "You bought the tickets the waiting list offered you."));
      this.waitingList.hidden = false;
      return;
    }

    if (!this.soldOut() && list.waiting === 0) {
      this.waitingList.hidden = true;
      return;
    }

    if (!session().signedIn) {
      this.waitingList.replaceChildren(title,
        h("p", { id: "waiting-place" }, "Sold out for now. Sign in to join the waiting list: tickets that come back are offered to it in turn."));
      this.waitingList.hidden = false;
      return;
    }

    const c = this.campaign;
    const kinds = [
      ...(c.venue && c.venue.seatCount > 0 ? [h("option", { value: "" }, "Seats")] : []),
      ...c.generalAdmission.map((g) => h("option", { value: g.id }, g.name)),
    ];
    const kind = h("select", { id: "waiting-list-kind" }, ...kinds);
    const quantity = h("select", { id: "waiting-list-quantity" }, ...range(1, Math.min(10, c.perUserLimit)).map((n) => h("option", { value: n }, String(n))));
    const join = h("button", { type: "button", id: "join-waiting-list", class: "primary" }, "Join the waiting list");
    join.addEventListener("click", () => void this.joinWaitingList(join, Number(quantity.value), kind.value || null));
    const before = entry?.status === "Expired" ? "Your offer expired and its tickets went to the next buyer. " : "";
    this.waitingList.replaceChildren(title,
      h("p", { id: "waiting-place" }, `${before}${list.waiting > 0 ? `${list.waiting.toLocaleString("en")} waiting. ` : ""}Sold out for now: join the list, and tickets that come back are offered in turn.`),
      ...(kinds.length > 1 ? [field("Tickets of", kind)] : []), field("How many", quantity), join);
    this.waitingList.hidden = false;
  }

  private async joinWaitingList(button: HTMLButtonElement, quantity: number, generalAdmissionCategoryId: string | null): Promise<void> {
    button.disabled = true;
    const answer = await call<WaitingList>(`/api/campaigns/${this.campaign.id}/waiting-list`, { method: "POST", body: { quantity, generalAdmissionCategoryId } });
    button.disabled = false;
    if (!answer.ok) return show(explain(answer));
    show(`You are on the waiting list: number ${answer.body!.entry?.place}.`);
    this.showWaitingList(answer.body!);
  }

  private async leaveWaitingList(): Promise<void> {
    const answer = await call<WaitingList>(`/api/campaigns/${this.campaign.id}/waiting-list`, { method: "DELETE" });
    if (!answer.ok) {
      show(explain(answer));
      return this.refreshWaitingList();
    }

    show("You left the waiting list.");
    this.showWaitingList(answer.body!);
  }

  private showSeatMap(startedAt: number): void {
    const c = this.campaign;
    const layout = new SeatLayout(c.venue!.sections, this.categories);
    this.layout = layout;
    const availability = this.availability!;
    const map = new SeatMap(layout, availability, {
      describe: (seat) => this.describe(seat),
      onToggle: (seat) => this.toggle(seat),
      isSelected: (seat) => this.selection.has(seat),
      isMine: (seat) => this.hold?.seats.includes(seat) ?? false,
    });
    this.map = map;
    const legend = h("ul", { class: "legend", "aria-label": "Price categories" },
      ...c.prices.map((p, i) => h("li", {}, h("span", { class: `swatch cat-${i % categoryColors.length}`, "aria-hidden": "true" }), `${p.category}: ${formatPrice(p.priceCents)}`)),
      h("li", {}, h("span", { class: "swatch taken", "aria-hidden": "true" }), "Taken"),
      h("li", {}, h("span", { class: "swatch picked", "aria-hidden": "true" }), "Your pick"));
    const quantity = h("select", { id: "best-quantity" }, ...range(1, Math.min(10, c.perUserLimit)).map((n) => h("option", { value: n }, String(n))));
    const best = h("button", { type: "button", id: "best-available" }, "Find the best seats");
    best.addEventListener("click", () => void this.holdBestAvailable(Number(quantity.value)));
    const holdSeats = h("button", { type: "button", id: "hold-seats", class: "primary", disabled: true }, "Hold the seats picked");
    holdSeats.addEventListener("click", () => void this.holdSeats([...this.selection]));
    this.buying.append(
      h("h2", {}, "Seats"),
      h("p", { class: "hint" }, "Click or tap seats to pick them (or use the arrow keys and Enter). Drag to move the map; use the wheel, a pinch or + and − to zoom."),
      legend, map.element,
      h("div", { class: "picking" },
        h("h3", {}, "Your picks"), this.selectionList, holdSeats,
        h("div", { class: "best" }, field("Seats together", quantity), best)));
    map.start();
    // The page's one global, for the browser tests (and a curious developer's console): where each seat is drawn.
    window.seatMap = map;
    this.renderSelection();
    // Time from asking for availability to the whole venue drawn: what the 50,000-seat check reads.
    map.canvas.dataset["renderMs"] = String(Math.round((map.firstDrawnAt ?? performance.now()) - startedAt));
    map.canvas.dataset["seats"] = String(layout.seatCount);
  }

  private showGeneralAdmission(): void {
    const c = this.campaign;
    const rows = c.generalAdmission.map((g) => {
      const left = h("span", { class: "left" }, this.leftText(g.id));
      this.gaLeft.set(categoryKey(g.id), left);
      const quantity = h("select", { id: `ga-quantity-${g.id}` }, ...range(1, Math.min(20, c.perUserLimit)).map((n) => h("option", { value: n }, String(n))));
      const hold = h("button", { type: "button", class: "hold-ga", "data-category-id": g.id }, `Hold ${g.name} tickets`);
      hold.addEventListener("click", () => void this.holdGeneralAdmission(g.id, Number(quantity.value)));
      return h("li", { "data-category-id": g.id }, h("strong", {}, g.name), ` ${formatPrice(g.priceCents)} `, left, field("Tickets", quantity), hold);
    });
    this.buying.append(h("h2", {}, "General admission"), h("ul", { id: "general-admission", class: "ga" }, ...rows));
  }

  private leftText(categoryId: string): string {
    const left = this.availability?.left(categoryId) ?? 0;
    return left > 0 ? `${left.toLocaleString("en")} left` : "Sold out";
  }

  private describe(seat: number): string {
    const place = this.layout?.place(seat);
    const price = place ? this.campaign.prices.find((p) => p.category === place.section.priceCategory) : undefined;
    return price ? `${price.category}, ${formatPrice(price.priceCents)}` : "";
  }

  private toggle(seat: number): void {
    if (this.hold) return show("You already hold tickets: pay for them or release them first.");
    if (this.selection.has(seat)) this.selection.delete(seat);
    else if (this.selection.size >= this.campaign.perUserLimit) return show(`At most ${this.campaign.perUserLimit} tickets per person.`);
    else this.selection.add(seat);
    this.renderSelection();
  }

  private renderSelection(): void {
    const seats = [...this.selection].sort((a, b) => a - b);
    this.selectionList.replaceChildren(...seats.map((seat) => {
      const remove = h("button", { type: "button", class: "link", "aria-label": `Remove ${this.layout!.label(seat)}` }, "Remove");
      remove.addEventListener("click", () => this.toggle(seat));
      return h("li", { "data-seat": seat }, `${this.layout!.label(seat)} · ${this.describe(seat)} `, remove);
    }));
    if (seats.length === 0) this.selectionList.append(h("li", { class: "hint" }, "No seat picked yet."));
    const button = document.getElementById("hold-seats") as HTMLButtonElement | null;
    if (button) button.disabled = seats.length === 0 || this.hold !== null;
    this.map?.setMarked(this.hold ? this.hold.seats : seats);
  }

  private applyChange(event: string): void {
    const before = this.availability!.version;
    const change = this.availability!.apply(event);
    // Why a whole map is fetched again shows in the browser's console (and in the web tests' output).
    if (change.refetch) console.info(`seat map fetched again: event "${event}" at version ${before}`);
    if (change.generalAdmission) {
      const label = this.gaLeft.get(change.generalAdmission.id);
      if (label) label.textContent = this.leftText(change.generalAdmission.id);
    }

    const lost = change.seats.filter((seat) => this.selection.has(seat) && this.availability!.isTaken(seat) && !this.hold);
    if (lost.length > 0) {
      for (const seat of lost) this.selection.delete(seat);
      this.renderSelection();
      show(`${lost.map((s) => this.layout!.label(s)).join("; ")}: just taken by someone else. Pick another seat.`);
    }

    if (change.seats.length > 0) this.map?.requestDraw();
    if (change.refetch) void this.refetch();
  }

  /** A missed change: the snapshot again (at most once a second), which replaces everything older. */
  private async refetch(): Promise<void> {
    if (this.refetching) return;
    this.refetching = true;
    await sleep(1);
    const seats = await call<SeatsAnswer>(`/api/campaigns/${this.campaign.id}/seats`);
    this.refetching = false;
    if (!seats.ok || this.left) return;
    this.availability!.reset(seats.body!);
    for (const [id, label] of this.gaLeft) label.textContent = this.leftText(id);
    this.map?.requestDraw();
  }

  private async holdBestAvailable(quantity: number): Promise<void> {
    if (this.hold) return show("You already hold tickets: pay for them or release them first.");
    const refused = new Set<number>();
    for (let attempt = 0; attempt < 5; attempt++) {
      const seats = bestAvailable(this.layout!, (seat) => this.availability!.isTaken(seat) || refused.has(seat), quantity);
      if (seats.length < quantity) {
        await this.refreshWaitingList();
        return show(quantity === 1 ? "Every seat is taken right now. Seats come back when holds expire: try again soon, or join the waiting list." : `No ${quantity} seats are free right now. Try fewer seats.`);
      }
      const result = await this.placeHold({ seats });
      if (result !== "taken") return;
      for (const seat of this.lastTaken) refused.add(seat);
    }
  }

  private lastTaken: number[] = [];

  private async holdSeats(seats: number[]): Promise<void> {
    if (seats.length === 0) return;
    await this.placeHold({ seats });
  }

  private async holdGeneralAdmission(categoryId: string, quantity: number): Promise<void> {
    if (this.hold) return show("You already hold tickets: pay for them or release them first.");
    await this.placeHold({ generalAdmissionCategoryId: categoryId, quantity });
  }

  /** Places a hold; "taken" when seats went to someone else meanwhile (the map shows them taken). */
  private async placeHold(body: { seats: number[] } | { generalAdmissionCategoryId: string; quantity: number }): Promise<"held" | "taken" | "refused"> {
    if (!session().signedIn) {
      show("Sign in to hold tickets: use “Sign in or register” at the top of the page.");
      return "refused";
    }

    const headers: Record<string, string> = this.admission ? { "X-Admission-Token": this.admission } : {};
    const answer = await call<Hold>(`/api/campaigns/${this.campaign.id}/holds`, { method: "POST", headers, body });
    if (answer.ok) {
      this.selection.clear();
      this.showHold(answer.body!);
      return "held";
    }

    if (problemKind(answer.problem) === "seats-taken") {
      this.lastTaken = (answer.problem?.["takenSeats"] as (number | string)[] | undefined)?.map(Number) ?? [];
      for (const seat of this.lastTaken) this.selection.delete(seat);
      this.renderSelection();
      show(explain(answer));
      return "taken";
    }

    show(explain(answer));
    if (problemKind(answer.problem) === "waiting-list") await this.refreshWaitingList();
    return "refused";
  }

  private showHold(hold: Hold): void {
    this.hold = hold;
    const c = this.campaign;
    // An offer from the waiting list can come before the seat map (behind a waiting room): the seats' names need the layout.
    if (!this.layout && c.venue) this.layout = new SeatLayout(c.venue.sections, this.categories);
    const lines = hold.seats.length > 0
      ? hold.seats.map((seat) => `${this.layout!.label(seat)} · ${this.describe(seat)}`)
      : [`${hold.quantity} × ${c.generalAdmission.find((g) => g.id === hold.generalAdmissionCategoryId)?.name ?? "general admission"}`];
    const total = hold.seats.length > 0
      ? hold.seats.reduce((sum, seat) => sum + (c.prices.find((p) => p.category === this.layout!.place(seat)?.section.priceCategory)?.priceCents ?? 0), 0)
      : hold.quantity * (c.generalAdmission.find((g) => g.id === hold.generalAdmissionCategoryId)?.priceCents ?? 0);
    const timer = h("strong", { id: "countdown" });
    const pay = h("button", { type: "button", id: "buy", class: "primary" }, `Pay ${formatPrice(total)}`);
    const release = h("button", { type: "button", id: "release" }, "Release");
    pay.addEventListener("click", () => void this.pay(pay, release));
    release.addEventListener("click", () => void this.release());
    const code = h("input", { id: "promo-code", autocomplete: "off", maxlength: 32 });
    const apply = h("button", { type: "button", id: "apply-promo" }, "Apply");
    const promoResult = h("p", { id: "promo-result", "aria-live": "polite" });
    apply.addEventListener("click", () => void this.applyPromoCode(hold, code.value.trim(), pay, promoResult));
    this.promoCode = undefined;
    this.holdPanel.replaceChildren(
      h("h2", { id: "hold-title" }, "Your tickets are held"),
      h("ul", {}, ...lines.map((line) => h("li", {}, line))),
      h("p", {}, "Time left to pay: ", timer),
      h("div", { class: "promo" }, field("Promo code", code), apply, promoResult),
      h("p", {}, pay, " ", release));
    this.holdPanel.hidden = false;
    const expires = new Date(hold.expiresAt).getTime();
    const tick = () => {
      const seconds = (expires - Date.now()) / 1000;
      timer.textContent = formatCountdown(seconds);
      if (seconds <= 0 && this.hold === hold && !hold.purchaseId) {
        this.endHold();
        show("Your hold expired and the tickets went back on sale. Pick again to buy.");
      }
    };
    tick();
    clearInterval(this.countdown);
    this.countdown = window.setInterval(tick, 1000);
    this.renderSelection();
    show(hold.seats.length > 0 ? `${this.layout!.label(hold.seats[0]!)}${hold.seats.length > 1 ? ` and ${hold.seats.length - 1} more are` : " is"} yours until ${new Date(hold.expiresAt).toLocaleTimeString("en")}.`
      : `${hold.quantity} ticket${hold.quantity > 1 ? "s are" : " is"} yours until ${new Date(hold.expiresAt).toLocaleTimeString("en")}.`);
    pay.focus();
  }

  /** The price with the code's discount, asked of the Api before paying; the purchase then takes one of its uses. */
  private async applyPromoCode(hold: Hold, code: string, pay: HTMLButtonElement, result: HTMLElement): Promise<void> {
    const query = code ? `?promoCode=${encodeURIComponent(code)}` : "";
    const quote = await call<PriceQuote>(`/api/campaigns/${this.campaign.id}/holds/${hold.holdId}/price${query}`);
    if (!quote.ok) {
      this.promoCode = undefined;
      result.textContent = explain(quote);
      return;
    }

    const price = quote.body!;
    this.promoCode = price.promoCode ?? undefined;
    pay.textContent = `Pay ${formatPrice(price.amountCents)}`;
    result.textContent = price.promoCode
      ? `${price.promoCode}: ${formatPrice(price.discountCents)} off ${formatPrice(price.totalCents)}.`
      : "No promo code.";
  }

  private endHold(): void {
    clearInterval(this.countdown);
    this.hold = null;
    this.holdPanel.hidden = true;
    this.holdPanel.replaceChildren();
    this.renderSelection();
  }

  private async release(): Promise<void> {
    const hold = this.hold;
    if (!hold) return;
    const answer = await call(`/api/campaigns/${this.campaign.id}/holds/${hold.holdId}`, { method: "DELETE" });
    if (!answer.ok && answer.status !== 404) return show(explain(answer));
    this.endHold();
    show("Released: the tickets are back on sale.");
  }

  private async pay(pay: HTMLButtonElement, release: HTMLButtonElement): Promise<void> {
    const hold = this.hold!;
    pay.disabled = true;
    release.disabled = true;
    show("Payment in progress…");
    const outcome = await purchase(this.campaign.id, hold.holdId, (busy) => show(`${explain(busy)} Trying again…`), this.promoCode);
    if (!outcome.final) {
      pay.disabled = false;
      release.disabled = false;
      return show(explain(outcome.accepted));
    }

    hold.purchaseId = outcome.final.purchaseId;
    clearInterval(this.countdown);
    this.holdPanel.hidden = true;
    if (outcome.final.status === "Confirmed") {
      this.hold = null;
      this.admitted = false;
      this.renderSelection();
      show(`Confirmed: order ${outcome.final.orderId}. Your tickets are in My orders.`);
      this.queue.hidden = true;
      if (!this.waitingList.hidden) await this.refreshWaitingList();
    } else {
      this.hold = null;
      this.renderSelection();
      show(`The purchase failed (${outcome.final.failureReason ?? "declined"}); nothing was charged and the tickets went back on sale.`);
    }
  }
}

function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
}
