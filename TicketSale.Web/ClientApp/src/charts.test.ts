import { describe, expect, it } from "vitest";
import { chartPoints, lineChart, rates } from "./charts";

describe("charts", () => {
  it("turns counters into per-second rates between samples", () => {
    const samples = [
      { at: 0, counters: { holds: 100 } },
      { at: 1000, counters: { holds: 150 } },
      { at: 3000, counters: { holds: 250 } },
      { at: 4000, counters: { holds: 10 } },
    ];
    expect(rates(samples, "holds")).toEqual([50, 50, 0]);
  });

  it("puts the highest value at the top and zero on the bottom line", () => {
    expect(chartPoints([0, 10], 10, 100, 50)).toEqual(["0.0,48.0", "100.0,14.0"]);
  });

  it("labels the chart with its latest value", () => {
    expect(lineChart([1, 2, 3.25], "Holds per second").getAttribute("aria-label")).toBe("Holds per second: 3.3");
  });
});
