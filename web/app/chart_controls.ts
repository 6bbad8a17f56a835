/// <reference lib="dom" />
/**
 * The controls above a report's chart: resample (interval and aggregation),
 * transform (with its window or smoothing factor) and log scale. They are
 * built once per report and keep their focus while the chart below them is
 * redrawn; every change hands the whole new view to `onChange`, which puts
 * it in the URL fragment (view_state.ts).
 *
 * @module
 */
import { h } from "./dom.ts";
import {
  AGG,
  type Agg,
  type ChartView,
  EVERY,
  type Every,
  isTransform,
  PLAIN_TRANSFORMS,
  ROLLING_TRANSFORMS,
  ROLLING_WINDOW,
} from "./view_state.ts";

const AGG_LABELS: Record<Agg, string> = {
  last: "Last value",
  first: "First value",
  mean: "Mean",
  sum: "Sum",
  min: "Minimum",
  max: "Maximum",
  count: "Count",
  ohlc: "Open, high, low, close",
};

const TRANSFORM_LABELS: Record<string, string> = {
  diff: "Difference from previous",
  pct_change: "Change from previous (return)",
  log_return: "Log return",
  cumsum: "Running total",
  drawdown: "Fall from running high (drawdown)",
  zscore: "Standard score (z)",
  rolling_mean: "Rolling mean",
  rolling_std: "Rolling standard deviation",
  rolling_min: "Rolling minimum",
  rolling_max: "Rolling maximum",
  ewm_mean: "Exponential moving average",
};

/** A window a rolling transform starts with. */
const DEFAULT_WINDOW = 20;
/** A smoothing factor the exponential average starts with. */
const DEFAULT_ALPHA = "0.1";

/**
 * Builds the controls for `view`; `onChange` gets each new, valid view. A
 * window or factor the API would refuse is marked invalid next to its field
 * and not sent.
 */
export function chartControls(view: ChartView, onChange: (view: ChartView) => void): HTMLElement {
  const every = select("chart-every", [
    ["", "As stored"],
    ...EVERY.map((value): [string, string] => [value, value]),
  ], view.every ?? "");
  const agg = select(
    "chart-agg",
    AGG.map((value): [string, string] => [value, AGG_LABELS[value]]),
    view.agg ?? "last",
  );
  const [transformName, argument] = (view.transform ?? "").split(":");
  const transform = select("chart-transform", [
    ["", "None"],
    ...[...PLAIN_TRANSFORMS, ...ROLLING_TRANSFORMS, "ewm_mean"].map((
      value,
    ): [string, string] => [value, TRANSFORM_LABELS[value]]),
  ], transformName);
  const windowInput = h("input", {
    id: "chart-window",
    type: "number",
    min: ROLLING_WINDOW.min,
    max: ROLLING_WINDOW.max,
    step: 1,
    inputmode: "numeric",
    value: transformName.startsWith("rolling_") ? argument : String(DEFAULT_WINDOW),
    "aria-describedby": "chart-argument-error",
  });
  const alphaInput = h("input", {
    id: "chart-alpha",
    type: "number",
    min: 0.001,
    max: 1,
    step: 0.01,
    inputmode: "decimal",
    value: transformName === "ewm_mean" ? argument : DEFAULT_ALPHA,
    "aria-describedby": "chart-argument-error",
  });
  const log = h("input", { id: "chart-log", type: "checkbox", checked: view.log === true });
  const error = h("p", { id: "chart-argument-error", class: "field-error", hidden: true });
  const windowField = field("chart-window", "Window (points)", windowInput);
  const alphaField = field("chart-alpha", "Smoothing (0 to 1)", alphaInput);

  function current(): ChartView | undefined {
    const next: ChartView = {};
    if (every.value !== "") {
      next.every = every.value as Every;
      if (agg.value !== "last") next.agg = agg.value as Agg;
    }
    const name = transform.value;
    windowInput.removeAttribute("aria-invalid");
    alphaInput.removeAttribute("aria-invalid");
    error.hidden = true;
    if (name !== "") {
      const input = name === "ewm_mean" ? alphaInput : windowInput;
      const written = name.startsWith("rolling_") || name === "ewm_mean"
        ? `${name}:${input.value.trim()}`
        : name;
      if (!isTransform(written)) {
        input.setAttribute("aria-invalid", "true");
        error.textContent = name === "ewm_mean"
          ? "The smoothing factor must be above 0 and at most 1"
          : `The window must be a whole number from ${ROLLING_WINDOW.min} to ${ROLLING_WINDOW.max}`;
        error.hidden = false;
        return undefined;
      }
      next.transform = written;
    }
    if (log.checked) next.log = true;
    return next;
  }

  function sync(): void {
    agg.disabled = every.value === "";
    windowField.hidden = !transform.value.startsWith("rolling_");
    alphaField.hidden = transform.value !== "ewm_mean";
  }

  const form = h(
    "form",
    { class: "chart-controls", id: "chart-controls", "aria-label": "Chart view" },
    field("chart-every", "Resample to", every),
    field("chart-agg", "Per interval", agg),
    field("chart-transform", "Transform", transform),
    windowField,
    alphaField,
    h(
      "div",
      { class: "control control-check" },
      log,
      h("label", { for: "chart-log" }, "Log scale"),
    ),
    error,
  );
  form.addEventListener("submit", (event) => event.preventDefault());
  form.addEventListener("change", () => {
    sync();
    const next = current();
    if (next !== undefined) onChange(next);
  });
  sync();
  return form;
}

function select(id: string, options: [value: string, label: string][], chosen: string) {
  return h(
    "select",
    { id, name: id },
    ...options.map(([value, label]) => h("option", { value, selected: value === chosen }, label)),
  );
}

function field(id: string, label: string, control: HTMLElement): HTMLElement {
  return h("div", { class: "control" }, h("label", { for: id }, label), control);
}
