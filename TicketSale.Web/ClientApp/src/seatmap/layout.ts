import type { Section } from "../api";

/** Where a section sits on the map, in seat units (one seat = 1 × 1, drawn a little smaller). */
export interface SectionBox {
  section: Section;
  x: number;
  /** Top of the section's first row (its name is written above it). */
  y: number;
  category: number;
}

export interface SeatPlace {
  section: Section;
  /** 1-based, as printed on a ticket. */
  row: number;
  number: number;
  category: number;
}

export type Direction = "left" | "right" | "up" | "down";

const labelHeight = 2.5;
const gap = 3;

/**
 * The venue drawn as its sections, each a grid of rows × seats, laid out left to right and wrapped so the map is
 * about as wide as it is tall. Seat i of a section is row ⌊i / seatsPerRow⌋ + 1, number i mod seatsPerRow + 1 (the
 * Api's numbering). Everything is in "world" units; the map's view turns them into pixels.
 */
export class SeatLayout {
  readonly boxes: SectionBox[] = [];
  readonly width: number;
  readonly height: number;

  constructor(sections: Section[], categories: string[]) {
    const ordered = [...sections].sort((a, b) => a.firstSeatIndex - b.firstSeatIndex);
    const area = ordered.reduce((sum, s) => sum + (s.seatsPerRow + gap) * (s.rows + labelHeight + gap), 0);
    const widest = Math.max(0, ...ordered.map((s) => s.seatsPerRow));
    const lineWidth = Math.max(widest, Math.sqrt(area) * 1.3);
    let x = 0;
    let y = labelHeight;
    let lineHeight = 0;
    let width = 0;
    for (const section of ordered) {
      if (x > 0 && x + section.seatsPerRow > lineWidth) {
        x = 0;
        y += lineHeight + gap + labelHeight;
        lineHeight = 0;
      }

      this.boxes.push({ section, x, y, category: Math.max(0, categories.indexOf(section.priceCategory)) });
      x += section.seatsPerRow + gap;
      width = Math.max(width, x - gap);
      lineHeight = Math.max(lineHeight, section.rows);
    }

    this.width = width;
    this.height = y + lineHeight;
  }

  static readonly labelHeight = labelHeight;

  get seatCount(): number {
    return this.boxes.reduce((sum, b) => sum + b.section.rows * b.section.seatsPerRow, 0);
  }

  /** The box holding a seat index (sections are ordered by their first seat). */
  boxOf(seat: number): SectionBox | null {
    let low = 0;
    let high = this.boxes.length - 1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      const box = this.boxes[middle]!;
      const s = box.section;
      if (seat < s.firstSeatIndex) high = middle - 1;
      else if (seat >= s.firstSeatIndex + s.rows * s.seatsPerRow) low = middle + 1;
      else return box;
    }
    return null;
  }

  place(seat: number): SeatPlace | null {
    const box = this.boxOf(seat);
    if (!box) return null;
    const offset = seat - box.section.firstSeatIndex;
    return { section: box.section, row: Math.floor(offset / box.section.seatsPerRow) + 1, number: (offset % box.section.seatsPerRow) + 1, category: box.category };
  }

  /** "Section A, row 3, seat 12". */
  label(seat: number): string {
    const place = this.place(seat);
    return place ? `${place.section.name}, row ${place.row}, seat ${place.number}` : `Seat ${seat + 1}`;
  }

  /** Top-left corner of a seat's cell. */
  position(seat: number): { x: number; y: number } | null {
    const box = this.boxOf(seat);
    if (!box) return null;
    const offset = seat - box.section.firstSeatIndex;
    return { x: box.x + (offset % box.section.seatsPerRow), y: box.y + Math.floor(offset / box.section.seatsPerRow) };
  }

  /** The seat under a point of the map, or null between seats and sections. */
  seatAt(x: number, y: number): number | null {
    for (const box of this.boxes) {
      const s = box.section;
      if (x < box.x || y < box.y || x >= box.x + s.seatsPerRow || y >= box.y + s.rows) continue;
      return s.firstSeatIndex + Math.floor(y - box.y) * s.seatsPerRow + Math.floor(x - box.x);
    }
    return null;
  }

  /**
   * The seat a keyboard step leads to: along the row, or to the same number in the next row; past a section's edge,
   * into the next (or previous) section. Null at the ends of the venue.
   */
  neighbor(seat: number, direction: Direction): number | null {
    const index = this.boxes.findIndex((b) => b === this.boxOf(seat));
    if (index < 0) return null;
    const s = this.boxes[index]!.section;
    const offset = seat - s.firstSeatIndex;
    const row = Math.floor(offset / s.seatsPerRow);
    const column = offset % s.seatsPerRow;
    const size = s.rows * s.seatsPerRow;
    switch (direction) {
      case "right":
        if (offset + 1 < size) return seat + 1;
        return this.boxes[index + 1]?.section.firstSeatIndex ?? null;
      case "left":
        if (offset > 0) return seat - 1;
        return this.lastSeatOf(index - 1);
      case "down":
        if (row + 1 < s.rows) return seat + s.seatsPerRow;
        return this.boxes[index + 1] ? this.boxes[index + 1]!.section.firstSeatIndex + Math.min(column, this.boxes[index + 1]!.section.seatsPerRow - 1) : null;
      case "up":
        if (row > 0) return seat - s.seatsPerRow;
        return this.lastRowSeat(index - 1, column);
    }
  }

  private lastSeatOf(index: number): number | null {
    const s = this.boxes[index]?.section;
    return s ? s.firstSeatIndex + s.rows * s.seatsPerRow - 1 : null;
  }

  private lastRowSeat(index: number, column: number): number | null {
    const s = this.boxes[index]?.section;
    return s ? s.firstSeatIndex + (s.rows - 1) * s.seatsPerRow + Math.min(column, s.seatsPerRow - 1) : null;
  }
}
