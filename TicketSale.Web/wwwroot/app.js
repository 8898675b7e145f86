// Everything the server sends is shown with textContent, never parsed as HTML: a campaign named "<script>…" is
// just text. The page has no inline script, so the Content-Security-Policy can forbid it altogether.
"use strict";

let antiforgeryToken = null;

async function api(path, options = {}) {
  const headers = { "Accept": "application/json", ...(options.headers || {}) };
  if (options.body) headers["Content-Type"] = "application/json";
  if (antiforgeryToken && options.method && options.method !== "GET") headers["X-XSRF-TOKEN"] = antiforgeryToken;
  const response = await fetch(path, { ...options, headers, credentials: "same-origin" });
  const body = response.headers.get("content-type")?.includes("json") ? await response.json() : null;
  return { status: response.status, body };
}

function show(text) {
  document.getElementById("message").textContent = text;
}

function renderCampaigns(campaigns) {
  const list = document.getElementById("campaigns");
  list.replaceChildren();
  for (const campaign of campaigns) {
    const item = document.createElement("li");
    item.dataset.campaignId = campaign.id;
    const name = document.createElement("span");
    name.className = "campaign-name";
    name.textContent = campaign.name;
    const status = document.createElement("span");
    status.className = "campaign-status";
    status.textContent = campaign.status;
    item.append(name, " ", status);
    if (campaign.status === "OnSale") {
      const hold = document.createElement("button");
      hold.type = "button";
      hold.textContent = "Hold a ticket";
      hold.addEventListener("click", () => holdTicket(campaign.id));
      item.append(" ", hold);
    }
    list.append(item);
  }
}

async function holdTicket(campaignId) {
  const details = await api(`/api/campaigns/${encodeURIComponent(campaignId)}`);
  const category = details.body?.generalAdmission?.[0];
  if (!category) return show("Choose seats on the seat map (coming soon).");
  const result = await api(`/api/campaigns/${encodeURIComponent(campaignId)}/holds`, {
    method: "POST",
    body: JSON.stringify({ generalAdmissionCategoryId: category.id, quantity: 1 }),
  });
  show(result.status === 201 ? "Held: pay within the time shown." : (result.body?.detail || result.body?.title || `Error ${result.status}`));
}

async function refreshSession() {
  const session = await api("/bff/session");
  antiforgeryToken = session.body?.antiforgeryToken ?? null;
  const label = document.getElementById("session");
  label.hidden = !session.body?.signedIn;
  label.textContent = session.body?.signedIn ? `Signed in as ${session.body.email}` : "";
  document.getElementById("sign-in").hidden = !!session.body?.signedIn;
}

document.getElementById("sign-in").addEventListener("submit", async (event) => {
  event.preventDefault();
  const result = await api("/bff/login", {
    method: "POST",
    body: JSON.stringify({ email: document.getElementById("email").value, password: document.getElementById("password").value }),
  });
  if (result.status !== 200) return show(result.body?.detail || "Sign-in failed.");
  await refreshSession();
});

(async () => {
  await refreshSession();
  const campaigns = await api("/api/campaigns");
  if (campaigns.status === 200) renderCampaigns(campaigns.body);
  else show("Campaigns are unavailable right now.");
})();
