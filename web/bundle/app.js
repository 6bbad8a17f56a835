// web/app/api.ts
var KEY_STORAGE = "reportd.api-key";
var UNAUTHORIZED_EVENT = "reportd:unauthorized";
var ApiError = class extends Error {
  /** The problem document (synthesized when the server sent none). */
  problem;
  /** Seconds the server asked us to wait (`Retry-After`), if it did. */
  retryAfterSeconds;
  /** Wraps `problem`; the message is its title and detail. */
  constructor(problem, retryAfterSeconds) {
    super(describeProblem(problem));
    this.name = "ApiError";
    this.problem = problem;
    this.retryAfterSeconds = retryAfterSeconds;
  }
};
function parseRetryAfter(value, now = Date.now()) {
  if (value === null) return void 0;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text);
  const date = Date.parse(text);
  if (Number.isNaN(date)) return void 0;
  return Math.max(0, Math.ceil((date - now) / 1e3));
}
function toProblem(status, statusText, body2) {
  if (isProblem(body2)) return body2;
  return {
    type: "about:blank",
    title: statusText || `HTTP error ${status}`,
    status,
    detail: `The server answered ${status} without an explanation`
  };
}
function isProblem(body2) {
  if (typeof body2 !== "object" || body2 === null) return false;
  const candidate = body2;
  return typeof candidate.title === "string" && typeof candidate.status === "number";
}
function describeProblem(problem) {
  const detail = problem.detail?.trim();
  return detail ? `${problem.title}: ${detail}` : problem.title;
}
function fieldName(path) {
  return path.split(".").at(-1) ?? path;
}
function storedApiKey() {
  try {
    return sessionStorage.getItem(KEY_STORAGE);
  } catch {
    return null;
  }
}
function storeApiKey(key) {
  try {
    if (key === "") sessionStorage.removeItem(KEY_STORAGE);
    else sessionStorage.setItem(KEY_STORAGE, key);
  } catch {
    throw new ApiError({
      type: "about:blank",
      title: "Cannot store the key",
      status: 0,
      detail: "This browser does not allow session storage for this page"
    });
  }
}
async function apiFetch(path, init = {}) {
  const headers = new Headers(init.headers);
  if (!headers.has("accept")) headers.set("accept", "application/json");
  const key = storedApiKey();
  if (key !== null) headers.set("authorization", `Bearer ${key}`);
  let response;
  try {
    response = await fetch(path, {
      ...init,
      headers
    });
  } catch (error) {
    if (error instanceof DOMException && error.name === "AbortError") throw error;
    throw new ApiError({
      type: "about:blank",
      title: "Network error",
      status: 0,
      detail: "The server could not be reached; check the connection and try again"
    });
  }
  if (response.ok || response.status === 304) return response;
  if (response.status === 401) globalThis.dispatchEvent(new Event(UNAUTHORIZED_EVENT));
  const body2 = await response.json().catch(() => void 0);
  throw new ApiError(toProblem(response.status, response.statusText, body2), parseRetryAfter(response.headers.get("retry-after")));
}
async function apiJson(path, init = {}) {
  const response = await apiFetch(path, init);
  return await response.json();
}

// web/app/dom.ts
function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === void 0 || value === false) continue;
    element.setAttribute(name, value === true ? "" : String(value));
  }
  append(element, children);
  return element;
}
function append(parent, children) {
  for (const child of children) {
    if (child === null || child === void 0 || child === false) continue;
    parent.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)));
  }
}
function replaceChildren(parent, ...children) {
  parent.replaceChildren();
  append(parent, children);
}
function byId(id, type) {
  const element = document.getElementById(id);
  if (!(element instanceof type)) {
    throw new Error(`Element #${id} is missing or not a ${type.name}`);
  }
  return element;
}
function announce(message) {
  const region = byId("announcer", HTMLElement);
  region.textContent = "";
  requestAnimationFrame(() => {
    region.textContent = message;
  });
}

