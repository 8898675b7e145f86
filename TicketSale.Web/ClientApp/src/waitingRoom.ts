import { call, sleep, type WaitingRoomAnswer } from "./api";
import { explain } from "./messages";

export type Turn = { admitted: true; token: string } | { admitted: false; reason: string };

/**
 * Joins a campaign's waiting room (joining again keeps the place) and asks again when the server says to, telling
 * the visitor their position and expected wait, until their turn comes. Before the opening places are drawn at
 * random among everyone who came, so no position is shown then.
 */
export async function waitForTurn(campaignId: string, tell: (text: string) => void, cancelled: () => boolean): Promise<Turn> {
  const path = `/api/campaigns/${encodeURIComponent(campaignId)}/waiting-room`;
  let answer = await call<WaitingRoomAnswer>(path, { method: "POST" });
  for (;;) {
    if (cancelled()) return { admitted: false, reason: "" };
    if (answer.status === 429 || answer.status === 503 || answer.status === 0) {
      tell("The waiting room is very busy; keeping your place and asking again…");
      await sleep(answer.retryAfter || 2);
      answer = await call<WaitingRoomAnswer>(path);
      continue;
    }

    if (!answer.ok) return { admitted: false, reason: explain(answer) };
    const room = answer.body!;
    switch (room.state) {
      case "NotNeeded":
        return { admitted: true, token: "" };
      case "Admitted":
        tell("It is your turn. Pick your tickets.");
        return { admitted: true, token: room.admissionToken ?? "" };
      case "PreQueue":
        tell(`You are in the waiting room. The sale opens in ${room.opensInSeconds} s. Places in line are drawn at random ` +
          "among everyone who arrived before the opening; you will see yours once it opens.");
        break;
      case "Waiting":
        tell(room.estimatedWaitSeconds == null
          ? `You are number ${room.position} in line. Tickets are being bought; you move up as they come back.`
          : `You are number ${room.position} in line (about ${room.estimatedWaitSeconds} s to wait).`);
        break;
      case "SoldOut":
        return { admitted: false, reason: "Sold out: every ticket has been sold." };
      default:
        return { admitted: false, reason: "Your turn has passed. Join the line again to buy." };
    }

    await sleep(room.pollAfterSeconds);
    answer = await call<WaitingRoomAnswer>(path);
  }
}

/**
 * Closing or reloading the page once admitted tells the room the visitor went away: stock pacing lets the next in
 * line in without waiting for this visit's shopping window to end. It is not leaving (which ends an admission): a
 * reload keeps the visitor's place and turn.
 */
export function goAway(campaignId: string): void {
  void call(`/api/campaigns/${encodeURIComponent(campaignId)}/waiting-room/away`, { method: "POST", keepalive: true });
}
