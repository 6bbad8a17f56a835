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

// web/app/format.ts
var MISSING = "\u2014";
function formatNumber(value, locale) {
  if (value === null) return MISSING;
  if (Number.isInteger(value)) {
    return new Intl.NumberFormat(locale, {
      maximumFractionDigits: 0
    }).format(value);
  }
  const integerDigits = Math.abs(value) < 1 ? 0 : Math.floor(Math.log10(Math.abs(value))) + 1;
  return new Intl.NumberFormat(locale, {
    maximumSignificantDigits: Math.min(21, Math.max(6, integerDigits))
  }).format(value);
}
function formatPercent(fraction, locale) {
  if (fraction === null) return MISSING;
  const tiny = fraction !== 0 && Math.abs(fraction) < 1e-4;
  return new Intl.NumberFormat(locale, tiny ? {
    style: "percent",
    maximumSignificantDigits: 2
  } : {
    style: "percent",
    minimumFractionDigits: 2,
    maximumFractionDigits: 2
  }).format(fraction);
}
function formatRatio(value, options) {
  if (value === null) return MISSING;
  return new Intl.NumberFormat(options.locale, {
    minimumFractionDigits: options.decimals,
    maximumFractionDigits: options.decimals
  }).format(value);
}
function formatAxisValue(value, options) {
  if (Math.abs(value) >= 1e5) return formatCompact(value, options.locale);
  const decimals = decimalsOf(options.increment);
  return new Intl.NumberFormat(options.locale, {
    minimumFractionDigits: 0,
    maximumFractionDigits: Math.min(20, decimals)
  }).format(value);
}
function decimalsOf(value) {
  if (!Number.isFinite(value) || value === 0) return 0;
  const text = Math.abs(value).toFixed(12).replace(/0+$/, "");
  const point = text.indexOf(".");
  return point === -1 ? 0 : text.length - point - 1;
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
function logTickLabel(value, options = {}) {
  if (!(value > 0)) return "";
  const magnitude = 10 ** Math.floor(Math.log10(value) + 1e-9);
  const leading = Math.round(value / magnitude);
  if (leading !== 1 && leading !== 2 && leading !== 5) return "";
  return formatAxisValue(value, {
    increment: magnitude,
    locale: options.locale
  });
}

// web/app/plot.ts
var PALETTE = [
  "#0072b2",
  "#d55e00",
  "#009e73",
  "#cc79a7",
  "#e69f00",
  "#56b4e9",
  "#000000"
];
function timeAxis() {
  return {
    space: 64,
    values: (_plot, splits, _axis, _space, increment) => splits.map((split, index) => formatTick(split, {
      increment,
      first: index === 0
    }))
  };
}
function timeSeries() {
  return {
    label: "Time (UTC)",
    value: (_plot, seconds) => seconds === null ? "--" : formatInstant(new Date(seconds * 1e3).toISOString())
  };
}
function utcDates(UPlot) {
  return (seconds) => UPlot.tzDate(new Date(seconds * 1e3), "Etc/UTC");
}
function valueAxis(options = {}) {
  return {
    ...options.axis,
    values: (_plot, splits, _axis, _space, increment) => splits.map((value) => {
      if (options.percent) return formatPercent(value);
      if (!options.log) return formatAxisValue(value, {
        increment
      });
      return logTickLabel(value);
    })
  };
}
function legendValue(percent = false) {
  return (_plot, value) => value === null ? "--" : percent ? formatPercent(value) : formatNumber(value);
}
function uPlotClass() {
  const constructor = globalThis.uPlot;
  if (constructor === void 0) throw new Error("uPlot did not load");
  return constructor;
}

// web/app/view_state.ts
var EVERY = [
  "1m",
  "5m",
  "15m",
  "30m",
  "1h",
  "4h",
  "1d",
  "1w",
  "1mo"
];
var AGG = [
  "last",
  "first",
  "mean",
  "sum",
  "min",
  "max",
  "count",
  "ohlc"
];
var PLAIN_TRANSFORMS = [
  "diff",
  "pct_change",
  "log_return",
  "cumsum",
  "drawdown",
  "zscore"
];
var ROLLING_TRANSFORMS = [
  "rolling_mean",
  "rolling_std",
  "rolling_min",
  "rolling_max"
];
var ROLLING_WINDOW = {
  min: 2,
  max: 1e4
};
var EVERY_SECONDS = {
  "1m": 60,
  "5m": 300,
  "15m": 900,
  "30m": 1800,
  "1h": 3600,
  "4h": 14400,
  "1d": 86400,
  "1w": 604800,
  "1mo": 2592e3
};
var COMPARE_MAX = 10;
function isTransform(text) {
  if (PLAIN_TRANSFORMS.includes(text)) return true;
  const [name, argument, ...rest] = text.split(":");
  if (argument === void 0 || rest.length > 0) return false;
  if (ROLLING_TRANSFORMS.includes(name)) {
    if (!/^\d{1,5}$/.test(argument)) return false;
    const points = Number(argument);
    return points >= ROLLING_WINDOW.min && points <= ROLLING_WINDOW.max;
  }
  if (name === "ewm_mean") {
    if (!/^(0(\.\d+)?|1(\.0+)?|\.\d+)$/.test(argument)) return false;
    const alpha = Number(argument);
    return alpha > 0 && alpha <= 1;
  }
  return false;
}
function parseRoute(hash) {
  const [path, search = ""] = hash.replace(/^#/, "").split("?", 2);
  const query = new URLSearchParams(search);
  const every = oneOf(EVERY, query.get("every"));
  if (path === "/compare") {
    const ids = (query.get("ids") ?? "").split(",").map((id2) => id2.trim()).filter((id2) => id2 !== "");
    const unique = [
      ...new Set(ids)
    ].slice(0, COMPARE_MAX);
    return every === void 0 ? {
      kind: "compare",
      ids: unique
    } : {
      kind: "compare",
      ids: unique,
      every
    };
  }
  const match = /^\/reports\/([^/]+)$/.exec(path);
  if (match === null) return {
    kind: "none"
  };
  let id;
  try {
    id = decodeURIComponent(match[1]);
  } catch {
    return {
      kind: "none"
    };
  }
  const view = {};
  if (every !== void 0) {
    view.every = every;
    const agg = oneOf(AGG, query.get("agg"));
    if (agg !== void 0 && agg !== "last") view.agg = agg;
  }
  const transform = query.get("transform");
  if (transform !== null && isTransform(transform)) view.transform = transform;
  if (query.get("scale") === "log") view.log = true;
  return {
    kind: "report",
    id,
    view
  };
}
function reportHash(id, view) {
  const query = viewQuery(view);
  if (view.log) query.set("scale", "log");
  return `#/reports/${encodeURIComponent(id)}${queryString(query)}`;
}
function compareHash(ids, every) {
  const query = new URLSearchParams();
  if (ids.length > 0) query.set("ids", ids.join(","));
  if (every !== void 0) query.set("every", every);
  return `#/compare${queryString(query)}`;
}
function viewQuery(view) {
  const query = new URLSearchParams();
  if (view.every !== void 0) {
    query.set("every", view.every);
    if (view.agg !== void 0 && view.agg !== "last") query.set("agg", view.agg);
  }
  if (view.transform !== void 0) query.set("transform", view.transform);
  return query;
}
function viewColumns(columns, view) {
  if (view.every === void 0 || view.agg !== "ohlc") return columns;
  return columns.flatMap((column) => [
    "open",
    "high",
    "low",
    "close"
  ].map((part) => `${column}_${part}`));
}
function queryString(query) {
  const text = query.toString();
  return text === "" ? "" : `?${text}`;
}
function oneOf(values, value) {
  return values.find((candidate) => candidate === value);
}

// web/app/compare_view.ts
var COMPARE_DEFAULT_EVERY = "1d";
var CHOICES = 100;
var CompareView = class {
  #panel;
  #plot;
  #aborter;
  #elements;
  /** A view that renders into `panel` (the report panel). */
  constructor(panel) {
    this.#panel = panel;
  }
  /**
   * Shows the comparison of `ids` resampled to `every`, with the newest
   * ready reports to choose from (asked for here, not taken from the list,
   * which may hold only its first page, or a filtered one).
   */
  async show(ids, every = COMPARE_DEFAULT_EVERY) {
    this.destroy();
    const aborter = new AbortController();
    this.#aborter = aborter;
    let reports = [];
    let listError;
    try {
      const query = new URLSearchParams({
        status: "ready",
        limit: String(CHOICES)
      });
      reports = (await apiJson(`/v1/reports?${query}`, {
        signal: aborter.signal
      })).items;
    } catch (failure2) {
      if (aborter.signal.aborted) return;
      listError = failure2.message;
    }
    if (aborter.signal.aborted) return;
    this.#panel.dataset.open = "true";
    this.#panel.dataset.view = "compare";
    document.title = "Compare reports - reportd";
    delete this.#panel.dataset.reportId;
    delete this.#panel.dataset.status;
    const canvas = h("div", {
      class: "chart-canvas",
      id: "compare-canvas"
    });
    const results = h("div", {
      id: "compare-results"
    });
    const status = h("p", {
      class: "chart-status",
      id: "compare-status",
      role: "status"
    });
    const error = h("div", {
      class: "error-box",
      id: "compare-error",
      role: "alert",
      hidden: true
    });
    replaceChildren(this.#panel, h("p", {
      class: "back"
    }, h("a", {
      href: "#/"
    }, "Back to the reports")), h("h2", {
      id: "report-title",
      tabindex: "-1"
    }, "Compare reports"), h("p", {
      class: "report-source"
    }, "Each line is rebased to 100 at the first time every chosen report has a value: 120 means 20% above that start."), this.#picker(ids, every, reports), error, h("figure", {
      class: "chart",
      "aria-labelledby": "compare-caption"
    }, canvas, h("figcaption", {
      id: "compare-caption"
    }, "Rebased to 100, UTC. Select a legend entry to hide or show its line."), status), results);
    this.#elements = {
      canvas,
      status,
      error,
      results
    };
    this.#draw(ids, every);
    if (listError !== void 0) {
      error.textContent = `Could not list the reports: ${listError}`;
      error.hidden = false;
    }
  }
  /** Stops the request and removes the plot. */
  destroy() {
    this.#clear();
    this.#elements = void 0;
    delete this.#panel.dataset.view;
  }
  #clear() {
    this.#aborter?.abort();
    this.#plot?.destroy();
    this.#plot = void 0;
  }
  #draw(ids, every) {
    const elements = this.#elements;
    if (elements === void 0) return;
    this.#clear();
    elements.error.hidden = true;
    elements.results.replaceChildren();
    delete elements.canvas.dataset.columns;
    delete elements.canvas.dataset.shown;
    if (ids.length < 2) {
      elements.status.textContent = "Choose at least two reports to compare.";
      return;
    }
    elements.status.textContent = "Loading.";
    void this.#load(ids, every, elements);
  }
  #picker(ids, every, reports) {
    const known = new Set(reports.map((report) => report.id));
    const boxes = [
      ...ids.filter((id) => !known.has(id)).map((id) => ({
        id,
        name: id
      })),
      ...reports.map((report) => ({
        id: report.id,
        name: report.name
      }))
    ].map(({ id, name }) => h("li", {}, h("input", {
      type: "checkbox",
      id: `compare-${id}`,
      name: "ids",
      value: id,
      checked: ids.includes(id)
    }), h("label", {
      for: `compare-${id}`
    }, name)));
    const interval = h("select", {
      id: "compare-every",
      name: "every"
    }, ...EVERY.map((value) => h("option", {
      value,
      selected: value === every
    }, value)));
    const hint = h("p", {
      class: "hint",
      id: "compare-hint"
    }, `Choose 2 to ${COMPARE_MAX} ready reports.`);
    const find = h("input", {
      id: "compare-find",
      type: "search",
      autocomplete: "off",
      spellcheck: "false"
    });
    find.addEventListener("input", () => {
      const text = find.value.trim().toLocaleLowerCase();
      for (const item of boxes) {
        const name = item.querySelector("label")?.textContent ?? "";
        const chosen = item.querySelector("input")?.checked ?? false;
        item.hidden = !chosen && !name.toLocaleLowerCase().includes(text);
      }
    });
    const form = h("form", {
      id: "compare-form",
      class: "compare-form",
      "aria-describedby": "compare-hint"
    }, h("fieldset", {}, h("legend", {}, "Reports"), boxes.length === 0 ? null : h("div", {
      class: "compare-find"
    }, h("label", {
      for: "compare-find"
    }, "Name contains"), find), boxes.length === 0 ? h("p", {
      class: "placeholder"
    }, "No ready reports yet.") : h("ul", {
      class: "compare-choices"
    }, ...boxes)), hint, h("label", {
      for: "compare-every"
    }, "Align on"), interval);
    form.addEventListener("submit", (event) => event.preventDefault());
    form.addEventListener("change", (event) => {
      if (event.target === find) return;
      const chosen = [
        ...form.querySelectorAll("input[name=ids]:checked")
      ].map((box) => box.value);
      if (chosen.length > COMPARE_MAX) {
        hint.textContent = `At most ${COMPARE_MAX} reports: uncheck one to add another.`;
        hint.classList.add("field-error");
        return;
      }
      hint.classList.remove("field-error");
      const chosenEvery = interval.value;
      history.replaceState(null, "", compareHash(chosen, chosenEvery));
      this.#draw(chosen, chosenEvery);
    });
    return form;
  }
  async #load(ids, every, elements) {
    const { canvas, status, error, results } = elements;
    const aborter = new AbortController();
    this.#aborter = aborter;
    const width = Math.max(200, Math.floor(canvas.clientWidth));
    const query = new URLSearchParams({
      ids: ids.join(","),
      every,
      normalize: "first",
      format: "json",
      points: String(width)
    });
    canvas.setAttribute("aria-busy", "true");
    let body2;
    try {
      body2 = await apiJson(`/v1/compare?${query}`, {
        signal: aborter.signal
      });
    } catch (failure2) {
      if (aborter.signal.aborted) return;
      error.textContent = failure2.message;
      error.hidden = false;
      status.textContent = "";
      return;
    } finally {
      canvas.removeAttribute("aria-busy");
    }
    if (aborter.signal.aborted) return;
    const names = Object.keys(body2.columns);
    const shown = initiallyShown(names);
    const order = [
      ...names.filter((name) => shown.has(name)),
      ...names.filter((name) => !shown.has(name))
    ];
    const UPlot = uPlotClass();
    this.#plot = new UPlot({
      width,
      height: Math.round(Math.min(420, Math.max(220, width * 0.45))),
      series: [
        timeSeries(),
        ...names.map((name) => ({
          label: name,
          stroke: PALETTE[order.indexOf(name) % PALETTE.length],
          width: 1.5,
          show: shown.has(name),
          points: {
            show: false
          },
          value: legendValue()
        }))
      ],
      axes: [
        timeAxis(),
        valueAxis()
      ],
      scales: {
        x: {
          time: true
        }
      },
      tzDate: utcDates(UPlot),
      legend: {
        live: true
      }
    }, [
      body2.timestamps,
      ...names.map((name) => body2.columns[name])
    ], canvas);
    canvas.dataset.columns = names.join("|");
    canvas.dataset.shown = names.filter((name) => shown.has(name)).join("|");
    canvas.dataset.points = String(body2.timestamps.length);
    status.textContent = `${plural(ids.length, "report")} on ${plural(body2.timestamps.length, "common time")} (${every}).`;
    results.replaceChildren(resultsTable(body2, names));
  }
};
function resultsTable(body2, names) {
  const last = (values) => {
    for (let i = values.length - 1; i >= 0; i--) if (values[i] !== null) return values[i];
    return null;
  };
  return h("div", {
    class: "table-scroll",
    tabindex: "0",
    role: "region",
    "aria-labelledby": "compare-results-caption"
  }, h("table", {
    class: "statistics",
    id: "compare-table"
  }, h("caption", {
    id: "compare-results-caption"
  }, "At the last common time"), h("thead", {}, h("tr", {}, h("th", {
    scope: "col"
  }, "Line"), h("th", {
    scope: "col"
  }, "Rebased value"), h("th", {
    scope: "col"
  }, "Change since the start"))), h("tbody", {}, ...names.map((name) => {
    const value = last(body2.columns[name]);
    return h("tr", {
      "data-column": name
    }, h("th", {
      scope: "row"
    }, name), h("td", {}, value === null ? MISSING : h("data", {
      value
    }, formatNumber(value))), h("td", {}, formatPercent(value === null ? null : value / 100 - 1)));
  }))));
}
function initiallyShown(names) {
  const byReport = /* @__PURE__ */ new Map();
  for (const name of names) {
    const report = name.slice(0, name.lastIndexOf("."));
    byReport.set(report, [
      ...byReport.get(report) ?? [],
      name
    ]);
  }
  const shown = /* @__PURE__ */ new Set();
  for (const columns of byReport.values()) {
    const close = columns.find((name) => /\.(adj[ _]?)?close$/i.test(name));
    for (const name of close === void 0 ? columns : [
      close
    ]) shown.add(name);
  }
  return shown;
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
  const select2 = byId("import-provider", HTMLSelectElement);
  const note = byId("import-provider-note", HTMLElement);
  const alertBox = byId("import-error", HTMLElement);
  const submit = byId("import-submit", HTMLButtonElement);
  const end = byId("import-end", HTMLInputElement);
  const start2 = byId("import-start", HTMLInputElement);
  replaceChildren(select2, ...providers.map((provider) => h("option", {
    value: provider.name
  }, provider.name)));
  const now = /* @__PURE__ */ new Date();
  const yearAgo = Date.UTC(now.getUTCFullYear() - 1, now.getUTCMonth(), now.getUTCDate());
  end.max = now.toISOString().slice(0, 10);
  end.value = end.max;
  start2.value = new Date(yearAgo).toISOString().slice(0, 10);
  function describeProvider() {
    const provider = providers.find((candidate) => candidate.name === select2.value);
    if (provider === void 0) return;
    note.textContent = provider.reachable ? provider.description : `${provider.description}. Not answering at the moment; tried again in ${provider.retryAfterSeconds} s.`;
  }
  select2.addEventListener("change", describeProvider);
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

// web/app/chart_plan.ts
var FULL_RESOLUTION_MAX = 1e4;
function planSeries(visible, context) {
  const points = Math.max(3, Math.round(context.width));
  const { full } = context;
  if (visible.min <= full.min && visible.max >= full.max) return {
    points
  };
  const span2 = Math.max(visible.max - visible.min, 1e-3);
  const pad = Math.max(span2 * 0.02, 2 * (context.intervalSeconds ?? 0));
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
function seriesUrl(reportId, plan, view = {}) {
  const query = new URLSearchParams({
    format: "uplot"
  });
  for (const [name, value] of viewQuery(view)) query.set(name, value);
  if (plan.from !== void 0) query.set("from", plan.from);
  if (plan.to !== void 0) query.set("to", plan.to);
  if (plan.points !== void 0) query.set("points", String(plan.points));
  return `/v1/reports/${encodeURIComponent(reportId)}/series?${query}`;
}
function secondAxisColumn(columns) {
  if (columns.length < 2) return void 0;
  return columns.find(isVolume);
}
var SCALE_FACTOR = 10;
function scaleGroups(columns, ranges) {
  const groups = [];
  columns.forEach((column, index) => {
    const range = ranges[index] ?? null;
    const bars = columns.length > 1 && isVolume(column);
    const home = bars ? void 0 : groups.find((group) => !group.bars && fits(group, range));
    if (home === void 0) {
      groups.push({
        members: [
          index
        ],
        range,
        narrowest: range === null ? Infinity : span(range),
        bars
      });
    } else {
      home.members.push(index);
      home.range = union(home.range, range);
      if (range !== null) home.narrowest = Math.min(home.narrowest, span(range));
    }
  });
  return groups.map((group) => group.members);
}
function fits(group, column) {
  if (group.range === null || column === null) return true;
  const widened = union(group.range, column);
  return span(widened) <= SCALE_FACTOR * Math.min(group.narrowest, span(column));
}
function union(a, b) {
  if (a === null) return b;
  if (b === null) return a;
  return {
    min: Math.min(a.min, b.min),
    max: Math.max(a.max, b.max)
  };
}
function span(range) {
  const height = range.max - range.min;
  return height > 0 ? height : Math.max(Math.abs(range.max) * 0.01, Number.MIN_VALUE);
}
function columnRanges(data) {
  return data.slice(1).map((values) => {
    let min = Infinity;
    let max = -Infinity;
    for (const value of values) {
      if (value === null || !Number.isFinite(value)) continue;
      if (value < min) min = value;
      if (value > max) max = value;
    }
    return min <= max ? {
      min,
      max
    } : null;
  });
}
function breakAtGaps(data, options) {
  const times = data[0];
  const threshold = options.thresholdSeconds ?? Infinity;
  const gaps = [
    ...options.gaps
  ].sort((a, b) => a.from - b.from);
  const breaks = [];
  let next = 0;
  for (let i = 0; i + 1 < times.length; i++) {
    const left = times[i];
    const right = times[i + 1];
    while (next < gaps.length && gaps[next].to <= left) next++;
    const enclosed = next < gaps.length && gaps[next].from >= left && gaps[next].to <= right;
    if (enclosed || right - left > threshold) breaks.push(i);
  }
  if (breaks.length === 0) return data;
  return data.map((values, column) => {
    const out = [];
    let at = 0;
    for (const index of breaks) {
      for (; at <= index; at++) out.push(values[at]);
      out.push(column === 0 ? (times[index] + times[index + 1]) / 2 : null);
    }
    for (; at < values.length; at++) out.push(values[at]);
    return out;
  });
}
function priceLikeColumns(columns) {
  const positive = Object.keys(columns).filter((column) => {
    const min = columns[column].min;
    return min !== null && min > 0 && !isVolume(column);
  });
  const close = positive.find((column) => /^(adj[ _]?)?close$/i.test(column));
  return close === void 0 ? positive : [
    close
  ];
}
function isVolume(column) {
  return column.toLowerCase() === "volume";
}
function isoSeconds(seconds) {
  return new Date(seconds * 1e3).toISOString();
}

// web/app/chart.ts
var LOG_DISTRIBUTION = 3;
var ReportChart = class {
  #report;
  #columns;
  #canvas;
  #status;
  #full;
  #view;
  #gaps;
  #onRange;
  #plot;
  #linearOnly = [];
  /** Rows of nulls each drawn dataset got at gaps (not points of the series). */
  #breaks = /* @__PURE__ */ new WeakMap();
  #overview;
  #loadedKey = "";
  #aborter;
  #debounce;
  #resize;
  #destroyed = false;
  /** Builds the figure inside `container`; call {@linkcode ReportChart.load} to draw. */
  constructor(container, report, options = {}) {
    this.#report = report;
    this.#view = options.view ?? {};
    this.#onRange = options.onRange;
    this.#columns = viewColumns(Object.keys(report.summary.columns), this.#view);
    this.#gaps = report.summary.gaps.largest.map((gap) => ({
      from: Date.parse(gap.from) / 1e3,
      to: Date.parse(gap.to) / 1e3
    }));
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
    const times = data[0];
    if (times.length > 0) this.#full = {
      min: times[0],
      max: times[times.length - 1]
    };
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
    this.#loadedKey = this.#url(planSeries(this.#full, this.#context()));
    plot.setData(this.#overview, false);
    plot.setScale("x", {
      ...this.#full
    });
    this.#show(this.#overview, {
      points: this.#width()
    });
    this.#onRange?.(void 0);
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
    const { summary } = this.#report;
    const every = this.#view.every;
    if (every === void 0) {
      return {
        full: this.#full,
        totalPoints: summary.points,
        intervalSeconds: summary.interval_median_s,
        width: this.#width()
      };
    }
    const seconds = EVERY_SECONDS[every];
    const buckets = Math.floor((this.#full.max - this.#full.min) / seconds) + 1;
    return {
      full: this.#full,
      totalPoints: Math.min(summary.points, buckets),
      intervalSeconds: Math.max(seconds, summary.interval_median_s ?? 0),
      width: this.#width()
    };
  }
  #url(plan) {
    return seriesUrl(this.#report.id, plan, this.#view);
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
    const url = this.#url(plan);
    this.#loadedKey = url;
    this.#canvas.setAttribute("aria-busy", "true");
    try {
      const data = await apiJson(url, {
        signal: aborter.signal
      });
      const stored = plan.points === void 0 && this.#view.every === void 0;
      const broken = breakAtGaps(data, {
        gaps: this.#gaps,
        thresholdSeconds: stored ? this.#report.summary.gaps.threshold_s : null
      });
      this.#breaks.set(broken, broken[0].length - data[0].length);
      return broken;
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
    const bars = this.#view.transform === void 0 ? secondAxisColumn(this.#columns) : void 0;
    const ranges = columnRanges(data);
    const groups = scaleGroups(this.#columns, ranges);
    const scaleOf = /* @__PURE__ */ new Map();
    groups.forEach((members, group) => members.forEach((index) => scaleOf.set(index, `y${group}`)));
    const percent = this.#view.transform === "pct_change" || this.#view.transform === "drawdown";
    const series = [
      timeSeries(),
      ...this.#columns.map((column, index) => {
        const colour = PALETTE[index % PALETTE.length];
        const onBars = column === bars;
        return {
          label: column,
          stroke: colour,
          width: onBars ? 0 : 1.5,
          scale: scaleOf.get(index),
          fill: onBars ? `${colour}55` : void 0,
          paths: onBars ? UPlot.paths.bars?.({
            size: [
              0.6,
              24
            ]
          }) : void 0,
          points: {
            show: false
          },
          value: legendValue(percent)
        };
      })
    ];
    const { axes, scales, logScales, linearOnly } = yAxes(this.#columns, {
      groups,
      ranges,
      bars,
      log: this.#view.log === true,
      percent
    });
    this.#canvas.dataset.scales = groups.map((members) => members.map((index) => this.#columns[index]).join(",")).join("|");
    this.#canvas.dataset.logScales = logScales.join(",");
    this.#linearOnly = linearOnly;
    const options = {
      width: this.#width(),
      height: this.#height(),
      series,
      axes,
      scales,
      // Times are UTC throughout the page, as the API returns them.
      tzDate: utcDates(UPlot),
      cursor: {
        drag: {
          x: true,
          y: false
        },
        // The drawdown chart below shows the cursor at the same time.
        sync: {
          key: `report-${this.#report.id}`
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
    this.#onRange?.(plan.from === void 0 ? void 0 : visible);
    if (this.#url(plan) === this.#loadedKey) return;
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
    const breaks = this.#breaks.get(data) ?? 0;
    const shown = data[0].length - breaks;
    this.#canvas.dataset.breaks = String(breaks);
    const total = this.#report.summary.points;
    const full = plan.points === void 0 || shown >= total;
    const how = full ? "full resolution" : "downsampled to the chart width";
    this.#canvas.dataset.points = String(shown);
    this.#canvas.dataset.resolution = full ? "full" : "downsampled";
    this.#canvas.dataset.range = plan.from === void 0 ? "all" : `${plan.from}/${plan.to}`;
    const resampled = this.#view.every === void 0 ? "" : ` Resampled to ${this.#view.every} (${this.#view.agg ?? "last"}).`;
    const transformed = this.#view.transform === void 0 ? "" : ` Transform: ${this.#view.transform}.`;
    const linear = this.#linearOnly.length === 0 ? "" : ` Linear scale for ${this.#linearOnly.join(", ")}: a log scale needs values above zero.`;
    this.#status.textContent = `Showing ${formatNumber(shown)} of ${plural(total, "point")} (${how}).${resampled}${transformed}${linear}`;
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
function yAxes(columns, options) {
  const { groups, ranges, bars, log, percent } = options;
  const axes = [
    timeAxis()
  ];
  const scales = {
    x: {
      time: true
    }
  };
  const logScales = [];
  const linearOnly = [];
  groups.forEach((members, group) => {
    const key = `y${group}`;
    const names = members.map((index) => columns[index]);
    const isBars = members.length === 1 && columns[members[0]] === bars;
    const positive = members.every((index) => (ranges[index]?.min ?? 0) > 0);
    if (isBars) {
      scales[key] = {
        range: (_plot, _min, max) => [
          0,
          max * 1.05
        ]
      };
    } else if (log && positive) {
      scales[key] = {
        distr: LOG_DISTRIBUTION,
        log: 10
      };
      logScales.push(key);
    } else {
      scales[key] = {};
      if (log) linearOnly.push(...names);
    }
    axes.push(valueAxis({
      percent,
      log: logScales.includes(key),
      axis: {
        scale: key,
        // The first axis on the left, the second on the right, and so on.
        side: group % 2 === 0 ? 3 : 1,
        grid: {
          show: group === 0
        },
        label: groups.length > 1 ? names.join(", ") : void 0,
        labelSize: 18,
        stroke: groups.length > 1 ? PALETTE[members[0] % PALETTE.length] : void 0
      }
    }));
  });
  return {
    axes,
    scales,
    logScales,
    linearOnly
  };
}
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

// web/app/chart_controls.ts
var AGG_LABELS = {
  last: "Last value",
  first: "First value",
  mean: "Mean",
  sum: "Sum",
  min: "Minimum",
  max: "Maximum",
  count: "Count",
  ohlc: "Open, high, low, close"
};
var TRANSFORM_LABELS = {
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
  ewm_mean: "Exponential moving average"
};
var DEFAULT_WINDOW = 20;
var DEFAULT_ALPHA = "0.1";
function chartControls(view, onChange) {
  const every = select("chart-every", [
    [
      "",
      "As stored"
    ],
    ...EVERY.map((value) => [
      value,
      value
    ])
  ], view.every ?? "");
  const agg = select("chart-agg", AGG.map((value) => [
    value,
    AGG_LABELS[value]
  ]), view.agg ?? "last");
  const [transformName, argument] = (view.transform ?? "").split(":");
  const transform = select("chart-transform", [
    [
      "",
      "None"
    ],
    ...[
      ...PLAIN_TRANSFORMS,
      ...ROLLING_TRANSFORMS,
      "ewm_mean"
    ].map((value) => [
      value,
      TRANSFORM_LABELS[value]
    ])
  ], transformName);
  const windowInput = h("input", {
    id: "chart-window",
    type: "number",
    min: ROLLING_WINDOW.min,
    max: ROLLING_WINDOW.max,
    step: 1,
    inputmode: "numeric",
    value: transformName.startsWith("rolling_") ? argument : String(DEFAULT_WINDOW),
    "aria-describedby": "chart-argument-error"
  });
  const alphaInput = h("input", {
    id: "chart-alpha",
    type: "number",
    min: 1e-3,
    max: 1,
    step: 0.01,
    inputmode: "decimal",
    value: transformName === "ewm_mean" ? argument : DEFAULT_ALPHA,
    "aria-describedby": "chart-argument-error"
  });
  const log = h("input", {
    id: "chart-log",
    type: "checkbox",
    checked: view.log === true
  });
  const error = h("p", {
    id: "chart-argument-error",
    class: "field-error",
    hidden: true
  });
  const windowField = field("chart-window", "Window (points)", windowInput);
  const alphaField = field("chart-alpha", "Smoothing (0 to 1)", alphaInput);
  function current() {
    const next = {};
    if (every.value !== "") {
      next.every = every.value;
      if (agg.value !== "last") next.agg = agg.value;
    }
    const name = transform.value;
    windowInput.removeAttribute("aria-invalid");
    alphaInput.removeAttribute("aria-invalid");
    error.hidden = true;
    if (name !== "") {
      const input = name === "ewm_mean" ? alphaInput : windowInput;
      const written = name.startsWith("rolling_") || name === "ewm_mean" ? `${name}:${input.value.trim()}` : name;
      if (!isTransform(written)) {
        input.setAttribute("aria-invalid", "true");
        error.textContent = name === "ewm_mean" ? "The smoothing factor must be above 0 and at most 1" : `The window must be a whole number from ${ROLLING_WINDOW.min} to ${ROLLING_WINDOW.max}`;
        error.hidden = false;
        return void 0;
      }
      next.transform = written;
    }
    if (log.checked) next.log = true;
    return next;
  }
  function sync() {
    agg.disabled = every.value === "";
    windowField.hidden = !transform.value.startsWith("rolling_");
    alphaField.hidden = transform.value !== "ewm_mean";
  }
  const form = h("form", {
    class: "chart-controls",
    id: "chart-controls",
    "aria-label": "Chart view"
  }, field("chart-every", "Resample to", every), field("chart-agg", "Per interval", agg), field("chart-transform", "Transform", transform), windowField, alphaField, h("div", {
    class: "control control-check"
  }, log, h("label", {
    for: "chart-log"
  }, "Log scale")), error);
  form.addEventListener("submit", (event) => event.preventDefault());
  form.addEventListener("change", () => {
    sync();
    const next = current();
    if (next !== void 0) onChange(next);
  });
  sync();
  return form;
}
function select(id, options, chosen) {
  return h("select", {
    id,
    name: id
  }, ...options.map(([value, label]) => h("option", {
    value,
    selected: value === chosen
  }, label)));
}
function field(id, label, control) {
  return h("div", {
    class: "control"
  }, h("label", {
    for: id
  }, label), control);
}

// web/app/drawdown_chart.ts
var COLOUR = "#d55e00";
var DrawdownChart = class {
  #report;
  #columns;
  #view;
  #canvas;
  #status;
  #plot;
  #aborter;
  #resize;
  #destroyed = false;
  /** Builds the figure in `container` for `columns` (price-like ones). */
  constructor(container, report, options) {
    this.#report = report;
    this.#columns = options.columns;
    const every = options.view?.every;
    this.#view = every === void 0 ? {
      transform: "drawdown"
    } : {
      every,
      transform: "drawdown"
    };
    this.#canvas = h("div", {
      class: "chart-canvas drawdown-canvas",
      id: "drawdown-canvas"
    });
    this.#status = h("p", {
      class: "chart-status",
      id: "drawdown-status"
    });
    container.replaceChildren(h("figure", {
      class: "chart drawdown",
      "aria-labelledby": "drawdown-caption"
    }, h("h3", {
      id: "drawdown-title"
    }, "Drawdown"), this.#canvas, h("figcaption", {
      id: "drawdown-caption"
    }, `How far ${this.#columns.join(", ")} stood below ${this.#columns.length === 1 ? "its" : "their"} highest value so far (0% at a new high). Shown because every value is above zero, as prices are.`), this.#status));
  }
  /** Fetches the drawdown series and draws it. */
  async load() {
    this.#aborter = new AbortController();
    const width = this.#width();
    const url = seriesUrl(this.#report.id, {
      points: width
    }, this.#view);
    let data;
    try {
      data = await apiJson(url, {
        signal: this.#aborter.signal
      });
    } catch (error) {
      if (!this.#aborter.signal.aborted) this.#status.textContent = error.message;
      return;
    }
    if (this.#destroyed) return;
    const all = Object.keys(this.#report.summary.columns);
    const picked = [
      data[0],
      ...this.#columns.map((column) => data[all.indexOf(column) + 1] ?? [])
    ];
    const gaps = this.#report.summary.gaps.largest.map((gap) => ({
      from: Date.parse(gap.from) / 1e3,
      to: Date.parse(gap.to) / 1e3
    }));
    const drawn = breakAtGaps(picked, {
      gaps
    });
    this.#plot = this.#create(drawn);
    this.#canvas.dataset.points = String(data[0].length);
    this.#canvas.dataset.columns = this.#columns.join(",");
    this.#canvas.dataset.range = "all";
    this.#canvas.dataset.min = String(Math.min(0, ...picked.slice(1).flatMap((values) => values.filter((value) => value !== null))));
    this.#resize = new ResizeObserver(() => {
      const plot = this.#plot;
      if (plot !== void 0 && Math.abs(this.#width() - plot.width) >= 2) {
        plot.setSize({
          width: this.#width(),
          height: this.#height()
        });
      }
    });
    this.#resize.observe(this.#canvas);
  }
  /** Shows `range` (the price chart's zoom), or everything when undefined. */
  showRange(range) {
    const plot = this.#plot;
    if (plot === void 0) return;
    const times = plot.data[0];
    plot.setScale("x", range ?? {
      min: times[0],
      max: times[times.length - 1]
    });
    this.#canvas.dataset.range = range === void 0 ? "all" : `${range.min}/${range.max}`;
  }
  /** Stops the request and removes the plot. */
  destroy() {
    this.#destroyed = true;
    this.#aborter?.abort();
    this.#resize?.disconnect();
    this.#plot?.destroy();
  }
  #width() {
    return Math.max(200, Math.floor(this.#canvas.clientWidth));
  }
  #height() {
    return Math.round(Math.min(200, Math.max(120, this.#width() * 0.2)));
  }
  #create(data) {
    const UPlot = uPlotClass();
    return new UPlot({
      width: this.#width(),
      height: this.#height(),
      series: [
        timeSeries(),
        ...this.#columns.map((column) => ({
          label: `${column} drawdown`,
          stroke: COLOUR,
          fill: `${COLOUR}33`,
          width: 1,
          points: {
            show: false
          },
          value: legendValue(true)
        }))
      ],
      axes: [
        timeAxis(),
        valueAxis({
          percent: true,
          axis: {
            size: 64
          }
        })
      ],
      scales: {
        x: {
          time: true
        },
        // From the deepest fall (at least -1%) up to zero: a new high is the top edge.
        y: {
          range: (_plot, min) => [
            Math.min(min * 1.05, -0.01),
            0
          ]
        }
      },
      tzDate: utcDates(UPlot),
      cursor: {
        sync: {
          key: `report-${this.#report.id}`
        },
        drag: {
          x: false,
          y: false
        }
      },
      legend: {
        live: true
      }
    }, data, this.#canvas);
  }
};

