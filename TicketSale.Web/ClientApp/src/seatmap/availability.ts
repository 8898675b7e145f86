import type { SeatsAnswer } from "../api";

export interface AppliedChange {
  /** Seats whose state changed (held, sold or freed). */
  seats: number[];
  /** A general-admission category whose count changed (its id as categoryKey gives it), with what is left. */
  generalAdmission?: { id: string; left: number };
  /** Some change was missed (the stream skipped a version): fetch the seat map again. */
  refetch: boolean;
}

/**
 * The seats' availability as the server last told it: the bitmap of /seats (bit set = held or sold), kept current by
 * the change stream (/seats/events). Versions come one per change, so a skipped version means a missed event.
 */
export class Availability {
  private bits: Uint8Array;
  version: number;
  private readonly standingLeft = new Map<string, number>();

  constructor(answer: SeatsAnswer) {
    this.bits = decode(answer.taken);
    this.version = answer.version;
    for (const category of answer.generalAdmission) this.standingLeft.set(categoryKey(category.id), category.left);
  }

  /** General-admission tickets left in a category (the Api writes its id with dashes, the stream without). */
  left(categoryId: string): number {
    return this.standingLeft.get(categoryKey(categoryId)) ?? 0;
  }

  /** A fresh snapshot: replaces everything older than it. */
  reset(answer: SeatsAnswer): void {
    if (answer.version < this.version) return;
    this.bits = decode(answer.taken);
    this.version = answer.version;
    for (const category of answer.generalAdmission) this.standingLeft.set(categoryKey(category.id), category.left);
  }

  isTaken(seat: number): boolean {
    return ((this.bits[seat >> 3] ?? 0) & (0x80 >> (seat & 7))) !== 0;
  }

  countFree(seatCount: number): number {
    let taken = 0;
    for (let seat = 0; seat < seatCount; seat++) if (this.isTaken(seat)) taken++;
    return seatCount - taken;
  }

  /**
   * One event of the stream: "&lt;version&gt; current" (the version a client should have), "&lt;version&gt;
   * held|sold|free &lt;seat,seat,…&gt;", "&lt;version&gt; ga &lt;category&gt; &lt;left&gt;", "&lt;version&gt; none" (a
   * change with nothing to show) or "&lt;version&gt; rebuilt *". Events the snapshot already holds are ignored.
   */
  apply(event: string): AppliedChange {
    const [versionText, state, detail, left] = event.split(" ");
    const version = Number(versionText);
    if (!Number.isFinite(version)) return { seats: [], refetch: true };
    if (state === "current") return { seats: [], refetch: version > this.version };
    // Rebuilt from the database after this snapshot: anything may have changed, so the map is fetched again.
    if (state === "rebuilt") return { seats: [], refetch: version > this.version };
    if (version <= this.version) return { seats: [], refetch: false };
    const refetch = version > this.version + 1;
    this.version = version;
    if (state === "ga") {
      const count = Number(left);
      const id = categoryKey(detail ?? "");
      this.standingLeft.set(id, count);
      return { seats: [], generalAdmission: { id, left: count }, refetch };
    }

    const seats = (detail ?? "").split(",").filter((s) => s !== "").map(Number).filter((s) => Number.isInteger(s) && s >= 0);
    const taken = state === "held" || state === "sold";
    for (const seat of seats) {
      const byte = seat >> 3;
      if (byte >= this.bits.length) this.bits = grow(this.bits, byte + 1);
      if (taken) this.bits[byte]! |= 0x80 >> (seat & 7);
      else this.bits[byte]! &= ~(0x80 >> (seat & 7));
    }

    return { seats, refetch };
  }
}

/** A category id as one key, whichever way it was written: 32 lowercase hex digits. */
export const categoryKey = (id: string): string => id.replace(/-/g, "").toLowerCase();

function decode(base64: string): Uint8Array {
  const text = atob(base64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

function grow(bits: Uint8Array, length: number): Uint8Array {
  const larger = new Uint8Array(length);
  larger.set(bits);
  return larger;
}
