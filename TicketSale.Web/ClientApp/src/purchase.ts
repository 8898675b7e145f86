import { call, sleep, type Answer, type PurchaseState } from "./api";

export interface PurchaseOutcome {
  accepted: Answer<PurchaseState>;
  final: PurchaseState | null;
}

/**
 * Buys a hold: the purchase is accepted at once (202) and decided in the background. A retry after a 503 or 429
 * sends the same Idempotency-Key, so however often it is repeated it can never buy twice. The outcome arrives as a
 * server-sent event; should the stream fail (a proxy that buffers, a dropped connection), by asking every 2 s.
 */
export async function purchase(campaignId: string, holdId: string, onBusy: (answer: Answer<unknown>) => void, promoCode?: string): Promise<PurchaseOutcome> {
  const key = crypto.randomUUID();
  let accepted!: Answer<PurchaseState>;
  for (let attempt = 0; attempt < 6; attempt++) {
    accepted = await call<PurchaseState>("/api/purchases", { method: "POST", headers: { "Idempotency-Key": key }, body: { campaignId, holdId, promoCode } });
    if (accepted.status !== 503 && accepted.status !== 429 && accepted.status !== 0) break;
    onBusy(accepted);
    await sleep(accepted.retryAfter || 2);
  }

  if (accepted.status !== 202 && accepted.status !== 200) return { accepted, final: null };
  const final = accepted.body!.status === "Pending" ? await outcomeOf(accepted.body!.purchaseId) : accepted.body!;
  return { accepted, final };
}

function outcomeOf(purchaseId: string): Promise<PurchaseState> {
  const path = `/api/purchases/${encodeURIComponent(purchaseId)}`;
  return new Promise((resolve) => {
    const events = new EventSource(`${path}/events`);
    let done = false;
    const decided = (state: PurchaseState): boolean => {
      if (done || state.status === "Pending") return done;
      done = true;
      events.close();
      resolve(state);
      return true;
    };
    events.addEventListener("purchase", (event) => decided(JSON.parse((event as MessageEvent<string>).data) as PurchaseState));
    events.onerror = async () => {
      events.close();
      while (!done) {
        const state = await call<PurchaseState>(path);
        if (state.ok && decided(state.body!)) return;
        await sleep(2);
      }
    };
  });
}
