const svgNamespace = "http://www.w3.org/2000/svg";

/**
 * A small line chart of the latest values (oldest first), scaled to its highest value, as an SVG image whose label
 * says what it shows and the latest value: the figure beside it is what a screen reader needs.
 */
export function lineChart(values: number[], label: string, width = 320, height = 80): SVGSVGElement {
  const svg = document.createElementNS(svgNamespace, "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("role", "img");
  svg.setAttribute("class", "chart");
  svg.setAttribute("aria-label", `${label}: ${values.length > 0 ? values[values.length - 1]!.toFixed(1) : "no data yet"}`);
  const high = Math.max(1, ...values);
  const axis = document.createElementNS(svgNamespace, "line");
  axis.setAttribute("x1", "0");
  axis.setAttribute("x2", String(width));
  axis.setAttribute("y1", String(height - 1));
  axis.setAttribute("y2", String(height - 1));
  axis.setAttribute("class", "chart-axis");
  svg.append(axis);
  if (values.length > 1) {
    const line = document.createElementNS(svgNamespace, "polyline");
    line.setAttribute("points", chartPoints(values, high, width, height).join(" "));
    line.setAttribute("class", "chart-line");
    svg.append(line);
  }

  const top = document.createElementNS(svgNamespace, "text");
  top.setAttribute("x", "2");
  top.setAttribute("y", "12");
  top.setAttribute("class", "chart-scale");
  top.textContent = `max ${Math.round(high).toLocaleString("en")}`;
  svg.append(top);
  return svg;
}

/** "x,y" pairs: the values spread over the width, the highest at the top, zero on the bottom line. */
export function chartPoints(values: number[], high: number, width: number, height: number): string[] {
  const step = values.length > 1 ? width / (values.length - 1) : 0;
  return values.map((v, i) => `${(i * step).toFixed(1)},${(height - 2 - (Math.max(0, v) / high) * (height - 16)).toFixed(1)}`);
}

export interface Sample {
  /** Milliseconds (performance.now()). */
  at: number;
  counters: Record<string, number>;
}

/** Per-second rates of each counter between consecutive samples. */
export function rates(samples: Sample[], counter: string): number[] {
  const out: number[] = [];
  for (let i = 1; i < samples.length; i++) {
    const seconds = (samples[i]!.at - samples[i - 1]!.at) / 1000;
    const delta = (samples[i]!.counters[counter] ?? 0) - (samples[i - 1]!.counters[counter] ?? 0);
    out.push(seconds > 0 ? Math.max(0, delta) / seconds : 0);
  }
  return out;
}
