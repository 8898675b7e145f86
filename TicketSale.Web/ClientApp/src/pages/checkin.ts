import { call, type Problem } from "../api";
import { h, field } from "../dom";
import { formatInstant } from "../format";
import { explain } from "../messages";
import { setTitle, type Page } from "../page";
import { session } from "../session";
import { verifyCode, type TicketKey } from "../door/ticketCode";

interface CheckInAnswer {
  code: string;
  outcome: "Admitted" | "AlreadyCheckedIn" | "Cancelled" | "NotFound" | "InvalidCode" | "OtherCampaign";
  ticketId: string | null;
  place: string | null;
  checkedInAt: string | null;
  gate: string | null;
}

interface OfflineScan {
  code: string;
  ticketId: string;
  gate: string;
  scannedAt: string;
}

const keysKey = "ts.door.keys";
const gateKey = "ts.door.gate";
const queueKey = "ts.door.offline";

const load = <T>(key: string, fallback: T): T => {
  try {
    return (JSON.parse(localStorage.getItem(key) ?? "null") as T | null) ?? fallback;
  } catch {
    return fallback;
  }
};

/**
 * The door: staff scan (a scanner types the code and Enter) or type a ticket's code. Online, the Api admits each
 * ticket once. Without a connection the page checks the signature with the public keys it keeps, admits what this
 * gate has not seen, and uploads those scans when the connection is back; the Api then says which it refuses.
 */
export const checkInPage: Page = async (container) => {
  setTitle("Door check-in");
  container.append(h("h1", {}, "Door check-in"));
  if (!session().signedIn || !["staff", "admin"].includes(session().role ?? "")) {
    container.append(h("p", {}, "Sign in with a door staff account to check tickets in."));
    return;
  }

  const keys = await call<{ keys: TicketKey[] }>("/api/tickets/keys");
  if (keys.ok) localStorage.setItem(keysKey, JSON.stringify(keys.body!.keys));

  const gate = h("input", { id: "gate", name: "gate", required: true, maxlength: 64, value: localStorage.getItem(gateKey) ?? "" });
  const code = h("input", { id: "code", name: "code", required: true, maxlength: 200, autocomplete: "off", autofocus: true });
  const result = h("div", { id: "scan-result", role: "status", "aria-live": "assertive" });
  const pending = h("p", { id: "offline-scans" });
  const upload = h("button", { type: "button", id: "upload-scans" }, "Upload offline scans");
  const uploaded = h("ul", { id: "upload-result" });
  const form = h("form", { id: "check-in", class: "card" },
    field("Gate", gate, "Shown to the next gate that scans a ticket this one admitted."),
    field("Ticket code", code),
    h("button", { type: "submit", class: "primary" }, "Check in"));

  const say = (admitted: boolean, text: string): void => {
    result.className = admitted ? "scan admitted" : "scan refused";
    result.textContent = text;
  };

  const renderPending = (): void => {
    const queue = load<OfflineScan[]>(queueKey, []);
    pending.textContent = queue.length === 0 ? "None waiting to upload." : `${queue.length} scan${queue.length === 1 ? "" : "s"} made offline, not yet uploaded.`;
    upload.hidden = queue.length === 0;
  };

  let uploading = false;
  const uploadScans = async (): Promise<void> => {
    const queue = load<OfflineScan[]>(queueKey, []);
    // One upload at a time: the same scans sent twice would come back "already checked in" by this very gate.
    if (queue.length === 0 || uploading) return;
    uploading = true;
    const answer = await call<{ results: CheckInAnswer[] }>("/api/checkin/scans", {
      method: "POST",
      body: { scans: queue.map((s) => ({ code: s.code, gate: s.gate, scannedAt: s.scannedAt })) },
    });
    uploading = false;
    if (!answer.ok) {
      if (answer.status !== 0) uploaded.replaceChildren(h("li", {}, explain(answer)));
      return;
    }

    // Only what was sent leaves the queue: scans made meanwhile wait for the next upload.
    localStorage.setItem(queueKey, JSON.stringify(load<OfflineScan[]>(queueKey, []).slice(queue.length)));
    uploaded.replaceChildren(...answer.body!.results.map((r) => h("li", { class: r.outcome === "Admitted" ? "admitted" : "refused" },
      r.outcome === "Admitted" ? `${r.place ?? "Ticket"}: admitted.` : `${r.place ?? "Ticket"}: ${describe(r)}`)));
    renderPending();
  };

  const scanOffline = async (text: string, gateName: string): Promise<void> => {
    const ticket = await verifyCode(text, load<TicketKey[]>(keysKey, []));
    if (!ticket) return say(false, "Not a valid ticket (checked offline): do not admit.");
    const queue = load<OfflineScan[]>(queueKey, []);
    const earlier = queue.find((s) => s.ticketId === ticket.ticketId);
    if (earlier) return say(false, `Already checked in at ${formatInstant(earlier.scannedAt)} at gate ${earlier.gate} (offline).`);
    queue.push({ code: text, ticketId: ticket.ticketId, gate: gateName, scannedAt: new Date().toISOString() });
    localStorage.setItem(queueKey, JSON.stringify(queue));
    say(true, "Admitted (checked offline: the signature is valid). Uploaded when the connection is back.");
    renderPending();
  };

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = code.value.trim();
    const gateName = gate.value.trim();
    localStorage.setItem(gateKey, gateName);
    code.value = "";
    code.focus();
    const answer = await call<CheckInAnswer>("/api/checkin", { method: "POST", body: { code: text, gate: gateName } });
    if (answer.ok) return say(true, `Admitted: ${answer.body!.place}.`);
    // No connection, or the Api unreachable behind the gateway: the door keeps going on signatures alone.
    if ([0, 502, 503, 504].includes(answer.status)) return scanOffline(text, gateName);
    say(false, refusal(answer.problem));
  });
  upload.addEventListener("click", () => void uploadScans());
  const onOnline = (): void => void uploadScans();
  window.addEventListener("online", onOnline);
  const timer = setInterval(() => void uploadScans(), 15_000);

  container.append(form, result, h("section", { class: "card" }, h("h2", {}, "Offline scans"), pending, upload, uploaded));
  renderPending();
  void uploadScans();
  return () => {
    window.removeEventListener("online", onOnline);
    clearInterval(timer);
  };
};

function refusal(problem: Problem | null): string {
  const at = problem?.["checkedInAt"] as string | undefined;
  if (problem?.type?.endsWith("/already-checked-in") && at) return `Already checked in at ${formatInstant(at)} at gate ${String(problem["gate"])}: do not admit.`;
  return `${problem?.detail ?? problem?.errors?.["code"]?.[0] ?? "Refused."} Do not admit.`;
}

function describe(r: CheckInAnswer): string {
  switch (r.outcome) {
    case "AlreadyCheckedIn":
      return `already checked in at ${formatInstant(r.checkedInAt!)} at gate ${r.gate}.`;
    case "Cancelled":
      return "the ticket was cancelled.";
    case "OtherCampaign":
      return "the ticket is for another event.";
    default:
      return "not a ticket of ours.";
  }
}
