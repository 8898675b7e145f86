import { call, type Venue } from "../api";
import { field, h } from "../dom";
import { explain } from "../messages";
import { setTitle, show, type Page } from "../page";
import { Availability } from "../seatmap/availability";
import { SeatLayout } from "../seatmap/layout";
import { SeatMap } from "../seatmap/SeatMap";
import { adminOnly } from "./campaigns";

interface SectionDraft {
  name: HTMLInputElement;
  priceCategory: HTMLInputElement;
  rows: HTMLInputElement;
  seatsPerRow: HTMLInputElement;
}

/** Venues: the list, and a new one made of sections × rows × seats, previewed as the buyers' seat map will draw it. */
export const venuesPage: Page = async (container) => {
  setTitle("Venues");
  if (!adminOnly(container)) return;
  const list = h("ul", { id: "venues" });
  const drafts: SectionDraft[] = [];
  const sectionsBox = h("div", { id: "sections" });
  const preview = h("div", { id: "venue-preview", class: "preview" });
  const total = h("p", { id: "venue-total", role: "status" });
  const name = h("input", { id: "venue-name", required: true, maxlength: 200 });
  let map: SeatMap | null = null;

  const sections = () => drafts.map((d, i) => ({
    name: d.name.value.trim(),
    priceCategory: d.priceCategory.value.trim(),
    rows: Number(d.rows.value),
    seatsPerRow: Number(d.seatsPerRow.value),
    firstSeatIndex: drafts.slice(0, i).reduce((sum, p) => sum + Number(p.rows.value) * Number(p.seatsPerRow.value), 0),
  }));

  const redraw = () => {
    const valid = sections().filter((s) => s.rows > 0 && s.seatsPerRow > 0);
    const seats = valid.reduce((sum, s) => sum + s.rows * s.seatsPerRow, 0);
    total.textContent = `${seats.toLocaleString("en")} seats in ${valid.length} section${valid.length === 1 ? "" : "s"}.`;
    map?.dispose();
    preview.replaceChildren();
    if (valid.length === 0) return;
    const categories = [...new Set(valid.map((s) => s.priceCategory))];
    const layout = new SeatLayout(valid, categories);
    map = new SeatMap(layout, new Availability({ campaignId: "", version: 0, seatCount: seats, taken: "", generalAdmission: [] }), {
      describe: (seat) => layout.place(seat)?.section.priceCategory ?? "",
      isSelected: () => false,
      isMine: () => false,
    });
    map.setPicking(false);
    preview.append(map.element);
    map.start();
  };

  const addSection = (values = { name: "", priceCategory: "", rows: 10, seatsPerRow: 20 }) => {
    const n = drafts.length + 1;
    const draft: SectionDraft = {
      name: h("input", { id: `section-${n}-name`, required: true, maxlength: 50, value: values.name || `Section ${String.fromCharCode(64 + n)}` }),
      priceCategory: h("input", { id: `section-${n}-category`, required: true, maxlength: 50, value: values.priceCategory || "Standard" }),
      rows: h("input", { id: `section-${n}-rows`, type: "number", min: 1, max: 1000, required: true, value: values.rows }),
      seatsPerRow: h("input", { id: `section-${n}-seats`, type: "number", min: 1, max: 1000, required: true, value: values.seatsPerRow }),
    };
    drafts.push(draft);
    const remove = h("button", { type: "button", class: "link" }, `Remove section ${n}`);
    const row = h("fieldset", { class: "section-row" }, h("legend", {}, `Section ${n}`),
      field("Name", draft.name), field("Price category", draft.priceCategory), field("Rows", draft.rows), field("Seats per row", draft.seatsPerRow), remove);
    remove.addEventListener("click", () => {
      drafts.splice(drafts.indexOf(draft), 1);
      row.remove();
      redraw();
    });
    for (const input of Object.values(draft)) input.addEventListener("input", redraw);
    sectionsBox.append(row);
    redraw();
  };

  const add = h("button", { type: "button", id: "add-section" }, "Add a section");
  add.addEventListener("click", () => addSection());
  const form = h("form", { id: "venue-form", "aria-labelledby": "new-venue" },
    h("h2", { id: "new-venue" }, "New venue"), field("Name", name), sectionsBox, add, total, preview,
    h("button", { type: "submit", class: "primary" }, "Create the venue"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const answer = await call<Venue>("/api/admin/venues", {
      method: "POST",
      body: { name: name.value.trim(), sections: sections().map(({ firstSeatIndex: _, ...s }) => s) },
    });
    if (!answer.ok) return show(explain(answer));
    show(`Venue “${answer.body!.name}” created with ${answer.body!.seatCount.toLocaleString("en")} seats.`, true);
    window.dispatchEvent(new HashChangeEvent("hashchange"));
  });

  container.append(h("h1", {}, "Venues"), h("p", {}, h("a", { href: "#/admin" }, "Back to the console")), h("h2", {}, "Existing venues"), list, form);
  addSection();
  const venues = await call<Venue[]>("/api/admin/venues");
  if (!venues.ok) return show(explain(venues));
  list.append(...venues.body!.map((v) => h("li", { "data-venue-id": v.id }, `${v.name}: ${v.seatCount.toLocaleString("en")} seats in ${v.sections.length} section${v.sections.length === 1 ? "" : "s"}`)));
  if (venues.body!.length === 0) list.append(h("li", {}, "No venue yet."));
  return () => map?.dispose();
};
