import { problemKind } from "../api";
import { field, h } from "../dom";
import { explain } from "../messages";
import { setTitle, show, type Page } from "../page";
import { confirmEmail, register, resendConfirmation, session, signIn } from "../session";

/** Sign in (with a one-time code when the account needs one), register, or ask for another confirmation link. */
export const accountPage: Page = async (container) => {
  setTitle("Sign in or register");
  if (session().signedIn) {
    container.append(h("h1", {}, "Your account"), h("p", {}, `You are signed in as ${session().email}.`));
    return;
  }

  const email = h("input", { id: "email", type: "email", autocomplete: "username", required: true });
  const password = h("input", { id: "password", type: "password", autocomplete: "current-password", required: true });
  const code = h("input", { id: "code", inputmode: "numeric", autocomplete: "one-time-code", pattern: "[0-9]{6}", maxlength: 6 });
  const codeField = field("One-time code", code, "The 6 digits your authenticator app shows.");
  codeField.hidden = true;
  const signInForm = h("form", { id: "sign-in", "aria-labelledby": "sign-in-title" },
    h("h2", { id: "sign-in-title" }, "Sign in"),
    field("E-mail", email), field("Password", password), codeField,
    h("button", { type: "submit" }, "Sign in"));
  signInForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const answer = await signIn(email.value, password.value, code.value);
    if (answer.ok) {
      show(`Welcome back, ${answer.body!.email}.`, true);
      location.hash = answer.body!.role === "admin" ? "#/admin" : "#/";
      return;
    }

    if (problemKind(answer.problem) === "second-factor-required") {
      codeField.hidden = false;
      code.required = true;
      code.focus();
    }

    show(explain(answer));
  });

  const newEmail = h("input", { id: "register-email", type: "email", autocomplete: "email", required: true });
  const newPassword = h("input", { id: "register-password", type: "password", autocomplete: "new-password", required: true, minlength: 10 });
  const registerForm = h("form", { id: "register", "aria-labelledby": "register-title" },
    h("h2", { id: "register-title" }, "Create an account"),
    field("E-mail", newEmail), field("Password", newPassword, "At least 10 characters."),
    h("button", { type: "submit" }, "Register"));
  registerForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const answer = await register(newEmail.value, newPassword.value);
    show(answer.ok
      ? `Almost done: we sent a confirmation link to ${newEmail.value}. Follow it, then sign in.`
      : answer.status === 409 ? "An account with this e-mail address exists: sign in instead." : explain(answer));
  });

  const resend = h("button", { type: "button", class: "link" }, "Send the confirmation link again");
  resend.addEventListener("click", async () => {
    if (!newEmail.value && !email.value) return show("Enter your e-mail address in one of the forms first.");
    const answer = await resendConfirmation(newEmail.value || email.value);
    show(answer.ok ? "If the address has an account waiting for confirmation, a new link is on its way." : explain(answer));
  });

  container.append(h("h1", {}, "Sign in or register"), h("div", { class: "columns" }, signInForm, h("div", {}, registerForm, resend)));
};

/** The confirmation link from the registration mail lands on "/?verify-email=…": confirm, and drop the token from the address bar. */
export async function confirmEmailFromLink(): Promise<void> {
  const token = new URLSearchParams(location.search).get("verify-email");
  if (!token) return;
  history.replaceState(null, "", location.pathname + location.hash);
  const answer = await confirmEmail(token);
  show(answer.ok ? "Your e-mail address is confirmed: sign in to buy tickets." : explain(answer), true);
}
