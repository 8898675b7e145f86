import { h } from "../dom";
import type { Availability } from "./availability";
import { SeatLayout, type Direction } from "./layout";

/** Price categories' colours (Okabe–Ito, distinguishable with the common colour-vision deficiencies). */
export const categoryColors = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#7F3C8D", "#3C3C3C"];
const takenColor = "#C9CDD2";
const selectedColor = "#111111";
const mineColor = "#1B5E20";

export interface SeatMapOptions {
  /** What the keyboard focus announces for a seat besides its place: its category and price. */
  describe(seat: number): string;
  /** Called when a free seat is clicked or chosen with Enter/Space (nothing when picking is off). */
  onToggle?(seat: number): void;
  isSelected(seat: number): boolean;
  /** Seats of the buyer's own hold: taken, but drawn as theirs. */
  isMine(seat: number): boolean;
}

const dragThreshold = 4;

/**
 * The venue's seats on a canvas: one rectangle per seat (50,000 seats draw in milliseconds, where as many DOM
 * elements would take seconds), coloured by price category, grey when taken. Drag or swipe pans, the wheel or a
 * pinch zooms around the pointer; the keyboard moves a focus seat with the arrows, picks with Enter or Space and
 * zooms with + and −, and a live region reads out the focused seat.
 */
export class SeatMap {
  readonly element: HTMLElement;
  readonly canvas: HTMLCanvasElement;
  private readonly announcer: HTMLElement;
  private readonly context: CanvasRenderingContext2D;
  private scale = 1;
  private offsetX = 0;
  private offsetY = 0;
  private focusSeat: number | null = null;
  private frame = 0;
  private picking = true;
  private readonly pointers = new Map<number, { x: number; y: number }>();
  private dragged = 0;
  private pinchDistance = 0;
  private readonly resizeObserver: ResizeObserver;
  /** performance.now() when the first full drawing finished. */
  firstDrawnAt: number | null = null;
  /** How long the latest drawings took (ms), newest last: what panning and zooming cost per frame. */
  readonly drawTimes: number[] = [];

  constructor(private readonly layout: SeatLayout, private readonly availability: Availability, private readonly options: SeatMapOptions) {
    this.canvas = h("canvas", {
      class: "seat-map-canvas",
      tabindex: 0,
      role: "application",
      "aria-label": "Seat map. Arrow keys move between seats, Enter or Space picks a seat, plus and minus zoom.",
      "aria-describedby": "seat-map-focus",
    });
    this.announcer = h("p", { id: "seat-map-focus", class: "visually-hidden", "aria-live": "polite" });
    const zoomIn = h("button", { type: "button", "aria-label": "Zoom in", onclick: () => this.zoomBy(1.5) }, "+");
    const zoomOut = h("button", { type: "button", "aria-label": "Zoom out", onclick: () => this.zoomBy(1 / 1.5) }, "−");
    const fit = h("button", { type: "button", onclick: () => { this.fit(); this.requestDraw(); } }, "Whole venue");
    this.element = h("div", { class: "seat-map" }, h("div", { class: "seat-map-tools" }, zoomIn, zoomOut, fit), this.canvas, this.announcer);
    this.context = this.canvas.getContext("2d", { alpha: false })!;
    this.canvas.addEventListener("pointerdown", (e) => this.pointerDown(e));
    this.canvas.addEventListener("pointermove", (e) => this.pointerMove(e));
    this.canvas.addEventListener("pointerup", (e) => this.pointerUp(e));
    this.canvas.addEventListener("pointercancel", (e) => this.pointers.delete(e.pointerId));
    this.canvas.addEventListener("wheel", (e) => this.wheel(e), { passive: false });
    this.canvas.addEventListener("keydown", (e) => this.keyDown(e));
    this.canvas.addEventListener("focus", () => { this.focusSeat ??= this.firstFreeSeat(); this.announce(); this.requestDraw(); });
    this.resizeObserver = new ResizeObserver(() => { if (this.resize()) this.requestDraw(); });
    this.resizeObserver.observe(this.canvas);
  }

  /** Lays the canvas out at its displayed size and draws the whole venue at once. */
  start(): void {
    this.resize();
    this.fit();
    this.draw();
  }

  setPicking(picking: boolean): void {
    this.picking = picking;
  }

  dispose(): void {
    this.resizeObserver.disconnect();
    cancelAnimationFrame(this.frame);
  }

