import { describe, expect, it } from "vitest";
import { explain } from "./messages";

const problem = (status: number, kind?: string, detail?: string, retryAfter = 0) => ({
  status,
  retryAfter,
  problem: { status, type: kind ? `https://ticketsale.example/problems/${kind}` : undefined, detail },
});

describe("explain", () => {
  it("says what to do next for every refusal a buyer meets", () => {
    expect(explain(problem(409, "seats-taken"))).toMatch(/pick another seat/);
    expect(explain(problem(409, "per-user-limit", "At most 4 tickets per person; you may take 1 more."))).toBe(
      "At most 4 tickets per person; you may take 1 more. Release a hold or buy fewer tickets.");
    expect(explain(problem(409, "sold-out", "Only 2 tickets left in this category."))).toMatch(/^Only 2 tickets left.*fewer tickets/);
    expect(explain(problem(429, undefined, undefined, 7))).toBe("Too many requests right now. Please wait and try again in 7 s.");
    expect(explain(problem(503, undefined, undefined, 3))).toMatch(/busy.*Nothing was lost.*in 3 s/);
    expect(explain(problem(403, "admission-required"))).toMatch(/Join the line again/);
    expect(explain(problem(403, "email-not-verified"))).toMatch(/Confirm your e-mail/);
  });

  it("never shows a bare status code", () => {
    for (const status of [0, 400, 401, 403, 404, 409, 429, 500, 502, 503]) {
      const sentence = explain(problem(status));
      expect(sentence).not.toMatch(/^\d+$/);
      expect(sentence).not.toContain(String(status === 0 ? "status" : status));
      expect(sentence.length).toBeGreaterThan(20);
    }
  });

  it("gives a field's own error for invalid input", () => {
    expect(explain({ status: 400, retryAfter: 0, problem: { status: 400, errors: { quantity: ["Between 1 and 20 tickets per hold."] } } }))
      .toBe("Between 1 and 20 tickets per hold. Correct it and try again.");
  });
});
