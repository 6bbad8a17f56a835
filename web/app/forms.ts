/// <reference lib="dom" />
/**
 * Showing API errors on a form: the problem's title and detail in the form's
 * alert box, and each field error next to its field.
 *
 * A field error's `path` is dotted (`query.name`, `body.source.symbol`); its
 * last segment names the form control (`name`, `symbol`). The control is
 * marked `aria-invalid` and its message goes into the element with id
 * `<control id>-error`, which the control lists in `aria-describedby`, so a
 * screen reader reads it with the field. Errors with no matching control are
 * listed in the alert box instead, never dropped.
 *
 * @module
 */
import { ApiError, fieldName } from "./api.ts";
import { append, h, replaceChildren } from "./dom.ts";
import type { Problem } from "./types.ts";

/** Removes every error shown on `form` and hides its alert box. */
export function clearErrors(form: HTMLFormElement, alertBox: HTMLElement): void {
  alertBox.hidden = true;
  alertBox.replaceChildren();
  for (const control of form.querySelectorAll("[aria-invalid]")) {
    control.removeAttribute("aria-invalid");
  }
  for (const message of form.querySelectorAll<HTMLElement>(".field-error")) {
    message.hidden = true;
    message.textContent = "";
  }
}

/**
 * Shows `error` on `form`: an {@linkcode ApiError}'s problem, or any other
 * error's message. Moves focus to the first invalid field, or to the alert.
 */
export function showError(form: HTMLFormElement, alertBox: HTMLElement, error: unknown): void {
  clearErrors(form, alertBox);
  const problem: Problem = error instanceof ApiError ? error.problem : {
    type: "about:blank",
    title: "Something went wrong",
    status: 0,
    detail: error instanceof Error ? error.message : String(error),
  };
  const unplaced: string[] = [];
  let firstInvalid: HTMLElement | undefined;
  for (const fieldError of problem.errors ?? []) {
    const control = form.elements.namedItem(fieldName(fieldError.path));
    const message = control instanceof HTMLElement
      ? form.querySelector<HTMLElement>(`#${CSS.escape(control.id)}-error`)
      : null;
    if (!(control instanceof HTMLElement) || message === null) {
      unplaced.push(`${fieldError.path}: ${fieldError.message}`);
      continue;
    }
    control.setAttribute("aria-invalid", "true");
    message.textContent = fieldError.message;
    message.hidden = false;
    firstInvalid ??= control;
  }
  replaceChildren(alertBox, h("strong", {}, problem.title));
  if (problem.detail) append(alertBox, [" ", problem.detail]);
  if (error instanceof ApiError && error.retryAfterSeconds !== undefined) {
    append(alertBox, [` Try again in ${error.retryAfterSeconds} s.`]);
  }
  if (unplaced.length > 0) {
    alertBox.appendChild(h("ul", {}, ...unplaced.map((text) => h("li", {}, text))));
  }
  alertBox.hidden = false;
  (firstInvalid ?? alertBox).focus();
}

/**
 * Runs `action` when `form` is submitted, the same way for every form: old
 * errors cleared, the submit button disabled and the form marked busy while
 * it runs (so a double click sends once), and whatever it throws shown on the
 * form.
 */
export function onSubmit(
  form: HTMLFormElement,
  parts: { alertBox: HTMLElement; submit: HTMLButtonElement },
  action: () => Promise<void>,
): void {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form, parts.alertBox);
    parts.submit.disabled = true;
    form.setAttribute("aria-busy", "true");
    try {
      await action();
    } catch (error) {
      showError(form, parts.alertBox, error);
    } finally {
      parts.submit.disabled = false;
      form.removeAttribute("aria-busy");
    }
  });
}