// web/app/statistics.ts
var STATISTIC_ROWS = [
  {
    path: "count",
    heading: "Count",
    kind: "count"
  },
  {
    path: "missing",
    heading: "Missing",
    kind: "count"
  },
  {
    path: "min",
    heading: "Minimum",
    kind: "value"
  },
  {
    path: "max",
    heading: "Maximum",
    kind: "value"
  },
  {
    path: "mean",
    heading: "Mean",
    kind: "value"
  },
  {
    path: "stddev",
    heading: "Standard deviation",
    kind: "value"
  },
  {
    path: "p50",
    heading: "Median (p50)",
    kind: "value"
  },
  {
    path: "p90",
    heading: "90th percentile",
    kind: "value"
  },
  {
    path: "p99",
    heading: "99th percentile",
    kind: "value"
  },
  {
    path: "first",
    heading: "First",
    kind: "value"
  },
  {
    path: "last",
    heading: "Last",
    kind: "value"
  },
  {
    path: "change",
    heading: "Change",
    kind: "value"
  },
  {
    path: "change_pct",
    heading: "Change (%)",
    kind: "percent"
  },
  {
    path: "return_total",
    heading: "Total return",
    kind: "fraction",
    tip: "How much the last value is above or below the first, as a share of the first."
  },
  {
    path: "cagr",
    heading: "Yearly growth (CAGR)",
    kind: "fraction",
    tip: "The steady yearly growth rate that turns the first value into the last one. Only for spans of at least 30 days."
  },
  {
    path: "volatility_annualized",
    heading: "Volatility (yearly)",
    kind: "fraction",
    tip: "How much the value typically moves, scaled to a year: the spread of its log returns between points."
  },
  {
    path: "max_drawdown.value",
    heading: "Worst fall",
    kind: "fraction",
    tip: "The deepest fall from a previous high to a later low (the maximum drawdown)."
  },
  {
    path: "max_drawdown.peak",
    heading: "Worst fall: from",
    kind: "instant",
    tip: "When the high before the worst fall was reached."
  },
  {
    path: "max_drawdown.trough",
    heading: "Worst fall: to",
    kind: "instant",
    tip: "When the worst fall reached its low."
  },
  {
    path: "max_drawdown.recovery",
    heading: "Worst fall: recovered",
    kind: "instant",
    tip: "When the value first got back to the earlier high; a dash if it has not yet."
  },
  {
    path: "sharpe_like",
    heading: "Return per risk",
    kind: "ratio",
    tip: "The average return divided by how much returns vary, per year, with no risk-free rate: like a Sharpe ratio, but not one."
  },
  {
    path: "trend.slope_per_day",
    heading: "Trend per day",
    kind: "value",
    tip: "How much the best straight line through the values rises (or falls) per day."
  },
  {
    path: "trend.r2",
    heading: "Trend fit (R\xB2)",
    kind: "coefficient",
    tip: "How well that straight line fits: 1 is a perfect line, 0 no line at all."
  },
  {
    path: "outliers",
    heading: "Outliers",
    kind: "count",
    tip: "Points far from the median: more than 3.5 robust standard deviations away (by the median absolute deviation)."
  }
];
function statisticValue(stats, path) {
  let value = stats;
  for (const key of path.split(".")) {
    if (value === null) return null;
    if (typeof value !== "object" || !(key in value)) return void 0;
    value = value[key];
  }
  if (value === null || typeof value === "number" || typeof value === "string") return value;
  return void 0;
}
function formatStatistic(kind, value, options = {}) {
  const { locale } = options;
  if (value === null || value === void 0) return MISSING;
  if (typeof value === "string") return kind === "instant" ? formatInstant(value) : value;
  switch (kind) {
    case "percent":
      return formatPercent(value / 100, locale);
    case "fraction":
      return formatPercent(value, locale);
    case "ratio":
      return formatRatio(value, {
        decimals: 2,
        locale
      });
    case "coefficient":
      return formatRatio(value, {
        decimals: 3,
        locale
      });
    default:
      return formatNumber(value, locale);
  }
}

