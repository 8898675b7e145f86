import "./app.css";
import { byId, h } from "./dom";
import { explain } from "./messages";
import { accountPage, confirmEmailFromLink } from "./pages/account";
import { campaignPage } from "./pages/campaign";
import { campaignsPage } from "./pages/campaigns";
import { checkInPage } from "./pages/checkin";
import { ordersPage } from "./pages/orders";
import { ticketPage } from "./pages/ticket";
import { campaignEditorPage } from "./admin/campaignEditor";
import { auditPage } from "./admin/audit";
import { adminCampaignsPage } from "./admin/campaigns";
import { dashboardPage } from "./admin/dashboard";
import { promoCodesPage } from "./admin/promoCodes";
import { venuesPage } from "./admin/venues";
import { webhooksPage } from "./admin/webhooks";
import { isAdmin, onSessionChange, refreshSession, session, signOut } from "./session";
import { clearMessage, show, type Page } from "./page";

const guid = "([0-9a-fA-F-]{36})";
const routes: [RegExp, Page][] = [
  [/^$/, campaignsPage],
  [new RegExp(`^campaigns/${guid}$`), campaignPage],
  [/^orders$/, ordersPage],
  [new RegExp(`^orders/${guid}/tickets/${guid}$`), ticketPage],
  [/^checkin$/, checkInPage],
  [/^account$/, accountPage],
  [/^admin$/, adminCampaignsPage],
  [/^admin\/venues$/, venuesPage],
  [/^admin\/audit$/, auditPage],
  [/^admin\/webhooks$/, webhooksPage],
  [/^admin\/campaigns\/new$/, campaignEditorPage],
  [new RegExp(`^admin/campaigns/${guid}/edit$`), campaignEditorPage],
  [new RegExp(`^admin/campaigns/${guid}$`), dashboardPage],
  [new RegExp(`^admin/campaigns/${guid}/promo-codes$`), promoCodesPage],
];

let leave: (() => void) | void;
let leaving: AbortController | undefined;
let rendering = 0;

/** Shows the page the address names (hash routes: the server serves one index.html, cached by nobody). */
async function route(): Promise<void> {
  const path = location.hash.replace(/^#\/?/, "");
  const match = routes.map(([pattern, page]) => [pattern.exec(path), page] as const).find(([m]) => m);
  leave?.();
  leave = undefined;
  // A page left while it was still loading must not go on asking for what it would have shown.
  leaving?.abort();
  const left = (leaving = new AbortController()).signal;
  // A fresh container each time: a page still loading when another route starts (two quick address changes both
  // route to the newest address) goes on into a detached element, never beside the page shown.
  const container = h("div", { id: "page" });
  byId("page").replaceWith(container);
  clearMessage();
  const ticket = ++rendering;
  if (!match) {
    document.title = "Not found · TicketSale";
    container.textContent = "There is no such page. Go back to the campaigns.";
    return;
  }

  const [found, page] = match;
  const cleanup = await page(container, found!.slice(1), left);
  if (ticket === rendering) leave = cleanup;
  else cleanup?.();
  // Screen readers start reading the new page from its heading.
  container.querySelector("h1")?.setAttribute("tabindex", "-1");
  if (document.activeElement === document.body || document.activeElement?.closest("nav")) container.querySelector<HTMLElement>("h1")?.focus();
}

function renderSession(): void {
  const current = session();
  const label = byId("session");
  label.hidden = !current.signedIn;
  label.textContent = current.signedIn ? `Signed in as ${current.email}` : "";
  byId("sign-out").hidden = !current.signedIn;
  byId("sign-in-link").hidden = current.signedIn;
  // Organizers run sales; buying is for customer accounts.
  byId("nav-orders").hidden = !current.signedIn || isAdmin() || current.role === "staff";
  byId("nav-admin").hidden = !isAdmin();
  byId("nav-checkin").hidden = !isAdmin() && current.role !== "staff";
}

byId("sign-out").addEventListener("click", async () => {
  const answer = await signOut();
  if (!answer.ok) return show(explain(answer));
  show("You are signed out.", true);
  location.hash = "#/";
});

onSessionChange(renderSession);
window.addEventListener("hashchange", () => void route());

(async () => {
  await refreshSession();
  renderSession();
  await confirmEmailFromLink();
  await route();
})();
