import type { SeatLayout } from "./layout";

/**
 * The best free seats for a party: side by side in one row, the front rows of the first sections first (the order
 * the venue lists them in); failing that, the first free seats wherever they are. Fewer than asked when the venue
 * has fewer free.
 */
export function bestAvailable(layout: SeatLayout, isTaken: (seat: number) => boolean, quantity: number): number[] {
  for (const box of layout.boxes) {
    const s = box.section;
    if (s.seatsPerRow < quantity) continue;
    for (let row = 0; row < s.rows; row++) {
      let run = 0;
      for (let column = 0; column < s.seatsPerRow; column++) {
        const seat = s.firstSeatIndex + row * s.seatsPerRow + column;
        run = isTaken(seat) ? 0 : run + 1;
        if (run === quantity) return Array.from({ length: quantity }, (_, i) => seat - quantity + 1 + i);
      }
    }
  }

  const scattered: number[] = [];
  for (const box of layout.boxes) {
    const s = box.section;
    for (let seat = s.firstSeatIndex; seat < s.firstSeatIndex + s.rows * s.seatsPerRow && scattered.length < quantity; seat++) {
      if (!isTaken(seat)) scattered.push(seat);
    }
  }

  return scattered;
}