// web/app/forms.ts
function clearErrors(form, alertBox) {
  alertBox.hidden = true;
  alertBox.replaceChildren();
  for (const control of form.querySelectorAll("[aria-invalid]")) {
    control.removeAttribute("aria-invalid");
  }
  for (const message of form.querySelectorAll(".field-error")) {
    message.hidden = true;
    message.textContent = "";
  }
}
function showError(form, alertBox, error) {
  clearErrors(form, alertBox);
  const problem = error instanceof ApiError ? error.problem : {
    type: "about:blank",
    title: "Something went wrong",
    status: 0,
    detail: error instanceof Error ? error.message : String(error)
  };
  const unplaced = [];
  let firstInvalid;
  for (const fieldError of problem.errors ?? []) {
    const control = form.elements.namedItem(fieldName(fieldError.path));
    const message = control instanceof HTMLElement ? form.querySelector(`#${CSS.escape(control.id)}-error`) : null;
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
  if (problem.detail) append(alertBox, [
    " ",
    problem.detail
  ]);
  if (error instanceof ApiError && error.retryAfterSeconds !== void 0) {
    append(alertBox, [
      ` Try again in ${error.retryAfterSeconds} s.`
    ]);
  }
  if (unplaced.length > 0) {
    alertBox.appendChild(h("ul", {}, ...unplaced.map((text) => h("li", {}, text))));
  }
  alertBox.hidden = false;
  (firstInvalid ?? alertBox).focus();
}
function onSubmit(form, parts, action) {
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

// web/app/providers.ts
function symbolProviders(body2) {
  const items = body2?.items;
  if (!Array.isArray(items)) return [];
  const providers = [];
  for (const item of items) {
    if (typeof item !== "object" || item === null) continue;
    const candidate = item;
    const parameters = candidate.parameters;
    if (typeof candidate.name !== "string" || parameters?.symbol === void 0) continue;
    providers.push({
      name: candidate.name,
      description: typeof candidate.description === "string" ? candidate.description : "",
      reachable: candidate.reachable !== false,
      retryAfterSeconds: typeof candidate.retry_after_s === "number" ? candidate.retry_after_s : 0
    });
  }
  return providers;
}
async function fetchProviders() {
  try {
    return symbolProviders(await apiJson("/v1/providers"));
  } catch (error) {
    if (error instanceof ApiError && error.problem.status === 404) return [];
    throw error;
  }
}

// web/app/import_form.ts
async function setUpImportForm(deps) {
  const section = byId("import-section", HTMLElement);
  let providers;
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
  const start2 = byId("import-start", HTMLInputElement);
  replaceChildren(select, ...providers.map((provider) => h("option", {
    value: provider.name
  }, provider.name)));
  const now = /* @__PURE__ */ new Date();
  const yearAgo = Date.UTC(now.getUTCFullYear() - 1, now.getUTCMonth(), now.getUTCDate());
  end.max = now.toISOString().slice(0, 10);
  end.value = end.max;
  start2.value = new Date(yearAgo).toISOString().slice(0, 10);
  function describeProvider() {
    const provider = providers.find((candidate) => candidate.name === select.value);
    if (provider === void 0) return;
    note.textContent = provider.reachable ? provider.description : `${provider.description}. Not answering at the moment; tried again in ${provider.retryAfterSeconds} s.`;
  }
  select.addEventListener("change", describeProvider);
  describeProvider();
  onSubmit(form, {
    alertBox,
    submit
  }, async () => {
    const data = new FormData(form);
    const name = String(data.get("name") ?? "").trim();
    const body2 = {
      ...name === "" ? {} : {
        name
      },
      source: {
        provider: String(data.get("provider")),
        symbol: String(data.get("symbol") ?? "").trim(),
        start: String(data.get("start")),
        end: String(data.get("end")),
        interval: String(data.get("interval"))
      }
    };
    const response = await apiFetch("/v1/reports", {
      method: "POST",
      headers: {
        "content-type": "application/json"
      },
      body: JSON.stringify(body2)
    });
    deps.onImported(await response.json());
    byId("import-symbol", HTMLInputElement).value = "";
  });
  section.hidden = false;
  return true;
}

// web/app/format.ts
var MISSING = "\u2014";
function formatNumber(value, locale) {
  if (value === null) return MISSING;
  return new Intl.NumberFormat(locale, {
    maximumSignificantDigits: 6
  }).format(value);
}
function formatCompact(value, locale) {
  return new Intl.NumberFormat(locale, {
    notation: "compact",
    maximumFractionDigits: 1
  }).format(value);
}
function formatInstant(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const text = date.toISOString();
  if (text.endsWith("T00:00:00.000Z")) return text.slice(0, 10);
  const seconds = text.endsWith(".000Z") ? text.slice(11, 19) : text.slice(11, 23);
  return `${text.slice(0, 10)} ${seconds} UTC`;
}
var UNITS = [
  [
    "d",
    86400
  ],
  [
    "h",
    3600
  ],
  [
    "min",
    60
  ],
  [
    "s",
    1
  ]
];
function formatDuration(seconds) {
  if (seconds < 1) return `${Math.round(seconds * 1e3)} ms`;
  const parts = [];
  let rest = Math.round(seconds);
  for (const [name, size] of UNITS) {
    if (rest >= size && parts.length < 2) {
      parts.push(`${Math.floor(rest / size)} ${name}`);
      rest %= size;
    } else if (parts.length > 0) {
      break;
    }
  }
  return parts.join(" ");
}
var DAY = 86400;
function formatTick(seconds, options) {
  const date = new Date(seconds * 1e3);
  const iso = date.toISOString();
  const { increment, first = false, locale } = options;
  const utc = (format) => new Intl.DateTimeFormat(locale, {
    ...format,
    timeZone: "UTC"
  }).format(date);
  if (increment >= 365 * DAY - DAY) return iso.slice(0, 4);
  if (increment >= 28 * DAY) return utc({
    month: "short",
    year: "numeric"
  });
  if (increment >= DAY) {
    const day = utc({
      month: "short",
      day: "numeric"
    });
    return first ? `${day}
${iso.slice(0, 4)}` : day;
  }
  const time = increment >= 60 ? iso.slice(11, 16) : iso.slice(11, 19);
  return first ? `${time}
${iso.slice(0, 10)}` : time;
}
function plural(count, noun, locale) {
  const number = new Intl.NumberFormat(locale).format(count);
  return `${number} ${count === 1 ? noun : `${noun}s`}`;
}

// web/app/chart_plan.ts
var FULL_RESOLUTION_MAX = 1e4;
function planSeries(visible, context) {
  const points = Math.max(3, Math.round(context.width));
  const { full } = context;
  if (visible.min <= full.min && visible.max >= full.max) return {
    points
  };
  const span = Math.max(visible.max - visible.min, 1e-3);
  const pad = Math.max(span * 0.02, 2 * (context.intervalSeconds ?? 0));
  const min = Math.max(full.min, visible.min - pad);
  const max = Math.min(full.max, visible.max + pad);
  const fullSpan = full.max - full.min;
  const estimate = fullSpan > 0 ? context.totalPoints * ((max - min) / fullSpan) : 0;
  const range = {
    from: isoSeconds(min),
    to: isoSeconds(max)
  };
  return estimate <= FULL_RESOLUTION_MAX ? range : {
    ...range,
    points
  };
}
function seriesUrl(reportId, plan) {
  const query = new URLSearchParams({
    format: "uplot"
  });
  if (plan.from !== void 0) query.set("from", plan.from);
  if (plan.to !== void 0) query.set("to", plan.to);
  if (plan.points !== void 0) query.set("points", String(plan.points));
  return `/v1/reports/${encodeURIComponent(reportId)}/series?${query}`;
}
function secondAxisColumn(columns) {
  if (columns.length < 2) return void 0;
  return columns.find((column) => column.toLowerCase() === "volume");
}
function isoSeconds(seconds) {
  return new Date(seconds * 1e3).toISOString();
}

// web/app/chart.ts
var PALETTE = [
  "#0072b2",
  "#d55e00",
  "#009e73",
  "#cc79a7",
  "#e69f00",
  "#56b4e9",
  "#000000"
];
function uPlotClass() {
  const constructor = globalThis.uPlot;
  if (constructor === void 0) throw new Error("uPlot did not load");
  return constructor;
}
var ReportChart = class {
  #report;
  #columns;
  #canvas;
  #status;
  #full;
  #plot;
  #overview;
  #loadedKey = "";
  #aborter;
  #debounce;
  #resize;
  #destroyed = false;
  /** Builds the figure inside `container`; call {@linkcode ReportChart.load} to draw. */
  constructor(container, report) {
    this.#report = report;
    this.#columns = Object.keys(report.summary.columns);
    this.#full = {
      min: Date.parse(report.summary.start) / 1e3,
      max: Date.parse(report.summary.end) / 1e3
    };
    this.#canvas = h("div", {
      class: "chart-canvas",
      id: "chart-canvas"
    });
    this.#status = h("p", {
      class: "chart-status",
      id: "chart-status"
    });
    const toolbar = h("div", {
      class: "chart-toolbar",
      role: "group",
      "aria-label": "Zoom"
    }, button("Zoom in", () => this.#zoom(0.5)), button("Zoom out", () => this.#zoom(2)), button("Reset zoom", () => this.reset()));
    container.replaceChildren(h("figure", {
      class: "chart",
      "aria-labelledby": "chart-caption"
    }, toolbar, this.#canvas, h("figcaption", {
      id: "chart-caption"
    }, `${plural(this.#columns.length, "column")} over time (UTC). Drag across the plot to zoom, double-click to reset; select a legend entry to hide or show its line. The statistics table below has the numbers.`), this.#status));
  }
  /** Fetches the overview and draws it. */
  async load() {
    const plan = planSeries(this.#full, this.#context());
    const data = await this.#fetch(plan);
    if (data === void 0 || this.#destroyed) return;
    this.#overview = data;
    this.#plot = this.#create(data);
    this.#show(data, plan);
    this.#resize = new ResizeObserver(() => this.#fit());
    this.#resize.observe(this.#canvas);
  }
  /** Back to the whole series. */
  reset() {
    const plot = this.#plot;
    if (plot === void 0 || this.#overview === void 0) return;
    this.#aborter?.abort();
    this.#loadedKey = seriesUrl(this.#report.id, planSeries(this.#full, this.#context()));
    plot.setData(this.#overview, false);
    plot.setScale("x", {
      ...this.#full
    });
    this.#show(this.#overview, {
      points: this.#width()
    });
  }
  /** Stops requests and observers and removes the plot. */
  destroy() {
    this.#destroyed = true;
    this.#aborter?.abort();
    clearTimeout(this.#debounce);
    this.#resize?.disconnect();
    this.#plot?.destroy();
  }
  #context() {
    return {
      full: this.#full,
      totalPoints: this.#report.summary.points,
      intervalSeconds: this.#report.summary.interval_median_s,
      width: this.#width()
    };
  }
  #width() {
    return Math.max(200, Math.floor(this.#canvas.clientWidth));
  }
  #height() {
    return Math.round(Math.min(420, Math.max(220, this.#width() * 0.45)));
  }
  async #fetch(plan) {
    this.#aborter?.abort();
    const aborter = new AbortController();
    this.#aborter = aborter;
    const url = seriesUrl(this.#report.id, plan);
    this.#loadedKey = url;
    this.#canvas.setAttribute("aria-busy", "true");
    try {
      return await apiJson(url, {
        signal: aborter.signal
      });
    } catch (error) {
      if (aborter.signal.aborted) return void 0;
      this.#status.textContent = error.message;
      this.#loadedKey = "";
      return void 0;
    } finally {
      if (this.#aborter === aborter) this.#canvas.removeAttribute("aria-busy");
    }
  }
  #create(data) {
    const UPlot = uPlotClass();
    const second = secondAxisColumn(this.#columns);
    const series = [
      {
        label: "Time (UTC)"
      },
      ...this.#columns.map((column, index) => {
        const colour = PALETTE[index % PALETTE.length];
        const onSecond = column === second;
        return {
          label: column,
          stroke: colour,
          width: onSecond ? 0 : 1.5,
          scale: onSecond ? "second" : "y",
          fill: onSecond ? `${colour}55` : void 0,
          paths: onSecond ? UPlot.paths.bars?.({
            size: [
              0.6,
              24
            ]
          }) : void 0,
          points: {
            show: false
          },
          value: (_plot, value) => value === null ? "--" : formatNumber(value)
        };
      })
    ];
    const axes = [
      {
        space: 64,
        values: (_plot, splits, _axis, _space, increment) => splits.map((split, index) => formatTick(split, {
          increment,
          first: index === 0
        }))
      },
      {
        scale: "y",
        values: compactValues
      }
    ];
    if (second !== void 0) {
      axes.push({
        scale: "second",
        side: 1,
        grid: {
          show: false
        },
        values: compactValues
      });
    }
    const options = {
      width: this.#width(),
      height: this.#height(),
      series,
      axes,
      scales: {
        x: {
          time: true
        },
        // Bars start at zero, or their heights would not compare.
        second: {
          range: (_plot, _min, max) => [
            0,
            max * 1.05
          ]
        }
      },
      // Times are UTC throughout the page, as the API returns them.
      tzDate: (seconds) => UPlot.tzDate(new Date(seconds * 1e3), "Etc/UTC"),
      cursor: {
        drag: {
          x: true,
          y: false
        },
        // uPlot's own double-click resets to the data it holds, which after a
        // zoom is only the zoomed range; reset to the overview instead.
        bind: {
          dblclick: () => () => {
            this.reset();
            return null;
          }
        }
      },
      legend: {
        live: true
      },
      hooks: {
        setScale: [
          (_plot, key) => {
            if (key === "x") this.#scheduleRangeFetch();
          }
        ],
        setSeries: [
          () => this.#syncLegend()
        ]
      }
    };
    const plot = new UPlot(options, data, this.#canvas);
    this.#makeLegendKeyboardOperable(plot);
    return plot;
  }
  /**
   * uPlot's legend entries toggle their series on click only; make them
   * buttons that a keyboard can reach and press, and that say their state.
   */
  #makeLegendKeyboardOperable(plot) {
    const rows = plot.root.querySelectorAll(".u-legend .u-series");
    rows.forEach((row, index) => {
      if (index === 0) return;
      const label = row.querySelector("th");
      if (label === null) return;
      label.setAttribute("role", "button");
      label.setAttribute("tabindex", "0");
      label.addEventListener("keydown", (event) => {
        if (event.key === "Enter" || event.key === " ") {
          event.preventDefault();
          label.click();
        }
      });
    });
    this.#syncLegend();
  }
  #syncLegend() {
    const plot = this.#plot;
    const root = plot?.root ?? this.#canvas;
    root.querySelectorAll(".u-legend .u-series").forEach((row, index) => {
      const label = row.querySelector("th");
      if (index === 0 || label === null) return;
      const shown = plot?.series[index]?.show ?? true;
      label.setAttribute("aria-pressed", String(shown));
      label.setAttribute("aria-label", `${this.#columns[index - 1]}: ${shown ? "shown" : "hidden"}; press to toggle`);
    });
  }
  #zoom(factor) {
    const plot = this.#plot;
    const visible = visibleRange(plot);
    if (plot === void 0 || visible === void 0) return;
    const middle = (visible.min + visible.max) / 2;
    const half = Math.max((visible.max - visible.min) / 2 * factor, 0.5);
    plot.setScale("x", {
      min: Math.max(this.#full.min, middle - half),
      max: Math.min(this.#full.max, middle + half)
    });
  }
  #scheduleRangeFetch() {
    clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => void this.#fetchVisible(), 120);
  }
  async #fetchVisible() {
    const plot = this.#plot;
    const visible = visibleRange(plot);
    if (plot === void 0 || visible === void 0) return;
    const plan = planSeries(visible, this.#context());
    if (seriesUrl(this.#report.id, plan) === this.#loadedKey) return;
    if (plan.from === void 0 && this.#overview !== void 0) {
      this.reset();
      return;
    }
    const data = await this.#fetch(plan);
    if (data === void 0 || this.#destroyed) return;
    plot.setData(data, false);
    plot.setScale("x", visible);
    this.#show(data, plan);
  }
  #show(data, plan) {
    const shown = data[0].length;
    const total = this.#report.summary.points;
    const full = plan.points === void 0 || shown >= total;
    const how = full ? "full resolution" : "downsampled to the chart width";
    this.#canvas.dataset.points = String(shown);
    this.#canvas.dataset.resolution = full ? "full" : "downsampled";
    this.#canvas.dataset.range = plan.from === void 0 ? "all" : `${plan.from}/${plan.to}`;
    this.#status.textContent = `Showing ${formatNumber(shown)} of ${plural(total, "point")} (${how}).`;
  }
  #fit() {
    const plot = this.#plot;
    if (plot === void 0) return;
    const width = this.#width();
    if (Math.abs(width - plot.width) < 2) return;
    plot.setSize({
      width,
      height: this.#height()
    });
  }
};
function visibleRange(plot) {
  const scale = plot?.scales.x;
  if (typeof scale?.min !== "number" || typeof scale.max !== "number") return void 0;
  return {
    min: scale.min,
    max: scale.max
  };
}
function button(label, onClick) {
  const element = h("button", {
    type: "button",
    class: "secondary"
  }, label);
  element.addEventListener("click", onClick);
  return element;
}
function compactValues(_plot, splits) {
  return splits.map((value) => formatCompact(value));
}

// web/app/types.ts
function isPending(status) {
  return status === "queued" || status === "processing";
}

// web/app/report_view.ts
var STATISTICS = [
  [
    "count",
    "Count"
  ],
  [
    "missing",
    "Missing"
  ],
  [
    "min",
    "Minimum"
  ],
  [
    "max",
    "Maximum"
  ],
  [
    "mean",
    "Mean"
  ],
  [
    "stddev",
    "Standard deviation"
  ],
  [
    "p50",
    "Median (p50)"
  ],
  [
    "p90",
    "90th percentile"
  ],
  [
    "p99",
    "99th percentile"
  ],
  [
    "first",
    "First"
  ],
  [
    "last",
    "Last"
  ],
  [
    "change",
    "Change"
  ],
  [
    "change_pct",
    "Change (%)"
  ]
];
var STATUS_LABELS = {
  queued: "Queued",
  processing: "Processing",
  ready: "Ready",
  failed: "Failed"
};
function statusBadge(status) {
  return h("span", {
    class: "badge",
    "data-status": status
  }, h("span", {
    class: "badge-icon",
    "aria-hidden": "true"
  }), STATUS_LABELS[status]);
}
var ReportView = class {
  #panel;
  #deps;
  #report;
  #chart;
  /** A view that renders into `panel`. */
  constructor(panel, deps) {
    this.#panel = panel;
    this.#deps = deps;
  }
  /** The id of the report shown, if any. */
  get currentId() {
    return this.#report?.id;
  }
  /**
   * Shows `report`. Showing the same report in the same status again does
   * nothing, so a poll that brings no news does not redraw the chart.
   */
  show(report, options = {}) {
    const same = this.#report?.id === report.id && this.#report.status === report.status;
    this.#report = report;
    if (same) return;
    this.#chart?.destroy();
    this.#chart = void 0;
    this.#panel.dataset.open = "true";
    replaceChildren(this.#panel, ...this.#render(report));
    this.#panel.dataset.reportId = report.id;
    this.#panel.dataset.status = report.status;
    if (report.status === "ready" && report.summary !== null) {
      const container = this.#panel.querySelector("#chart");
      if (container !== null) {
        this.#chart = new ReportChart(container, {
          ...report,
          summary: report.summary
        });
        void this.#chart.load();
      }
    }
    if (options.focus) this.#panel.querySelector("#report-title")?.focus();
  }
  /** Shows a message instead of a report (nothing chosen, or not found). */
  showMessage(title, text) {
    this.#chart?.destroy();
    this.#chart = void 0;
    this.#report = void 0;
    delete this.#panel.dataset.open;
    delete this.#panel.dataset.reportId;
    delete this.#panel.dataset.status;
    replaceChildren(this.#panel, h("h2", {
      id: "report-title",
      tabindex: "-1"
    }, title), h("p", {
      class: "placeholder"
    }, text));
  }
  #render(report) {
    return [
      h("p", {
        class: "back"
      }, h("a", {
        href: "#/"
      }, "Back to the reports")),
      h("header", {
        class: "report-header"
      }, h("h2", {
        id: "report-title",
        tabindex: "-1"
      }, report.name), statusBadge(report.status)),
      h("p", {
        class: "report-source"
      }, describeSource(report)),
      this.#actions(report),
      ...body(report)
    ];
  }
  #actions(report) {
    const actions = h("div", {
      class: "actions"
    });
    if (report.status === "ready") {
      const link = h("a", {
        class: "button",
        id: "download-csv",
        href: `${report.links.series}?format=csv`,
        download: `${fileName(report.name)}.csv`
      }, "Download CSV");
      link.addEventListener("click", (event) => {
        if (storedApiKey() === null) return;
        event.preventDefault();
        void downloadWithKey(link.href, link.download, link);
      });
      actions.appendChild(link);
    }
    const remove = h("button", {
      type: "button",
      class: "danger",
      id: "delete-report"
    }, "Delete");
    remove.addEventListener("click", () => this.#deps.requestDelete(report));
    actions.appendChild(remove);
    return actions;
  }
};
function body(report) {
  if (isPending(report.status)) {
    return [
      h("p", {
        class: "pending"
      }, report.status === "queued" ? "Waiting for a worker. This page updates by itself." : "Parsing and computing statistics. This page updates by itself.")
    ];
  }
  if (report.status === "failed") return failure(report);
  const summary = report.summary;
  if (summary === null) return [];
  return [
    summaryList(report, summary),
    h("section", {
      id: "chart",
      class: "chart-section",
      "aria-label": "Chart"
    }),
    statisticsTable(summary),
    gapsSection(summary),
    rejectedSection(report)
  ];
}
function failure(report) {
  const error = report.error;
  return [
    h("div", {
      class: "error-box",
      id: "report-error"
    }, h("strong", {}, error?.title ?? "Processing failed"), error?.detail ? ` ${error.detail}` : "", error?.errors && error.errors.length > 0 ? h("ul", {}, ...error.errors.map((e) => h("li", {}, `${e.path}: ${e.message}`))) : null),
    rejectedSection(report)
  ];
}
function summaryList(report, summary) {
  const rows = report.rows;
  const entries = [
    [
      "Span",
      `${formatInstant(summary.start)} to ${formatInstant(summary.end)} (${formatDuration((Date.parse(summary.end) - Date.parse(summary.start)) / 1e3)})`
    ],
    [
      "Points",
      dataValue(summary.points)
    ],
    [
      "Median interval",
      summary.interval_median_s === null ? MISSING : formatDuration(summary.interval_median_s)
    ],
    [
      "Gaps",
      gapsText(summary)
    ]
  ];
  if (rows !== null) {
    entries.push([
      "Rows",
      `${plural(rows.received, "row")} received, ${formatNumber(rows.accepted)} accepted, ${formatNumber(rows.rejected)} rejected, ${formatNumber(rows.duplicates)} duplicate` + (rows.duplicates === 1 ? "" : "s")
    ]);
  }
  return h("dl", {
    class: "summary",
    id: "report-summary"
  }, ...entries.flatMap(([term, value]) => [
    h("dt", {}, term),
    h("dd", {}, value)
  ]));
}
function gapsText(summary) {
  const { count, threshold_s: threshold } = summary.gaps;
  if (count === 0) return "None";
  const longer = threshold === null ? "" : ` longer than ${formatDuration(threshold)}`;
  return `${plural(count, "gap")}${longer}`;
}
function statisticsTable(summary) {
  const columns = Object.keys(summary.columns);
  const table = h("table", {
    class: "statistics",
    id: "statistics"
  }, h("caption", {
    id: "statistics-caption"
  }, "Statistics per column"), h("thead", {}, h("tr", {}, h("th", {
    scope: "col"
  }, "Statistic"), ...columns.map((column) => h("th", {
    scope: "col",
    "data-column": column
  }, column)))), h("tbody", {}, ...STATISTICS.map(([field, heading]) => h("tr", {
    "data-statistic": field
  }, h("th", {
    scope: "row"
  }, heading), ...columns.map((column) => h("td", {}, dataValue(summary.columns[column][field])))))));
  return h("div", {
    class: "table-scroll",
    tabindex: "0",
    role: "region",
    "aria-labelledby": "statistics-caption"
  }, table);
}
function gapsSection(summary) {
  if (summary.gaps.largest.length === 0) return null;
  return h("details", {
    class: "gaps"
  }, h("summary", {}, `Largest gaps (${summary.gaps.largest.length})`), h("ol", {}, ...summary.gaps.largest.map((gap) => h("li", {}, `${formatInstant(gap.from)} to ${formatInstant(gap.to)} (${formatDuration(gap.seconds)})`))));
}
function rejectedSection(report) {
  const rows = report.rows;
  if (rows === null || rows.rejected === 0) return null;
  return h("details", {
    class: "rejected",
    id: "rejected-rows",
    open: true
  }, h("summary", {}, `${plural(rows.rejected, "rejected row")}`), rows.rejected_examples.length === 0 ? null : h("ul", {}, ...rows.rejected_examples.map((example) => h("li", {}, h("span", {
    class: "line"
  }, `Line ${example.line}: `), example.reason))));
}
function dataValue(value) {
  if (value === null) return MISSING;
  return h("data", {
    value: String(value)
  }, formatNumber(value));
}
function describeSource(report) {
  const source = report.source;
  const created = `created ${formatInstant(report.created_at)}`;
  if (source.kind === "upload") {
    return `${String(source.format).toUpperCase()} upload, ${created}`;
  }
  const parts = [
    source.symbol,
    source.start && `${source.start} to ${source.end}`,
    source.url
  ].filter((part) => typeof part === "string" && part !== "");
  return `Imported from ${String(source.provider)}${parts.length > 0 ? ` (${parts.join(", ")})` : ""}, ${created}`;
}
function fileName(name) {
  return name.replace(/[^\w.-]+/g, "_").replace(/^_+|_+$/g, "").slice(0, 100) || "report";
}
async function downloadWithKey(url, name, link) {
  try {
    const response = await apiFetch(url, {
      headers: {
        accept: "text/csv"
      }
    });
    const blobUrl = URL.createObjectURL(await response.blob());
    const temporary = h("a", {
      href: blobUrl,
      download: name,
      hidden: true
    });
    document.body.appendChild(temporary);
    temporary.click();
    temporary.remove();
    setTimeout(() => URL.revokeObjectURL(blobUrl), 0);
  } catch (error) {
    link.after(h("p", {
      class: "error-box",
      role: "alert"
    }, describeError(error)));
  }
}
function describeError(error) {
  const problem = error.problem;
  return problem === void 0 ? String(error) : describeProblem(problem);
}

