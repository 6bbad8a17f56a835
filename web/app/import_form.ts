/// <reference lib="dom" />
/**
 * Importing a symbol from a market-data provider, when this server has one.
 *
 * The form stays hidden unless `GET /v1/providers` lists at least one enabled
 * provider that takes a symbol; a server without provider support answers 404
 * there, which means the same as an empty list. So the page works unchanged
 * on servers with and without imports.
 *
 * @module
 */
import { apiFetch } from "./api.ts";
import { byId, h, replaceChildren } from "./dom.ts";
import { onSubmit } from "./forms.ts";
import { fetchProviders, type Provider } from "./providers.ts";
import type { Report } from "./types.ts";

/** What the form needs from the page. */
export interface ImportFormDeps {
  /** Called with the report the server accepted. */
  onImported(report: Report): void;
}

/**
 * Shows and wires the import form when the server has a provider; resolves
 * to whether it did. A failure to ask leaves the form hidden: uploading still
 * works, and that is what matters most.
 */
export async function setUpImportForm(deps: ImportFormDeps): Promise<boolean> {
  const section = byId("import-section", HTMLElement);
  let providers: Provider[];
  try {
    providers = await fetchProviders();
  } catch {
    return false;
  }
  if (providers.length === 0) return false;

  const form = byId("import-form", HTMLFormElement);
  const select = byId("import-provider", HTMLSelectElement);
  const note = byId("import-provider-note", HTMLElement);
  const alertBox = byId("import-error", HTMLElement);
  const submit = byId("import-submit", HTMLButtonElement);
  const end = byId("import-end", HTMLInputElement);
  const start = byId("import-start", HTMLInputElement);

  replaceChildren(
    select,
    ...providers.map((provider) => h("option", { value: provider.name }, provider.name)),
  );
  const now = new Date();
  const yearAgo = Date.UTC(now.getUTCFullYear() - 1, now.getUTCMonth(), now.getUTCDate());
  end.max = now.toISOString().slice(0, 10);
  end.value = end.max;
  start.value = new Date(yearAgo).toISOString().slice(0, 10);

  function describeProvider(): void {
    const provider = providers.find((candidate) => candidate.name === select.value);
    if (provider === undefined) return;
    note.textContent = provider.reachable
      ? provider.description
      : `${provider.description}. Not answering at the moment; tried again in ` +
        `${provider.retryAfterSeconds} s.`;
  }
  select.addEventListener("change", describeProvider);
  describeProvider();

  onSubmit(form, { alertBox, submit }, async () => {
    const data = new FormData(form);
    const name = String(data.get("name") ?? "").trim();
    const body = {
      ...(name === "" ? {} : { name }),
      source: {
        provider: String(data.get("provider")),
        symbol: String(data.get("symbol") ?? "").trim(),
        start: String(data.get("start")),
        end: String(data.get("end")),
        interval: String(data.get("interval")),
      },
    };
    const response = await apiFetch("/v1/reports", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    deps.onImported(await response.json() as Report);
    byId("import-symbol", HTMLInputElement).value = "";
  });
  section.hidden = false;
  return true;
}
