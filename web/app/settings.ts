/// <reference lib="dom" />
/**
 * The API key setting. A server with API keys configured answers 401 without
 * one; the key typed here is kept in this tab's session storage (not in a
 * cookie, so it is never sent by the browser on its own, and it is gone when
 * the tab closes) and sent as `Authorization: Bearer` by every API call.
 *
 * @module
 */
import { ApiError, storeApiKey, storedApiKey } from "./api.ts";
import { announce, byId } from "./dom.ts";

/** Wires the settings form; `onChange` runs after the key was saved or forgotten. */
export function setUpSettings(onChange: () => void): void {
  const form = byId("settings-form", HTMLFormElement);
  const input = byId("api-key", HTMLInputElement);
  const state = byId("api-key-state", HTMLElement);
  const forget = byId("api-key-forget", HTMLButtonElement);

  function showState(): void {
    const stored = storedApiKey() !== null;
    state.textContent = stored ? "A key is set for this tab." : "No key set.";
    forget.disabled = !stored;
  }
  function save(key: string, message: string): void {
    try {
      storeApiKey(key);
      announce(message);
    } catch (error) {
      state.textContent = error instanceof ApiError ? error.message : String(error);
      return;
    }
    input.value = "";
    showState();
    onChange();
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    save(input.value.trim(), "API key saved");
  });
  forget.addEventListener("click", () => save("", "API key forgotten"));
  showState();
}

/** Opens the settings when the server asked for a key we do not have (401). */
export function askForKey(): void {
  const details = byId("settings", HTMLDetailsElement);
  details.open = true;
  byId("api-key", HTMLInputElement).focus();
}
