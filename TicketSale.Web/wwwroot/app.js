// Everything the server sends is shown with textContent, never parsed as HTML: a campaign named "<script>…" is
// just text. The page has no inline script, so the Content-Security-Policy can forbid it altogether.
"use strict";

let antiforgeryToken = null;
let signedIn = false;
// The waiting room this page was admitted through, until the purchase is done.
let admittedRoom = null;

async function api(path, options = {}) {
  const headers = { "Accept": "application/json", ...(options.headers || {}) };
  if (options.body) headers["Content-Type"] = "application/json";
  if (antiforgeryToken && options.method && options.method !== "GET") headers["X-XSRF-TOKEN"] = antiforgeryToken;
  const response = await fetch(path, { ...options, headers, credentials: "same-origin" });
  const body = response.headers.get("content-type")?.includes("json") ? await response.json() : null;
  return { status: response.status, body, retryAfter: Number(response.headers.get("Retry-After")) || 0 };
}

const sleep = (seconds) => new Promise((resolve) => setTimeout(resolve, Math.max(1, seconds) * 1000));
const problem = (result) => result.body?.detail || result.body?.title || `Error ${result.status}`;

function show(text) {
  document.getElementById("message").textContent = text;
}

function showQueue(text) {
  const queue = document.getElementById("queue");
  queue.hidden = !text;
  queue.textContent = text || "";
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
    if (campaign.status === "OnSale" || campaign.status === "Published") {
      const buy = document.createElement("button");
      buy.type = "button";
      buy.className = "get-tickets";
      buy.textContent = "Get a ticket";
      buy.addEventListener("click", () => getTicket(campaign.id, buy));
      item.append(" ", buy);
    }
    list.append(item);
  }
}

// One ticket, the way a flash sale goes: the waiting room when the campaign has one (its position shown until the
// turn comes), a hold, then the purchase and its outcome.
async function getTicket(campaignId, button) {
  if (!signedIn) return show("Sign in to get tickets.");
  button.disabled = true;
  try {
    const id = encodeURIComponent(campaignId);
    const details = await api(`/api/campaigns/${id}`);
    if (details.status !== 200) return show(problem(details));
    let admission = null;
    if (details.body.waitingRoomEnabled) {
      admission = await waitForTurn(id);
      if (!admission) return;
    }
    const hold = await holdOne(id, details.body, admission);
    if (!hold) return;
    await offerPurchase(campaignId, hold);
  } finally {
    button.disabled = false;
  }
}

// Joins the waiting room (joining again keeps the place) and asks again when the server says to, showing the
// position and the estimated wait. Returns the admission token, or null when there is nothing to wait for.
async function waitForTurn(id) {
  const path = `/api/campaigns/${id}/waiting-room`;
  let result = await api(path, { method: "POST" });
  for (;;) {
    if (result.status === 429) {
      await sleep(result.retryAfter || 2);
      result = await api(path);
      continue;
    }
    if (result.status !== 200) {
      showQueue(null);
      show(problem(result));
      return null;
    }
    const room = result.body;
    switch (room.state) {
      case "NotNeeded":
        showQueue(null);
        return "";
      case "Admitted":
        showQueue("It is your turn.");
        admittedRoom = path;
        return room.admissionToken;
      case "PreQueue":
        showQueue(`You are in the waiting room. The sale opens in ${room.opensInSeconds} s. Places in line are drawn at random ` +
          "among everyone who arrived before the opening; you will see yours once it opens.");
        break;
      case "Waiting":
        showQueue(room.estimatedWaitSeconds == null
          ? `You are number ${room.position} in line. Tickets are being bought; you move up as they come back.`
          : `You are number ${room.position} in line (about ${room.estimatedWaitSeconds} s to wait).`);
        break;
      case "SoldOut":
        showQueue(null);
        show("Sold out.");
        return null;
      default:
        showQueue(null);
        show("Your turn has passed. Join the line again to buy.");
        return null;
    }
    await sleep(room.pollAfterSeconds);
    result = await api(path);
  }
}

// Holds one ticket: general admission if the campaign has it, else the best seat available (the first free one,
// the next on a 409 when someone was faster). Returns the hold, or null after saying why there is none.
async function holdOne(id, campaign, admission) {
  const headers = admission ? { "X-Admission-Token": admission } : {};
  const post = (body) => api(`/api/campaigns/${id}/holds`, { method: "POST", headers, body: JSON.stringify(body) });
  const category = campaign.generalAdmission?.[0];
  let result = null;
  if (category) {
    result = await post({ generalAdmissionCategoryId: category.id, quantity: 1 });
  } else {
    const seats = await api(`/api/campaigns/${id}/seats`);
    if (seats.status !== 200) {
      show(problem(seats));
      return null;
    }
    // One bit per seat, set when taken, most significant bit first.
    const taken = Uint8Array.from(atob(seats.body.taken), (c) => c.charCodeAt(0));
    const isFree = (seat) => ((taken[seat >> 3] ?? 0) & (0x80 >> (seat & 7))) === 0;
    for (let seat = 0, tries = 0; seat < seats.body.seatCount && tries < 20; seat++) {
      if (!isFree(seat)) continue;
      tries++;
      result = await post({ seats: [seat] });
      if (result.status !== 409 || !result.body?.type?.endsWith("/seats-taken")) break;
    }
  }
  if (result?.status === 201) return result.body;
  show(result ? problem(result) : "Sold out.");
  return null;
}

