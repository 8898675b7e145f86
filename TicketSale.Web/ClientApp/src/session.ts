import { call, useAntiforgeryToken, type Answer, type Session } from "./api";

/**
 * The browser session (the Web's backend-for-frontend): the Api's tokens stay in an HttpOnly cookie; the page only
 * knows who is signed in, their role, and the antiforgery token it must send with every change.
 */
let current: Session = { signedIn: false, email: null, role: null, antiforgeryToken: null };
const listeners = new Set<(session: Session) => void>();

export const session = (): Session => current;
export const isAdmin = (): boolean => current.signedIn && current.role === "admin";

export function onSessionChange(listener: (session: Session) => void): void {
  listeners.add(listener);
}

function keep(next: Session): void {
  current = next;
  useAntiforgeryToken(next.antiforgeryToken);
  for (const listener of listeners) listener(next);
}

export async function refreshSession(): Promise<void> {
  const answer = await call<Session>("/bff/session");
  if (answer.body) keep(answer.body);
}

export async function signIn(email: string, password: string, totpCode?: string): Promise<Answer<Session>> {
  const answer = await call<Session>("/bff/login", { method: "POST", body: { email, password, totpCode: totpCode || null } });
  if (answer.body) keep(answer.body);
  return answer;
}

export async function signOut(): Promise<Answer<unknown>> {
  const answer = await call("/bff/logout", { method: "POST" });
  if (answer.ok) await refreshSession();
  return answer;
}

export const register = (email: string, password: string): Promise<Answer<unknown>> =>
  call("/api/auth/register", { method: "POST", body: { email, password } });

export const resendConfirmation = (email: string): Promise<Answer<unknown>> =>
  call("/api/auth/verify-email/resend", { method: "POST", body: { email } });

export const confirmEmail = (token: string): Promise<Answer<unknown>> =>
  call("/api/auth/verify-email", { method: "POST", body: { token } });
