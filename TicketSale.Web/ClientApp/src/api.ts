// The server's answers as the pages use them, and one way to call it: same-origin, the session cookie sent by the
// browser, the antiforgery token on every request that changes state.

export type CampaignStatus = "Draft" | "Published" | "OnSale" | "Closed";

export interface CampaignSummary {
  id: string;
  name: string;
  status: CampaignStatus;
  eventAt: string;
  saleOpensAt: string;
  saleClosesAt: string;
  version: number;
}

/** A campaign as the public list shows it: its dates and its cheapest and dearest ticket. */
export interface CampaignListing extends CampaignSummary {
  lowestPriceCents: number | null;
  highestPriceCents: number | null;
  /** While on sale: free seats and general admission left (null when not known right now). */
  ticketsLeft: number | null;
}

export interface Section {
  name: string;
  priceCategory: string;
  rows: number;
  seatsPerRow: number;
  firstSeatIndex: number;
}

export interface Venue {
  id: string;
  name: string;
  seatCount: number;
  sections: Section[];
}

export interface Price {
  category: string;
  priceCents: number;
}

export interface GeneralAdmission {
  id: string;
  name: string;
  capacity: number;
  priceCents: number;
}

export interface CampaignDetails extends CampaignSummary {
  perUserLimit: number;
  holdSeconds: number;
  cancellationAllowed: boolean;
  waitingRoomEnabled: boolean;
  admissionsPerSecond: number;
  paceAdmissionsByStock: boolean;
  venue: Venue | null;
  prices: Price[];
  generalAdmission: GeneralAdmission[];
}

export interface SeatsAnswer {
  campaignId: string;
  version: number;
  seatCount: number;
  /** Base64, one bit per seat, set when held or sold, most significant bit first. */
  taken: string;
  generalAdmission: { id: string; name: string; left: number }[];
}

export interface Hold {
  holdId: string;
  campaignId: string;
  seats: number[];
  generalAdmissionCategoryId: string | null;
  quantity: number;
  expiresAt: string;
  purchaseId: string | null;
}

/** A campaign's waiting list as the buyer sees it (GET /api/campaigns/{id}/waiting-list). */
export interface WaitingList {
  waiting: number;
  entry: WaitingListEntry | null;
}

export interface WaitingListEntry {
  entryId: string;
  /** Waiting, Offered, Bought, Expired, Left or Passed. */
  status: string;
  place: number | null;
  quantity: number;
  generalAdmissionCategoryId: string | null;
  joinedAt: string;
  /** The hold offered (its id is the entry's). */
  offer: Omit<Hold, "campaignId"> | null;
}

/** What buying a hold costs, with a promo code's discount (GET …/holds/{id}/price). */
export interface PriceQuote {
  totalCents: number;
  discountCents: number;
  amountCents: number;
  promoCode: string | null;
  usesLeft: number | null;
}

export interface PurchaseState {
  purchaseId: string;
  status: "Pending" | "Confirmed" | "Failed";
  orderId: string | null;
  failureReason: string | null;
}

export interface Ticket {
  id: string;
  seatIndex: number | null;
  generalAdmissionCategoryId: string | null;
  priceCents: number;
  active: boolean;
}

export interface Order {
  id: string;
  campaignId: string;
  status: "Confirmed" | "Cancelled";
  totalCents: number;
  createdAt: string;
  tickets: Ticket[];
}

export interface Session {
  signedIn: boolean;
  email: string | null;
  role: string | null;
  antiforgeryToken: string | null;
}

export interface WaitingRoomAnswer {
  state: "NotNeeded" | "PreQueue" | "Waiting" | "Admitted" | "SoldOut" | "Expired";
  place: number | null;
  position: number | null;
  estimatedWaitSeconds: number | null;
  pollAfterSeconds: number;
  admissionToken: string | null;
  admittedUntil: string | null;
  opensInSeconds: number | null;
}

/** RFC 9457 problem details, as the Api, the gateway and the browser sessions answer a refusal. */
export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  errors?: Record<string, string[]>;
  [extension: string]: unknown;
}

export interface Answer<T> {
  status: number;
  ok: boolean;
  body: T | null;
  problem: Problem | null;
  /** Seconds from the Retry-After header (0 when absent). */
  retryAfter: number;
}

let antiforgeryToken: string | null = null;

export function useAntiforgeryToken(token: string | null): void {
  antiforgeryToken = token;
}

export interface CallOptions {
  method?: "GET" | "POST" | "PUT" | "DELETE";
  body?: unknown;
  headers?: Record<string, string>;
  keepalive?: boolean;
  /** Aborts the request (the page that asked was left). */
  signal?: AbortSignal;
}

export async function call<T>(path: string, options: CallOptions = {}): Promise<Answer<T>> {
  const method = options.method ?? "GET";
  const headers: Record<string, string> = { Accept: "application/json", ...options.headers };
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  if (antiforgeryToken && method !== "GET") headers["X-XSRF-TOKEN"] = antiforgeryToken;
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials: "same-origin",
      keepalive: options.keepalive ?? false,
      signal: options.signal ?? null,
      body: options.body === undefined ? null : JSON.stringify(options.body),
    });
  } catch {
    // No answer at all (offline, connection refused): reads like a 503 to the pages.
    return { status: 0, ok: false, body: null, problem: { title: "No connection", status: 0 }, retryAfter: 2 };
  }

  const type = response.headers.get("content-type") ?? "";
  const json = type.includes("json") ? await response.json().catch(() => null) : null;
  return {
    status: response.status,
    ok: response.ok,
    body: response.ok ? (json as T) : null,
    problem: response.ok ? null : ((json as Problem | null) ?? { status: response.status }),
    retryAfter: Number(response.headers.get("Retry-After")) || 0,
  };
}

export const sleep = (seconds: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.max(0.2, seconds) * 1000));

/** The last segment of a problem type ("https://ticketsale.example/problems/seats-taken" → "seats-taken"). */
export const problemKind = (problem: Problem | null): string => problem?.type?.split("/").pop() ?? "";
