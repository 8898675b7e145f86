import { call, type CampaignListing } from "../api";
import { h } from "../dom";
import { formatDate, formatPriceRange } from "../format";
import { explain } from "../messages";
import { setTitle, show, type Page } from "../page";

const statusText: Record<string, string> = { Published: "Coming up", OnSale: "On sale", Closed: "Sale closed", Draft: "Draft" };

/** Every published campaign: its dates, prices and, while on sale, the tickets left (the list carries them). */
export const campaignsPage: Page = async (container, _, pageLeft) => {
  setTitle("Campaigns");
  const list = h("ul", { id: "campaigns", class: "cards" });
  container.append(h("h1", {}, "On sale and coming up"), list);
  const answer = await call<CampaignListing[]>("/api/campaigns", { signal: pageLeft });
  if (pageLeft.aborted) return;
  if (!answer.ok) {
    show(`Campaigns are unavailable right now. ${explain(answer)}`);
    return;
  }

  if (answer.body!.length === 0) list.append(h("li", {}, "Nothing is on sale yet. Come back soon."));
  for (const campaign of answer.body!) {
    const left = h("span", { class: "left" }, campaign.status === "OnSale" && campaign.ticketsLeft !== null
      ? (campaign.ticketsLeft === 0 ? "Sold out" : `${campaign.ticketsLeft.toLocaleString("en")} tickets left`) : "");
    const prices = [campaign.lowestPriceCents, campaign.highestPriceCents].filter((p): p is number => p !== null);
    list.append(h("li", { "data-campaign-id": campaign.id, class: "card" },
      h("h2", {}, h("a", { href: `#/campaigns/${campaign.id}` }, campaign.name)),
      h("p", { class: `status status-${campaign.status}` }, statusText[campaign.status] ?? campaign.status),
      h("dl", {},
        h("dt", {}, "Event"), h("dd", {}, formatDate(campaign.eventAt)),
        h("dt", {}, "Sale"), h("dd", {}, `${formatDate(campaign.saleOpensAt)} to ${formatDate(campaign.saleClosesAt)}`),
        prices.length > 0 && h("dt", {}, "Prices"), prices.length > 0 && h("dd", {}, formatPriceRange(prices))),
      left));
  }
};