// web/app/types.ts
function isPending(status) {
  return status === "queued" || status === "processing";
}

// web/app/report_view.ts
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
  #drawdown;
  /** The interval the drawdown chart was drawn at. */
  #drawdownEvery;
  #view = {};
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
    const sameReport = this.#report?.id === report.id;
    const same = sameReport && this.#report?.status === report.status;
    this.#report = report;
    if (same) {
      if (options.view !== void 0) this.setView(options.view);
      return;
    }
    this.#destroyCharts();
    this.#view = options.view ?? (sameReport ? this.#view : {});
    this.#panel.dataset.open = "true";
    replaceChildren(this.#panel, ...this.#render(report));
    this.#panel.dataset.reportId = report.id;
    this.#panel.dataset.status = report.status;
    document.title = `${report.name} - reportd`;
    this.#drawCharts();
    if (options.focus) this.#panel.querySelector("#report-title")?.focus();
  }
  /**
   * Redraws the chart with `view` (from the URL), and the controls with it
   * when they say something else (a link was followed, not a control used).
   */
  setView(view) {
    if (sameView(view, this.#view)) return;
    this.#view = view;
    const report = this.#report;
    const controls = this.#panel.querySelector("#chart-controls");
    if (report !== void 0 && controls !== null) {
      controls.replaceWith(chartControls(view, (next) => this.#changeView(report, next)));
    }
    this.#drawCharts();
  }
  #changeView(report, view) {
    if (sameView(view, this.#view)) return;
    this.#view = view;
    this.#drawCharts();
    this.#deps.onViewChange(report, view);
  }
  #destroyCharts() {
    this.#chart?.destroy();
    this.#chart = void 0;
    this.#drawdown?.destroy();
    this.#drawdown = void 0;
  }
  /**
   * Draws the price chart for the current view, and the drawdown chart
   * under it; a drawdown already drawn at the same interval is kept (it
   * does not depend on the transform, aggregate or scale).
   */
  #drawCharts() {
    const every = this.#view.every;
    const keepDrawdown = this.#drawdown !== void 0 && this.#drawdownEvery === every;
    this.#chart?.destroy();
    this.#chart = void 0;
    if (!keepDrawdown) {
      this.#drawdown?.destroy();
      this.#drawdown = void 0;
    }
    const report = this.#report;
    if (report?.status !== "ready" || report.summary === null) return;
    const ready = {
      ...report,
      summary: report.summary
    };
    const container = this.#panel.querySelector("#chart-main");
    if (container === null) return;
    const drawdownContainer = this.#panel.querySelector("#drawdown");
    const priceLike = priceLikeColumns(report.summary.columns);
    if (!keepDrawdown && drawdownContainer !== null) {
      drawdownContainer.replaceChildren();
      if (priceLike.length > 0) {
        this.#drawdown = new DrawdownChart(drawdownContainer, ready, {
          columns: priceLike,
          view: this.#view
        });
        this.#drawdownEvery = every;
        void this.#drawdown.load();
      }
    }
    this.#drawdown?.showRange(void 0);
    this.#chart = new ReportChart(container, ready, {
      view: this.#view,
      onRange: (range) => this.#drawdown?.showRange(range)
    });
    void this.#chart.load();
  }
  /** Forgets the report shown, when another view (the comparison) takes the panel. */
  release() {
    this.#destroyCharts();
    this.#report = void 0;
  }
  /** Shows a message instead of a report (nothing chosen, or not found). */
  showMessage(title, text) {
    this.#destroyCharts();
    this.#report = void 0;
    document.title = "reportd";
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
      ...body(report, () => chartControls(this.#view, (view) => this.#changeView(report, view)))
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
      actions.appendChild(h("a", {
        class: "button secondary",
        id: "compare-report",
        href: compareHash([
          report.id
        ])
      }, "Compare with others"));
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
function body(report, controls) {
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
    }, controls(), h("div", {
      id: "chart-main"
    }), h("div", {
      id: "drawdown"
    })),
    statisticsTable(summary),
    correlationTable(summary),
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
  if (summary.periods_per_year !== void 0 && summary.periods_per_year !== null) {
    entries.push([
      "Annualized with",
      `${formatNumber(summary.periods_per_year)} periods a year (from the median interval)`
    ]);
  }
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
  const stats = columns.map((column) => summary.columns[column]);
  const rows = STATISTIC_ROWS.filter((row) => stats.some((column) => statisticValue(column, row.path) !== void 0));
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
  }, column)))), h("tbody", {}, ...rows.map((row) => h("tr", {
    "data-statistic": row.path
  }, rowHeading(row.path, row.heading, row.tip), ...stats.map((column) => {
    const value = statisticValue(column, row.path);
    return h("td", {}, statisticCell(row.kind, value, nullReason(column, row.path)));
  })))));
  return h("div", {
    class: "table-scroll",
    tabindex: "0",
    role: "region",
    "aria-labelledby": "statistics-caption"
  }, table);
}
function rowHeading(path, heading, tip) {
  if (tip === void 0) return h("th", {
    scope: "row"
  }, heading);
  const id = `tip-${path.replace(/\W/g, "-")}`;
  const th = h("th", {
    scope: "row",
    class: "has-tip",
    tabindex: "0",
    "aria-describedby": id
  }, heading, h("span", {
    class: "tip",
    role: "tooltip",
    id
  }, tip));
  th.addEventListener("keydown", (event) => {
    if (event.key === "Escape") th.classList.add("tip-dismissed");
  });
  th.addEventListener("blur", () => th.classList.remove("tip-dismissed"));
  th.addEventListener("mouseleave", () => th.classList.remove("tip-dismissed"));
  return th;
}
function statisticCell(kind, value, reason) {
  if (value === null || value === void 0) {
    return reason === void 0 ? MISSING : h("span", {
      title: reason,
      class: "why-missing"
    }, MISSING, h("span", {
      class: "visually-hidden"
    }, ` (${reason})`));
  }
  if (typeof value === "string") {
    return h("time", {
      datetime: value
    }, formatStatistic(kind, value));
  }
  return h("data", {
    value: String(value)
  }, formatStatistic(kind, value));
}
function nullReason(stats, path) {
  const reasons = stats.null_reasons;
  if (typeof reasons !== "object" || reasons === null) return void 0;
  const reason = reasons[path.split(".")[0]];
  return typeof reason === "string" ? reason : void 0;
}
function correlationTable(summary) {
  const correlation = summary.correlation;
  if (Object.keys(summary.columns).length < 2 || correlation === void 0) return null;
  if (correlation === null) {
    const reason = summary.null_reasons?.correlation;
    return reason === void 0 ? null : h("p", {
      class: "hint",
      id: "correlation-missing"
    }, `Correlation between columns not shown: ${reason}.`);
  }
  const { columns, matrix } = correlation;
  return h("div", {
    class: "table-scroll",
    tabindex: "0",
    role: "region",
    "aria-labelledby": "correlation-caption"
  }, h("table", {
    class: "statistics",
    id: "correlation"
  }, h("caption", {
    id: "correlation-caption"
  }, "Correlation between columns ", h("span", {
    class: "caption-hint"
  }, "(Pearson, on the times both have a value: 1 rise and fall together, -1 opposite, 0 unrelated)")), h("thead", {}, h("tr", {}, h("td", {}), ...columns.map((column) => h("th", {
    scope: "col",
    "data-column": column
  }, column)))), h("tbody", {}, ...columns.map((row, i) => h("tr", {
    "data-column": row
  }, h("th", {
    scope: "row"
  }, row), ...columns.map((_column, j) => h("td", {}, statisticCell("coefficient", matrix[i]?.[j] ?? null, void 0))))))));
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
function sameView(a, b) {
  return a.every === b.every && a.agg === b.agg && a.transform === b.transform && (a.log ?? false) === (b.log ?? false);
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
  #filter;
  #status;
  #matches;
  #reports = /* @__PURE__ */ new Map();
  #cursor = null;
  #selected;
  /** Wires the list to its elements. */
  constructor(elements, deps) {
    this.#list = elements.list;
    this.#more = elements.more;
    this.#message = elements.message;
    this.#empty = elements.empty;
    this.#filter = elements.filter;
    this.#status = elements.status;
    this.#matches = elements.matches;
    this.#deps = deps;
    this.#more.addEventListener("click", () => void this.loadMore());
    this.#filter.addEventListener("input", () => this.#applyFilter());
    this.#status.addEventListener("change", () => void this.reload());
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
    this.#applyFilter();
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
    if (this.#status.value !== "") query.set("status", this.#status.value);
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
      this.#applyFilter();
    }
  }
  /**
   * Hides the entries the filters leave out: a name that does not contain
   * the filter text (ignoring case), or a status that changed away from
   * the one filtered for since the page was loaded.
   */
  #applyFilter() {
    const text = this.#filter.value.trim().toLocaleLowerCase();
    const status = this.#status.value;
    let shown = 0;
    for (const item of this.#list.querySelectorAll("li[data-id]")) {
      const report = this.#reports.get(item.dataset.id ?? "");
      const match = report !== void 0 && report.name.toLocaleLowerCase().includes(text) && (status === "" || report.status === status);
      item.hidden = !match;
      if (match) shown++;
    }
    const filtered = text !== "" || status !== "";
    this.#matches.hidden = !filtered;
    const more = this.#cursor === null ? "" : " Load more to search older reports.";
    this.#matches.textContent = shown === 0 ? `No loaded report matches.${more}` : `${plural(shown, "report")} shown.${more}`;
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
    this.#empty.hidden = !(this.#reports.size === 0 && this.#message.hidden && this.#status.value === "");
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
    const named = errors.some((field2) => PARSE_OPTION_NAMES.some((option) => field2.path === `query.${option}`));
    const dialect = errors.find((field2) => field2.path === "dialect");
    if (dialect !== void 0) {
      detected.textContent = dialect.message;
      detected.hidden = false;
    }
    if (named || dialect !== void 0) options.open = true;
  }
}
function localError(title, field2) {
  return new ApiError({
    type: "about:blank",
    title,
    status: 0,
    errors: [
      field2
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
function start() {
  const panel = byId("report", HTMLElement);
  const view = new ReportView(panel, {
    requestDelete: confirmDelete,
    onViewChange(report, chartView) {
      history.replaceState(null, "", reportHash(report.id, chartView));
    }
  });
  const compare = new CompareView(panel);
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
    empty: byId("list-empty", HTMLElement),
    filter: byId("list-filter", HTMLInputElement),
    status: byId("list-status", HTMLSelectElement),
    matches: byId("list-matches", HTMLElement)
  }, {
    onReports: (reports) => reports.forEach((report) => watcher.watch(report))
  });
  function accepted(report) {
    list.upsert(report);
    watcher.watch(report);
    announce(`Report ${report.name} is ${report.status}`);
    location.hash = reportHash(report.id, {});
  }
  async function route() {
    const target = parseRoute(location.hash);
    if (target.kind !== "compare") compare.destroy();
    if (target.kind === "compare") {
      list.select(void 0);
      view.release();
      await compare.show(target.ids, target.every);
      return;
    }
    if (target.kind === "none") {
      list.select(void 0);
      view.showMessage("No report open", "Choose a report from the list, or upload a file to make one.");
      return;
    }
    const { id, view: chartView } = target;
    list.select(id);
    const known = list.get(id);
    if (known !== void 0) {
      view.show(known, {
        focus: true,
        view: chartView
      });
      if (!isPending(known.status)) return;
    }
    try {
      const report = await apiJson(reportPath(id));
      view.show(report, {
        focus: known === void 0,
        view: chartView
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
