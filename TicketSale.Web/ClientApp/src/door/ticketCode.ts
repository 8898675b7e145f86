/**
 * Ticket codes as the Api signs them (TicketSale.Core/Tickets/TicketCodes.cs): "TS1.<payload>.<signature>", both
 * base64url; the payload is the key's id (8 bytes), the campaign and the ticket (16 bytes each, big-endian GUIDs); the
 * signature ECDSA P-256 / SHA-256 over the text before the second dot, r‖s. Checked here with the public keys alone,
 * so a scanner that lost its connection still tells a real ticket from a forged one.
 */
export interface TicketKey {
  id: string;
  /** Base64 SubjectPublicKeyInfo. */
  publicKey: string;
}

export interface ParsedCode {
  keyId: string;
  campaignId: string;
  ticketId: string;
  signed: string;
  signature: Uint8Array<ArrayBuffer>;
}

const prefix = "TS1.";

export function parseCode(code: string): ParsedCode | null {
  const text = code.trim();
  const dot = text.lastIndexOf(".");
  if (!text.startsWith(prefix) || dot <= prefix.length) return null;
  const payload = fromBase64Url(text.slice(prefix.length, dot));
  const signature = fromBase64Url(text.slice(dot + 1));
  if (payload?.length !== 40 || signature?.length !== 64) return null;
  return { keyId: hex(payload.subarray(0, 8)), campaignId: guid(payload.subarray(8, 24)), ticketId: guid(payload.subarray(24, 40)), signed: text.slice(0, dot), signature };
}

/** The code's ticket when one of the keys signed it, else null. */
export async function verifyCode(code: string, keys: TicketKey[]): Promise<ParsedCode | null> {
  const parsed = parseCode(code);
  const key = parsed && keys.find((k) => k.id === parsed.keyId);
  if (!parsed || !key) return null;
  const publicKey = await crypto.subtle.importKey("spki", fromBase64(key.publicKey), { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
  const valid = await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, publicKey, parsed.signature, new TextEncoder().encode(parsed.signed));
  return valid ? parsed : null;
}

function fromBase64Url(text: string): Uint8Array<ArrayBuffer> | null {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) return null;
  return fromBase64(text.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(text.length / 4) * 4, "="));
}

function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

const hex = (bytes: Uint8Array): string => [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");

function guid(bytes: Uint8Array): string {
  const h = hex(bytes);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
