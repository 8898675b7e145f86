const money = new Intl.NumberFormat("en", { style: "currency", currency: "EUR" });
const dateTime = new Intl.DateTimeFormat("en", { dateStyle: "medium", timeStyle: "short" });

export const formatPrice = (cents: number): string => money.format(cents / 100);

export const formatDate = (iso: string): string => dateTime.format(new Date(iso));

const instant = new Intl.DateTimeFormat("en", { dateStyle: "medium", timeStyle: "medium" });

/** To the second: when a ticket was scanned, for the next gate to compare. */
export const formatInstant = (iso: string): string => instant.format(new Date(iso));

/** "9:05" for 545 seconds; never negative. */
export function formatCountdown(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

/** A range of prices as a buyer reads it: "€40.00" or "€40.00 – €120.00". */
export function formatPriceRange(cents: number[]): string {
  if (cents.length === 0) return "";
  const low = Math.min(...cents);
  const high = Math.max(...cents);
  return low === high ? formatPrice(low) : `${formatPrice(low)} – ${formatPrice(high)}`;
}
