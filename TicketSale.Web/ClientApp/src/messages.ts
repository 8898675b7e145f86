import { problemKind, type Answer } from "./api";

/**
 * A refusal as a sentence a buyer can act on: what happened and what to do next, never a bare status code. The
 * problem's own detail is used where it already says more (a limit's numbers, a field's error).
 */
export function explain(answer: Pick<Answer<unknown>, "status" | "problem" | "retryAfter">): string {
  const { status, problem, retryAfter } = answer;
  const detail = problem?.detail;
  const wait = retryAfter > 0 ? `in ${retryAfter} s` : "in a moment";
  switch (problemKind(problem)) {
    case "seats-taken":
      return "Someone else just took one of these seats. It is now shown as taken: pick another seat.";
    case "per-user-limit":
      return `${detail ?? "You have reached the limit of tickets per person."} Release a hold or buy fewer tickets.`;
    case "sold-out":
      return `${detail ?? "Sold out."} Choose fewer tickets or another category.`;
    case "not-on-sale":
      return "This sale is not open right now. Check the sale dates on the campaign page.";
    case "admission-required":
      return "Your turn in the waiting room has ended or has not come yet. Join the line again to buy.";
    case "email-not-verified":
      return "Confirm your e-mail address first: follow the link we sent you, then sign in again.";
    case "promo-code-used-up":
      return `${detail ?? "This promo code has been used up."} Pay without it or try another code.`;
    case "waiting-list":
      return "Buyers are waiting for tickets that come back: join the waiting list, and they are offered to you in turn.";
    case "tickets-available":
      return "These tickets are available right now: hold them instead of waiting.";
    case "already-on-waiting-list":
      return "You are on this waiting list already.";
    case "offer-made":
      return "Tickets are already held for you: buy them, or release them.";
    case "hold-in-purchase":
      return "This hold is already being paid for; wait for the payment's outcome.";
    case "cancellation-not-allowed":
      return `${detail ?? "This order cannot be cancelled."}`;
    case "second-factor-required":
      return "Enter the 6-digit code from your authenticator app.";
    case "second-factor-enrollment-required":
      return "Organizer accounts sign in with an authenticator app: enrol one first.";
    case "stale-version":
      return "Someone else changed this campaign meanwhile. Reload it and make your change again.";
    case "campaign-not-editable":
      return "The sale has opened: the campaign can no longer be edited.";
    case "invalid-transition":
      return `${detail ?? "That step is not possible in the campaign's current state."} Reload to see its state.`;
  }

  if (status === 400 && problem?.errors) {
    const first = Object.values(problem.errors).flat()[0];
    return `${first ?? "Some fields are not valid."} Correct it and try again.`;
  }

  switch (status) {
    case 0:
      return "No connection to TicketSale. Check your network; we will keep trying.";
    case 401:
      return "Your session has ended. Sign in again to continue.";
    case 403:
      return detail ? `${detail}` : "You are not allowed to do this with this account.";
    case 404:
      return detail ? `${detail} Go back to the campaign list.` : "Not found. Go back to the campaign list.";
    case 409:
      return detail ?? "That conflicts with the current state. Reload and try again.";
    case 429:
      return `Too many requests right now. Please wait and try again ${wait}.`;
    case 503:
      return `TicketSale is very busy right now. Nothing was lost: try again ${wait}.`;
    default:
      return status >= 500
        ? `Something went wrong on our side. Nothing was charged: try again ${wait}.`
        : (detail ?? "That did not work. Try again.");
  }
}
