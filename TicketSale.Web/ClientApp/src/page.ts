import { byId } from "./dom";

/**
 * A page renders into its container and may return what to undo when the visitor leaves it (streams, timers). The
 * signal is aborted as soon as the visitor leaves, also while the page is still loading: its requests stop then.
 */
export type Page = (container: HTMLElement, parameters: string[], left: AbortSignal) => Promise<(() => void) | void>;

let keepOnce = false;

/**
 * The page's status line (a polite live region): outcomes, refusals and what to do next. A navigation clears it,
 * unless the text was shown with keep (an outcome that leads to another page, such as "signed in").
 */
export function show(text: string, keep = false): void {
  byId("message").textContent = text;
  keepOnce = keep;
}

/** Called by the router on each navigation. */
export function clearMessage(): void {
  if (!keepOnce) byId("message").textContent = "";
  keepOnce = false;
}

export function setTitle(title: string): void {
  document.title = `${title} · TicketSale`;
}