// web/app/report_list.ts
var PAGE_SIZE = 20;
var ReportList = class {
  #list;
  #more;
  #message;
  #empty;
  #deps;
  #reports = /* @__PURE__ */ new Map();
  #cursor = null;
  #selected;
  /** Wires the list to its elements. */
  constructor(elements, deps) {
    this.#list = elements.list;
    this.#more = elements.more;
    this.#message = elements.message;
    this.#empty = elements.empty;
    this.#deps = deps;
    this.#more.addEventListener("click", () => void this.loadMore());
  }
  /** The report with this id, if the list holds it. */
  get(id) {
    return this.#reports.get(id);
  }
  /** Loads the first page, replacing whatever was shown. */
  async reload() {
    this.#reports.clear();
    this.#list.replaceChildren();
    this.#cursor = null;
    await this.#load(void 0);
  }
  /** Appends the next page. */
  async loadMore() {
    if (this.#cursor === null) return;
    await this.#load(this.#cursor);
  }
  /** Adds a new report at the top, or updates the one shown. */
  upsert(report) {
    const known = this.#reports.has(report.id);
    this.#reports.set(report.id, report);
    const item = this.#item(report);
    const existing = this.#find(report.id);
    if (existing !== null) existing.replaceWith(item);
    else if (!known) this.#list.prepend(item);
    this.#updateEmpty();
  }
  /** Removes a report (after it was deleted). */
  remove(id) {
    this.#reports.delete(id);
    this.#find(id)?.remove();
    this.#updateEmpty();
  }
  /** Marks the entry of the report being viewed. */
  select(id) {
    this.#selected = id;
    for (const link of this.#list.querySelectorAll("a[aria-current]")) {
      link.removeAttribute("aria-current");
    }
    if (id !== void 0) this.#find(id)?.querySelector("a")?.setAttribute("aria-current", "page");
  }
  async #load(cursor) {
    const query = new URLSearchParams({
      limit: String(PAGE_SIZE)
    });
    if (cursor !== void 0) query.set("cursor", cursor);
    this.#more.disabled = true;
    this.#list.setAttribute("aria-busy", "true");
    try {
      const page = await apiJson(`/v1/reports?${query}`);
      const fresh = page.items.filter((report) => !this.#reports.has(report.id));
      for (const report of fresh) {
        this.#reports.set(report.id, report);
        this.#list.appendChild(this.#item(report));
      }
      this.#cursor = page.next_cursor;
      this.#message.hidden = true;
      this.#deps.onReports(fresh);
    } catch (error) {
      replaceChildren(this.#message, error.message);
      this.#message.hidden = false;
    } finally {
      this.#list.removeAttribute("aria-busy");
      this.#more.disabled = false;
      this.#more.hidden = this.#cursor === null;
      this.#updateEmpty();
    }
  }
  #item(report) {
    const points = report.summary === null ? null : plural(report.summary.points, "point");
    const link = h("a", {
      href: `#/reports/${encodeURIComponent(report.id)}`,
      class: "report-link"
    }, h("span", {
      class: "report-name"
    }, report.name), statusBadge(report.status), h("span", {
      class: "report-meta"
    }, formatInstant(report.created_at), points === null ? "" : `, ${points}`));
    if (report.id === this.#selected) link.setAttribute("aria-current", "page");
    return h("li", {
      "data-id": report.id
    }, link);
  }
  #find(id) {
    return this.#list.querySelector(`li[data-id="${CSS.escape(id)}"]`);
  }
  #updateEmpty() {
    this.#empty.hidden = !(this.#reports.size === 0 && this.#message.hidden);
  }
};

