// @vitest-environment node
import { describe, expect, it } from "vitest";
import { parseCode, verifyCode, type TicketKey } from "./ticketCode";

const base64 = (bytes: ArrayBuffer | Uint8Array): string => btoa(String.fromCharCode(...new Uint8Array(bytes)));
const base64Url = (bytes: ArrayBuffer | Uint8Array): string => base64(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

/** A code made the way the Api makes one, with a key of the test's own. */
async function issue(keyId: Uint8Array, campaign: string, ticket: string): Promise<{ code: string; key: TicketKey }> {
  const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
  const guidBytes = (g: string): number[] => g.replace(/-/g, "").match(/../g)!.map((b) => parseInt(b, 16));
  const payload = new Uint8Array([...keyId, ...guidBytes(campaign), ...guidBytes(ticket)]);
  const signed = `TS1.${base64Url(payload)}`;
  const signature = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, pair.privateKey, new TextEncoder().encode(signed));
  const id = [...keyId].map((b) => b.toString(16).padStart(2, "0")).join("");
  return { code: `${signed}.${base64Url(signature)}`, key: { id, publicKey: base64(await crypto.subtle.exportKey("spki", pair.publicKey)) } };
}

describe("ticket codes", () => {
  const campaign = "0f8fad5b-d9cb-469f-a165-70867728950e";
  const ticket = "7c9e6679-7425-40de-944b-e07fc1f90ae7";

  it("reads the campaign and ticket of a code its key signed", async () => {
    const { code, key } = await issue(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]), campaign, ticket);
    const read = await verifyCode(code, [key]);
    expect(read?.campaignId).toBe(campaign);
    expect(read?.ticketId).toBe(ticket);
    expect(read?.keyId).toBe("0102030405060708");
  });

  it("refuses an altered code, a code of a key it does not hold, and garbage", async () => {
    const { code, key } = await issue(new Uint8Array(8).fill(9), campaign, ticket);
    const altered = code.slice(0, 10) + (code[10] === "A" ? "B" : "A") + code.slice(11);
    expect(await verifyCode(altered, [key])).toBeNull();
    const other = await issue(new Uint8Array(8).fill(9), campaign, ticket);
    expect(await verifyCode(code, [other.key])).toBeNull();
    expect(await verifyCode(code, [])).toBeNull();
    for (const garbage of ["", "TS1.", "TS1..", "TS2.abc.def", "TS1.!!.??", code.slice(0, -5)]) expect(parseCode(garbage)).toBeNull();
  });
});