  requestDraw(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  isTaken(seat: number): boolean {
    return this.availability.isTaken(seat);
  }

  /** The seat's centre in CSS pixels of the canvas (for tests and for showing where a seat is). */
  seatCenter(seat: number): { x: number; y: number } | null {
    const p = this.layout.position(seat);
    return p ? { x: (p.x + 0.5) * this.scale + this.offsetX, y: (p.y + 0.5) * this.scale + this.offsetY } : null;
  }

  /** Centres a seat and zooms in far enough to pick it by pointer. */
  reveal(seat: number, minimumScale = 14): void {
    const p = this.layout.position(seat);
    if (!p) return;
    this.scale = Math.max(this.scale, minimumScale);
    this.offsetX = this.canvas.clientWidth / 2 - (p.x + 0.5) * this.scale;
    this.offsetY = this.canvas.clientHeight / 2 - (p.y + 0.5) * this.scale;
    this.requestDraw();
  }

  private resize(): boolean {
    const ratio = window.devicePixelRatio || 1;
    const width = Math.max(1, Math.round(this.canvas.clientWidth * ratio));
    const height = Math.max(1, Math.round(this.canvas.clientHeight * ratio));
    if (this.canvas.width === width && this.canvas.height === height) return false;
    this.canvas.width = width;
    this.canvas.height = height;
    return true;
  }

  private fit(): void {
    const width = this.canvas.clientWidth || 600;
    const height = this.canvas.clientHeight || 400;
    this.scale = Math.min(width / (this.layout.width + 2), height / (this.layout.height + 2));
    this.offsetX = (width - this.layout.width * this.scale) / 2;
    this.offsetY = (height - this.layout.height * this.scale) / 2;
  }

  private draw(): void {
    const started = performance.now();
    const ratio = window.devicePixelRatio || 1;
    const g = this.context;
    g.setTransform(ratio, 0, 0, ratio, 0, 0);
    g.fillStyle = "#FFFFFF";
    g.fillRect(0, 0, this.canvas.width, this.canvas.height);
    const s = this.scale;
    // Seats smaller than a pixel and a half are drawn edge to edge: a gap would only blur them.
    const size = s >= 1.5 ? s * 0.8 : s;
    const inset = (s - size) / 2;
    const viewWidth = this.canvas.clientWidth;
    const viewHeight = this.canvas.clientHeight;
    for (const box of this.layout.boxes) {
      const section = box.section;
      const left = box.x * s + this.offsetX;
      const top = box.y * s + this.offsetY;
      if (left > viewWidth || top > viewHeight || left + section.seatsPerRow * s < 0 || top + section.rows * s < 0) continue;
      if (s * SeatLayout.labelHeight >= 9) {
        g.fillStyle = "#222222";
        g.font = `${Math.min(16, s * 1.6)}px system-ui, sans-serif`;
        g.textBaseline = "bottom";
        g.fillText(section.name, left, top - s * 0.4);
      }

      const firstRow = Math.max(0, Math.floor(-top / s));
      const lastRow = Math.min(section.rows - 1, Math.floor((viewHeight - top) / s));
      const firstColumn = Math.max(0, Math.floor(-left / s));
      const lastColumn = Math.min(section.seatsPerRow - 1, Math.floor((viewWidth - left) / s));
      const color = categoryColors[box.category % categoryColors.length]!;
      // Two passes, one colour each: changing fillStyle per seat costs more than the rectangles.
      for (const pass of [0, 1]) {
        g.fillStyle = pass === 0 ? color : takenColor;
        for (let row = firstRow; row <= lastRow; row++) {
          const y = top + row * s + inset;
          let seat = section.firstSeatIndex + row * section.seatsPerRow + firstColumn;
          for (let column = firstColumn; column <= lastColumn; column++, seat++) {
            if (this.availability.isTaken(seat) === (pass === 1)) g.fillRect(left + column * s + inset, y, size, size);
          }
        }
      }
    }

    this.drawMarks(size, inset);
    this.firstDrawnAt ??= performance.now();
    this.drawTimes.push(performance.now() - started);
    if (this.drawTimes.length > 100) this.drawTimes.shift();
  }

  /** The buyer's own seats (picked, or held) over the map, and the keyboard focus. */
  private drawMarks(size: number, inset: number): void {
    const g = this.context;
    const mark = (seat: number, fill: string) => {
      const p = this.layout.position(seat);
      if (!p) return;
      g.fillStyle = fill;
      g.fillRect(p.x * this.scale + this.offsetX + inset, p.y * this.scale + this.offsetY + inset, size, size);
    };
    for (const seat of this.markedSeats()) mark(seat, this.options.isMine(seat) ? mineColor : selectedColor);
    if (this.focusSeat !== null && document.activeElement === this.canvas) {
      const p = this.layout.position(this.focusSeat);
      if (p) {
        g.strokeStyle = "#000000";
        g.lineWidth = 2;
        g.strokeRect(p.x * this.scale + this.offsetX - 1, p.y * this.scale + this.offsetY - 1, this.scale + 2, this.scale + 2);
      }
    }
  }

  private marked: number[] = [];

  /** The seats drawn as the buyer's: set by the page whenever its selection or hold changes. */
  setMarked(seats: number[]): void {
    this.marked = seats;
    this.requestDraw();
  }

  private markedSeats(): number[] {
    return this.marked;
  }

  private toWorld(clientX: number, clientY: number): { x: number; y: number } {
    const rect = this.canvas.getBoundingClientRect();
    return { x: (clientX - rect.left - this.offsetX) / this.scale, y: (clientY - rect.top - this.offsetY) / this.scale };
  }

  private pointerDown(event: PointerEvent): void {
    this.canvas.setPointerCapture(event.pointerId);
    this.pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
    this.dragged = 0;
    if (this.pointers.size === 2) this.pinchDistance = this.currentPinchDistance();
  }

  private pointerMove(event: PointerEvent): void {
    const last = this.pointers.get(event.pointerId);
    if (!last) return;
    if (this.pointers.size === 2) {
      this.pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
      const distance = this.currentPinchDistance();
      if (this.pinchDistance > 0) {
        const [a, b] = [...this.pointers.values()];
        this.zoomAround((a!.x + b!.x) / 2, (a!.y + b!.y) / 2, distance / this.pinchDistance);
      }
      this.pinchDistance = distance;
      this.dragged = dragThreshold + 1;
      return;
    }

    const dx = event.clientX - last.x;
    const dy = event.clientY - last.y;
    this.dragged += Math.abs(dx) + Math.abs(dy);
    this.pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
    if (this.dragged > dragThreshold) {
      this.offsetX += dx;
      this.offsetY += dy;
      this.requestDraw();
    }
  }

  private pointerUp(event: PointerEvent): void {
    const wasPinch = this.pointers.size > 1;
    this.pointers.delete(event.pointerId);
    if (wasPinch || this.dragged > dragThreshold) return;
    const world = this.toWorld(event.clientX, event.clientY);
    const seat = this.layout.seatAt(world.x, world.y);
    if (seat !== null) this.choose(seat);
  }

  private currentPinchDistance(): number {
    const [a, b] = [...this.pointers.values()];
    return a && b ? Math.hypot(a.x - b.x, a.y - b.y) : 0;
  }

  private wheel(event: WheelEvent): void {
    event.preventDefault();
    this.zoomAround(event.clientX, event.clientY, Math.exp(-event.deltaY * 0.0015));
  }

  private zoomBy(factor: number): void {
    const rect = this.canvas.getBoundingClientRect();
    this.zoomAround(rect.left + rect.width / 2, rect.top + rect.height / 2, factor);
  }

  private zoomAround(clientX: number, clientY: number, factor: number): void {
    const rect = this.canvas.getBoundingClientRect();
    const minimum = Math.min(rect.width / (this.layout.width + 2), rect.height / (this.layout.height + 2)) / 2;
    const next = Math.min(80, Math.max(minimum, this.scale * factor));
    const x = clientX - rect.left;
    const y = clientY - rect.top;
    this.offsetX = x - ((x - this.offsetX) * next) / this.scale;
    this.offsetY = y - ((y - this.offsetY) * next) / this.scale;
    this.scale = next;
    this.requestDraw();
  }

  private keyDown(event: KeyboardEvent): void {
    const directions: Record<string, Direction> = { ArrowLeft: "left", ArrowRight: "right", ArrowUp: "up", ArrowDown: "down" };
    const direction = directions[event.key];
    if (direction) {
      event.preventDefault();
      const from = this.focusSeat ?? this.firstFreeSeat();
      const next = from === null ? null : this.layout.neighbor(from, direction);
      if (next !== null) {
        this.focusSeat = next;
        this.keepInView(next);
        this.announce();
        this.requestDraw();
      }
    } else if ((event.key === "Enter" || event.key === " ") && this.focusSeat !== null) {
      event.preventDefault();
      this.choose(this.focusSeat);
    } else if (event.key === "+" || event.key === "=") {
      this.zoomBy(1.5);
    } else if (event.key === "-") {
      this.zoomBy(1 / 1.5);
    }
  }

  private choose(seat: number): void {
    this.focusSeat = seat;
    if (this.picking && this.options.onToggle && (!this.availability.isTaken(seat) || this.options.isSelected(seat))) this.options.onToggle(seat);
    this.announce();
    this.requestDraw();
  }

  private keepInView(seat: number): void {
    const center = this.seatCenter(seat);
    if (!center) return;
    if (this.scale < 8) this.reveal(seat, 8);
    else if (center.x < 0 || center.y < 0 || center.x > this.canvas.clientWidth || center.y > this.canvas.clientHeight) this.reveal(seat, this.scale);
  }

  private announce(): void {
    const seat = this.focusSeat;
    if (seat === null) return;
    const state = this.options.isMine(seat) ? "yours" : this.options.isSelected(seat) ? "picked" : this.availability.isTaken(seat) ? "taken" : "available";
    this.announcer.textContent = `${this.layout.label(seat)}, ${this.options.describe(seat)}, ${state}`;
  }

  private firstFreeSeat(): number | null {
    for (const box of this.layout.boxes) {
      const s = box.section;
      for (let seat = s.firstSeatIndex; seat < s.firstSeatIndex + s.rows * s.seatsPerRow; seat++) if (!this.availability.isTaken(seat)) return seat;
    }
    return this.layout.boxes[0]?.section.firstSeatIndex ?? null;
  }
}