function offerPurchase(campaignId, hold) {
  const what = hold.seats.length > 0 ? `Seat ${hold.seats[0]}` : "A ticket";
  show(`${what} is yours until ${new Date(hold.expiresAt).toLocaleTimeString()}.`);
  const buy = document.createElement("button");
  buy.type = "button";
  buy.id = "buy";
  buy.textContent = "Buy now";
  document.getElementById("message").append(" ", buy);
  return new Promise((resolve) => buy.addEventListener("click", async () => {
    buy.disabled = true;
    await purchase(campaignId, hold.holdId);
    resolve();
  }, { once: true }));
}

// The purchase is accepted at once and decided in the background: its outcome arrives as a server-sent event. A
// retry after a 503 reuses the Idempotency-Key, so it can never buy twice.
async function purchase(campaignId, holdId) {
  const key = crypto.randomUUID();
  let result;
  for (let attempt = 0; attempt < 5; attempt++) {
    result = await api("/api/purchases", { method: "POST", headers: { "Idempotency-Key": key }, body: JSON.stringify({ campaignId, holdId }) });
    if (result.status !== 503 && result.status !== 429) break;
    show("Busy; trying again…");
    await sleep(result.retryAfter || 2);
  }
  if (result.status !== 202) return show(problem(result));
  show("Payment in progress…");
  const outcome = await outcomeOf(result.body.purchaseId);
  if (outcome.status === "Confirmed") {
    show(`Confirmed: order ${outcome.orderId}.`);
    showQueue(null);
    // An accepted purchase already stopped counting this visitor as shopping (the pin does it).
    admittedRoom = null;
  } else {
    show(`The purchase failed (${outcome.failureReason || outcome.status}); the ticket went back on sale.`);
  }
}

// The purchase's outcome as the server pushes it; should the stream fail (a proxy that buffers, a dropped
// connection), by asking every two seconds instead.
function outcomeOf(purchaseId) {
  const path = `/api/purchases/${encodeURIComponent(purchaseId)}`;
  return new Promise((resolve) => {
    const events = new EventSource(`${path}/events`);
    const decided = (status) => {
      if (status.status === "Pending") return false;
      events.close();
      resolve(status);
      return true;
    };
    events.addEventListener("purchase", (event) => decided(JSON.parse(event.data)));
    events.onerror = async () => {
      events.close();
      for (;;) {
        const status = await api(path);
        if (status.status === 200 && decided(status.body)) return;
        await sleep(2);
      }
    };
  });
}

// Closing or reloading the page once admitted tells the room the visitor went away: stock pacing lets the next in line
// in without waiting for this visit's shopping window to end. It is not leaving (which ends an admission): a reload
// keeps the visitor's place and turn.
function goAway() {
  const path = admittedRoom;
  admittedRoom = null;
  return path ? api(`${path}/away`, { method: "POST", keepalive: true }) : Promise.resolve();
}

window.addEventListener("pagehide", () => goAway());

async function refreshSession() {
  const session = await api("/bff/session");
  antiforgeryToken = session.body?.antiforgeryToken ?? null;
  signedIn = !!session.body?.signedIn;
  const label = document.getElementById("session");
  label.hidden = !signedIn;
  label.textContent = signedIn ? `Signed in as ${session.body.email}` : "";
  document.getElementById("sign-in").hidden = signedIn;
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

// The confirmation link from the registration mail lands here: confirm the address, and take the token out of the
// address bar (and so out of the history).
async function confirmEmail() {
  const token = new URLSearchParams(location.search).get("verify-email");
  if (!token) return;
  history.replaceState(null, "", location.pathname);
  const result = await api("/api/auth/verify-email", { method: "POST", body: JSON.stringify({ token }) });
  show(result.status === 204 ? "Your e-mail address is confirmed: sign in to buy tickets." : problem(result));
}

(async () => {
  await refreshSession();
  await confirmEmail();
  const campaigns = await api("/api/campaigns");
  if (campaigns.status === 200) renderCampaigns(campaigns.body);
  else show("Campaigns are unavailable right now.");
})();
