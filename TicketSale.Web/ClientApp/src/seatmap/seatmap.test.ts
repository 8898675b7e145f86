import { describe, expect, it } from "vitest";
import type { Section } from "../api";
import { Availability } from "./availability";
import { SeatLayout } from "./layout";
import { bestAvailable } from "./picking";

const sections: Section[] = [
  { name: "Stalls", priceCategory: "A", rows: 3, seatsPerRow: 4, firstSeatIndex: 0 },
  { name: "Balcony", priceCategory: "B", rows: 2, seatsPerRow: 5, firstSeatIndex: 12 },
];

function snapshot(taken: number[], version = 7, seatCount = 22) {
  const bytes = new Uint8Array(Math.ceil(seatCount / 8));
  for (const seat of taken) bytes[seat >> 3]! |= 0x80 >> (seat & 7);
  return { campaignId: "c", version, seatCount, taken: btoa(String.fromCharCode(...bytes)), generalAdmission: [{ id: "ga1", name: "Standing", left: 40 }] };
}

describe("SeatLayout", () => {
  const layout = new SeatLayout(sections, ["A", "B"]);

  it("numbers seats as the Api does: row by row within each section", () => {
    expect(layout.label(0)).toBe("Stalls, row 1, seat 1");
    expect(layout.label(5)).toBe("Stalls, row 2, seat 2");
    expect(layout.label(11)).toBe("Stalls, row 3, seat 4");
    expect(layout.label(12)).toBe("Balcony, row 1, seat 1");
    expect(layout.label(21)).toBe("Balcony, row 2, seat 5");
    expect(layout.place(13)?.category).toBe(1);
    expect(layout.seatCount).toBe(22);
  });

  it("finds the seat under every seat's centre, and none between sections", () => {
    for (let seat = 0; seat < 22; seat++) {
      const p = layout.position(seat)!;
      expect(layout.seatAt(p.x + 0.5, p.y + 0.5)).toBe(seat);
    }

    const stalls = layout.boxes[0]!;
    expect(layout.seatAt(stalls.x + 4.5, stalls.y)).toBeNull();
    expect(layout.seatAt(-1, -1)).toBeNull();
  });

  it("moves the keyboard focus along rows, across rows and into the next section", () => {
    expect(layout.neighbor(0, "right")).toBe(1);
    expect(layout.neighbor(0, "down")).toBe(4);
    expect(layout.neighbor(0, "left")).toBeNull();
    expect(layout.neighbor(0, "up")).toBeNull();
    expect(layout.neighbor(11, "right")).toBe(12);
    expect(layout.neighbor(12, "left")).toBe(11);
    expect(layout.neighbor(9, "down")).toBe(13);
    expect(layout.neighbor(13, "up")).toBe(9);
    expect(layout.neighbor(21, "right")).toBeNull();
  });

  it("lays out 50,000 seats in a few milliseconds and keeps the map about square", () => {
    const big: Section[] = Array.from({ length: 10 }, (_, i) => ({ name: `S${i}`, priceCategory: `C${i % 3}`, rows: 50, seatsPerRow: 100, firstSeatIndex: i * 5000 }));
    const started = performance.now();
    const venue = new SeatLayout(big, ["C0", "C1", "C2"]);
    expect(performance.now() - started).toBeLessThan(50);
    expect(venue.seatCount).toBe(50_000);
    expect(venue.width / venue.height).toBeGreaterThan(0.4);
    expect(venue.width / venue.height).toBeLessThan(2.5);
    expect(venue.label(49_999)).toBe("S9, row 50, seat 100");
  });
});

describe("Availability", () => {
  it("reads the bitmap most significant bit first", () => {
    const a = new Availability(snapshot([0, 9, 21]));
    expect([0, 1, 8, 9, 20, 21].map((s) => a.isTaken(s))).toEqual([true, false, false, true, false, true]);
    expect(a.countFree(22)).toBe(19);
  });

  it("applies the stream's changes after the snapshot, and ignores those it already holds", () => {
    const a = new Availability(snapshot([], 7));
    expect(a.apply("7 held 3")).toEqual({ seats: [], refetch: false });
    expect(a.isTaken(3)).toBe(false);
    expect(a.apply("8 held 3,4")).toEqual({ seats: [3, 4], refetch: false });
    expect(a.isTaken(3) && a.isTaken(4)).toBe(true);
    expect(a.apply("9 free 3")).toEqual({ seats: [3], refetch: false });
    expect(a.isTaken(3)).toBe(false);
    const id = "0f8fad5b-d9cb-469f-a165-70867728950e";
    const b = new Availability({ ...snapshot([], 7), generalAdmission: [{ id, name: "Standing", left: 40 }] });
    expect(b.left(id)).toBe(40);
    expect(b.apply("8 ga 0f8fad5bd9cb469fa16570867728950e 37").generalAdmission).toEqual({ id: "0f8fad5bd9cb469fa16570867728950e", left: 37 });
    expect(b.left(id)).toBe(37);
  });

  it("asks for the snapshot again when a version was skipped or the stream starts ahead", () => {
    const a = new Availability(snapshot([], 7));
    expect(a.apply("7 current").refetch).toBe(false);
    expect(a.apply("9 current").refetch).toBe(true);
    expect(a.apply("10 sold 5").refetch).toBe(true);
    expect(a.isTaken(5)).toBe(true);
    a.reset(snapshot([1], 12));
    expect(a.isTaken(5)).toBe(false);
    expect(a.isTaken(1)).toBe(true);
    a.reset(snapshot([], 11));
    expect(a.isTaken(1)).toBe(true);
  });

  it("fetches the map again after a rebuild newer than its snapshot, and takes a change with nothing to show in turn", () => {
    const a = new Availability(snapshot([3], 1_765_000_000_000_000));
    expect(a.apply("1765000000000000 rebuilt *").refetch).toBe(false);
    expect(a.apply("1765000000000001 none *")).toEqual({ seats: [], refetch: false });
    expect(a.isTaken(3)).toBe(true);
    expect(a.apply("1765000000000002 held 4")).toEqual({ seats: [4], refetch: false });
    const rebuilt = a.apply("1765000009000000 rebuilt *");
    expect(rebuilt.refetch).toBe(true);
    // The rebuild's own version is not taken: the snapshot fetched because of it must not be refused as older.
    a.reset(snapshot([], 1_765_000_009_000_000));
    expect(a.isTaken(3)).toBe(false);
  });
});

describe("bestAvailable", () => {
  const layout = new SeatLayout(sections, ["A", "B"]);

  it("seats a party side by side in the first row that has room", () => {
    const taken = new Set([1, 6]);
    expect(bestAvailable(layout, (s) => taken.has(s), 2)).toEqual([2, 3]);
    expect(bestAvailable(layout, (s) => taken.has(s), 3)).toEqual([8, 9, 10]);
    expect(bestAvailable(layout, (s) => taken.has(s), 5)).toEqual([12, 13, 14, 15, 16]);
  });

  it("falls back to scattered seats, and gives fewer when fewer are free", () => {
    const free = new Set([0, 5, 10]);
    expect(bestAvailable(layout, (s) => !free.has(s), 2)).toEqual([0, 5]);
    expect(bestAvailable(layout, (s) => !free.has(s), 4)).toEqual([0, 5, 10]);
  });
});