// web/app/settings.ts
function setUpSettings(onChange) {
  const form = byId("settings-form", HTMLFormElement);
  const input = byId("api-key", HTMLInputElement);
  const state = byId("api-key-state", HTMLElement);
  const forget = byId("api-key-forget", HTMLButtonElement);
  function showState() {
    const stored = storedApiKey() !== null;
    state.textContent = stored ? "A key is set for this tab." : "No key set.";
    forget.disabled = !stored;
  }
  function save(key, message) {
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
function askForKey() {
  const details = byId("settings", HTMLDetailsElement);
  details.open = true;
  byId("api-key", HTMLInputElement).focus();
}

// web/app/upload.ts
var EXTENSION_TYPES = {
  csv: "text/csv",
  tsv: "text/csv",
  tab: "text/csv",
  txt: "text/csv",
  json: "application/json",
  ndjson: "application/x-ndjson",
  jsonl: "application/x-ndjson",
  parquet: "application/vnd.apache.parquet",
  pq: "application/vnd.apache.parquet"
};
var PARSE_OPTION_NAMES = [
  "delimiter",
  "decimal",
  "thousands",
  "time_column",
  "date_format",
  "timezone"
];
function uploadHeaders(file) {
  const gzipped = /\.gz$/i.test(file.name);
  const inner = gzipped ? {
    name: file.name.slice(0, -3),
    type: ""
  } : file;
  const headers = {
    "content-type": uploadMediaType(inner)
  };
  if (gzipped) headers["content-encoding"] = "gzip";
  return headers;
}
function parseOptionParams(value) {
  return PARSE_OPTION_NAMES.flatMap((name) => {
    const raw = value(name);
    const given = name === "thousands" ? raw : raw.trim();
    return given === "" ? [] : [
      [
        name,
        given
      ]
    ];
  });
}
function uploadMediaType(file) {
  const extension = file.name.toLowerCase().split(".").at(-1) ?? "";
  if (Object.hasOwn(EXTENSION_TYPES, extension)) return EXTENSION_TYPES[extension];
  return file.type || "application/octet-stream";
}
function defaultName(fileName2) {
  const base = fileName2.replace(/\.gz$/i, "");
  return base.replace(/\.[^.]*$/, "").slice(0, 200) || fileName2.slice(0, 200);
}

// web/app/upload_form.ts
function setUpUploadForm(deps) {
  const form = byId("upload-form", HTMLFormElement);
  const fileInput = byId("upload-file", HTMLInputElement);
  const nameInput = byId("upload-name", HTMLInputElement);
  const dropZone = byId("drop-zone", HTMLElement);
  const chosen = byId("upload-chosen", HTMLElement);
  const alertBox = byId("upload-error", HTMLElement);
  const submit = byId("upload-submit", HTMLButtonElement);
  const options = byId("upload-options", HTMLDetailsElement);
  const detected = byId("upload-detected", HTMLElement);
  function fileChosen() {
    const file = fileInput.files?.[0];
    chosen.textContent = file === void 0 ? "No file chosen" : `Chosen: ${file.name}`;
    nameInput.placeholder = file === void 0 ? "" : defaultName(file.name);
  }
  fileInput.addEventListener("change", fileChosen);
  dropZone.addEventListener("dragover", (event) => {
    if (!event.dataTransfer?.types.includes("Files")) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
    dropZone.classList.add("dragging");
  });
  dropZone.addEventListener("dragleave", () => dropZone.classList.remove("dragging"));
  dropZone.addEventListener("drop", (event) => {
    event.preventDefault();
    dropZone.classList.remove("dragging");
    const files = event.dataTransfer?.files;
    if (files === void 0 || files.length === 0) return;
    fileInput.files = files;
    fileChosen();
    submit.focus();
  });
  for (const type of [
    "dragover",
    "drop"
  ]) {
    document.addEventListener(type, (event) => {
      if (!dropZone.contains(event.target)) event.preventDefault();
    });
  }
  onSubmit(form, {
    alertBox,
    submit
  }, async () => {
    const file = fileInput.files?.[0];
    if (file === void 0) {
      throw localError("No file chosen", {
        path: "file",
        message: "Choose a CSV or JSON file"
      });
    }
    const name = nameInput.value.trim() || defaultName(file.name);
    const query = new URLSearchParams({
      name
    });
    const params = parseOptionParams((option) => {
      const control = form.elements.namedItem(option);
      return control instanceof HTMLInputElement || control instanceof HTMLSelectElement ? control.value : "";
    });
    for (const [option, value] of params) query.set(option, value);
    detected.hidden = true;
    let response;
    try {
      response = await apiFetch(`/v1/reports?${query}`, {
        method: "POST",
        headers: uploadHeaders(file),
        body: file
      });
    } catch (error) {
      if (error instanceof ApiError) revealOptions(error);
      throw error;
    }
    const report = await response.json();
    form.reset();
    fileChosen();
    deps.onUploaded(report);
  });
  function revealOptions(error) {
    const errors = error.problem.errors ?? [];
    const named = errors.some((field) => PARSE_OPTION_NAMES.some((option) => field.path === `query.${option}`));
    const dialect = errors.find((field) => field.path === "dialect");
    if (dialect !== void 0) {
      detected.textContent = dialect.message;
      detected.hidden = false;
    }
    if (named || dialect !== void 0) options.open = true;
  }
}
function localError(title, field) {
  return new ApiError({
    type: "about:blank",
    title,
    status: 0,
    errors: [
      field
    ]
  });
}

// web/app/watcher.ts
var DEFAULT_BACKOFF = {
  initialMs: 500,
  maxMs: 1e4,
  factor: 1.5
};
function nextDelay(previousMs, options, retryAfterSeconds) {
  const step = Math.min(options.maxMs, Math.round(previousMs * options.factor));
  return Math.max(step, (retryAfterSeconds ?? 0) * 1e3);
}
var ReportWatcher = class {
  #deps;
  #backoff;
  #watched = /* @__PURE__ */ new Map();
  #delay;
  #cancel;
  #round = 0;
  #aborter = new AbortController();
  #running = false;
  #stopped = false;
  #current = Promise.resolve();
  /** A watcher that polls nothing until {@linkcode ReportWatcher.watch} is called. */
  constructor(deps) {
    this.#deps = deps;
    this.#backoff = deps.backoff ?? DEFAULT_BACKOFF;
    this.#delay = this.#backoff.initialMs;
  }
  /** The ids still being polled. */
  get pending() {
    return [
      ...this.#watched.keys()
    ];
  }
  /** True while a round is scheduled or running. */
  get active() {
    return this.#cancel !== void 0 || this.#running;
  }
  /** Resolves when the round in progress, if any, has finished. */
  idle() {
    return this.#current;
  }
  /**
   * Polls `report` until it settles; a settled report is ignored. Watching
   * something new brings the pace back to the quickest.
   */
  watch(report) {
    if (!isPending(report.status)) return;
    if (this.#watched.has(report.id)) return;
    this.#watched.set(report.id, {
      status: report.status,
      lastPolled: -1
    });
    this.#stopped = false;
    this.#delay = this.#backoff.initialMs;
    this.#reschedule(this.#delay);
  }
  /** Stops polling `id` (for example after it was deleted). */
  unwatch(id) {
    this.#watched.delete(id);
    if (this.#watched.size === 0) this.stop();
  }
  /** Stops every timer and request; {@linkcode ReportWatcher.watch} starts again. */
  stop() {
    this.#stopped = true;
    this.#cancel?.();
    this.#cancel = void 0;
    this.#aborter.abort();
    this.#aborter = new AbortController();
  }
  /** Runs a round now (when the tab becomes visible again, say). */
  resume() {
    this.#stopped = false;
    if (this.#watched.size > 0) this.#reschedule(0);
  }
  #reschedule(ms) {
    if (this.#running) return;
    this.#cancel?.();
    const schedule = this.#deps.schedule ?? defaultSchedule;
    this.#cancel = schedule(() => {
      this.#cancel = void 0;
      this.#current = this.#runRound();
    }, ms);
  }
  async #runRound() {
    this.#running = true;
    const round = ++this.#round;
    const ids = [
      ...this.#watched.entries()
    ].sort(([, a], [, b]) => a.lastPolled - b.lastPolled).slice(0, this.#deps.perRound ?? 4).map(([id]) => id);
    const signal = this.#aborter.signal;
    let changed = false;
    let retryAfter;
    await Promise.all(ids.map(async (id) => {
      const watched = this.#watched.get(id);
      if (watched === void 0) return;
      watched.lastPolled = round;
      try {
        const report = await this.#deps.fetchReport(id, signal);
        if (!this.#watched.has(id)) return;
        if (report.status !== watched.status || !isPending(report.status)) {
          changed = true;
          watched.status = report.status;
          if (!isPending(report.status)) this.#watched.delete(id);
          this.#deps.onChange(report);
        }
      } catch (error) {
        if (signal.aborted) return;
        const status = error.problem?.status;
        if (status === 404) {
          this.#watched.delete(id);
          this.#deps.onGone?.(id);
          return;
        }
        const seconds = error.retryAfterSeconds;
        if (seconds !== void 0) retryAfter = Math.max(retryAfter ?? 0, seconds);
      }
    }));
    this.#running = false;
    if (this.#stopped || this.#watched.size === 0) return;
    this.#delay = changed && retryAfter === void 0 ? this.#backoff.initialMs : nextDelay(this.#delay, this.#backoff, retryAfter);
    this.#reschedule(this.#delay);
  }
};
function defaultSchedule(run, ms) {
  const timer = setTimeout(run, ms);
  return () => clearTimeout(timer);
}

// web/app/mod.ts
var REPORT_ROUTE = /^#\/reports\/([^/]+)$/;
function start() {
  const view = new ReportView(byId("report", HTMLElement), {
    requestDelete: confirmDelete
  });
  const watcher = new ReportWatcher({
    fetchReport: (id, signal) => apiJson(reportPath(id), {
      signal
    }),
    onChange(report) {
      list.upsert(report);
      if (view.currentId === report.id) view.show(report);
      announce(`Report ${report.name} is ${report.status}`);
    },
    onGone(id) {
      list.remove(id);
      if (view.currentId === id) view.showMessage("Report not found", "It has been deleted.");
    }
  });
  const list = new ReportList({
    list: byId("report-list", HTMLOListElement),
    more: byId("load-more", HTMLButtonElement),
    message: byId("list-error", HTMLElement),
    empty: byId("list-empty", HTMLElement)
  }, {
    onReports: (reports) => reports.forEach((report) => watcher.watch(report))
  });
  function accepted(report) {
    list.upsert(report);
    watcher.watch(report);
    announce(`Report ${report.name} is ${report.status}`);
    location.hash = `#/reports/${encodeURIComponent(report.id)}`;
  }
  async function route() {
    const match = REPORT_ROUTE.exec(location.hash);
    if (match === null) {
      list.select(void 0);
      view.showMessage("No report open", "Choose a report from the list, or upload a file to make one.");
      return;
    }
    const id = decodeURIComponent(match[1]);
    list.select(id);
    const known = list.get(id);
    if (known !== void 0) {
      view.show(known, {
        focus: true
      });
      if (!isPending(known.status)) return;
    }
    try {
      const report = await apiJson(reportPath(id));
      view.show(report, {
        focus: known === void 0
      });
      if (known !== void 0) list.upsert(report);
      watcher.watch(report);
    } catch (error) {
      if (error instanceof ApiError && error.problem.status === 404) {
        view.showMessage("Report not found", "There is no report with this id; it may have been deleted.");
      } else {
        view.showMessage("Could not load the report", error.message);
      }
    }
  }
  function confirmDelete(report) {
    void deleteAfterConfirmation(report);
  }
  async function deleteAfterConfirmation(report) {
    const dialog = byId("confirm-delete", HTMLDialogElement);
    byId("confirm-text", HTMLElement).textContent = `"${report.name}" and its series will be deleted. This cannot be undone.`;
    dialog.returnValue = "";
    const closed = new Promise((resolve) => {
      dialog.addEventListener("close", () => resolve(dialog.returnValue), {
        once: true
      });
    });
    dialog.showModal();
    if (await closed !== "delete") {
      document.getElementById("delete-report")?.focus();
      return;
    }
    try {
      await apiFetch(reportPath(report.id), {
        method: "DELETE"
      });
    } catch (error) {
      if (!(error instanceof ApiError && error.problem.status === 404)) {
        const message = error instanceof ApiError ? describeProblem(error.problem) : String(error);
        document.getElementById("delete-report")?.after(h("p", {
          class: "error-box",
          role: "alert"
        }, message));
        return;
      }
    }
    watcher.unwatch(report.id);
    list.remove(report.id);
    announce(`Report ${report.name} deleted`);
    location.hash = "#/";
  }
  setUpUploadForm({
    onUploaded: accepted
  });
  void setUpImportForm({
    onImported: accepted
  });
  setUpSettings(() => void list.reload().then(route));
  globalThis.addEventListener(UNAUTHORIZED_EVENT, askForKey);
  globalThis.addEventListener("hashchange", () => void route());
  document.addEventListener("visibilitychange", () => {
    if (document.hidden) watcher.stop();
    else watcher.resume();
  });
  void list.reload().then(route);
}
function reportPath(id) {
  return `/v1/reports/${encodeURIComponent(id)}`;
}
start();
