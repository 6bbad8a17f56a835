#!/usr/bin/env python3
"""The pandas oracle for reportd's analytics (issue 14).

Builds a few fixed CSV uploads (gaps, duplicate timestamps, missing cells,
negative values, daily and minute data), computes every resampling, transform
and summary statistic of services/series/ with pandas and numpy, and prints
the uploads and the expected values as JSON. tests/unit/pandas_oracle_test.ts
feeds the same CSV through reportd's pipeline and compares within 1e-9
relative; the same test checks that this script still prints the committed
fixture, so a change on either side is noticed.

Regenerate the fixture (Debian: apt-get install python3-pandas python3-numpy):

    /usr/bin/python3 tests/oracle/pandas_oracle.py > tests/fixtures/pandas_oracle.json

pandas is used the way an analyst would use it; where reportd deliberately
differs (documented in services/series/transforms.ts and resample.ts), the
difference is applied here explicitly and commented, so it stays visible.
"""

import io
import json
import math
import sys

import numpy as np
import pandas as pd

DAY = pd.Timedelta(days=1)
EVERY = {
    "1m": "1min",
    "5m": "5min",
    "15m": "15min",
    "30m": "30min",
    "1h": "1H",
    "4h": "4H",
    "1d": "1D",
    "1w": "W-MON",
    "1mo": "MS",
}
AGGS = ["last", "first", "mean", "sum", "min", "max", "count", "ohlc"]
TRANSFORMS = (
    ["diff", "pct_change", "log_return", "cumsum", "drawdown", "zscore"]
    + [f"{kind}:{n}" for kind in ("rolling_mean", "rolling_std", "rolling_min", "rolling_max")
       for n in (2, 5, 20)]
    + ["ewm_mean:0.1", "ewm_mean:0.5", "ewm_mean:1"]
)


def iso(ts):
    return ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"


def cell(value):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


def to_csv(rows, names):
    lines = ["timestamp," + ",".join(names)]
    for ts, values in rows:
        lines.append(ts + "," + ",".join(cell(v) for v in values))
    return "\n".join(lines) + "\n"


def daily_prices():
    """Weekday closes (a random walk), volumes and a spread that goes negative.

    A two-week gap, missing cells, and a corrected (duplicate) row.
    """
    rng = np.random.RandomState(14)
    days = pd.bdate_range("2021-01-04", periods=200, tz="UTC")
    days = days[(days < "2021-06-01") | (days >= "2021-06-15")]
    close = 100 * np.exp(np.cumsum(rng.normal(0.0004, 0.015, len(days))))
    volume = rng.randint(1_000, 50_000, len(days)).astype(float)
    spread = np.round(rng.normal(0, 1.5, len(days)), 4)
    close[[7, 30, 31]] = np.nan
    volume[[3, 100]] = np.nan
    rows = [(iso(t), [round(c, 6), v, s]) for t, c, v, s in zip(days, close, volume, spread)]
    rows.insert(11, (rows[11][0], [1.0, 2.0, 3.0]))  # replaced by the row after it
    return to_csv(rows, ["close", "volume", "spread"])


def minute_sensor():
    """Minute readings around freezing (negative values), counts with zeros, an
    intraday price; a 40-minute gap, missing cells, rows out of order and a
    duplicate timestamp."""
    rng = np.random.RandomState(7)
    start = pd.Timestamp("2022-03-07T22:13:00Z")
    times = [start + pd.Timedelta(minutes=i) for i in range(240) if not 100 <= i < 140]
    temp = np.round(np.sin(np.arange(len(times)) / 25) * 3 + rng.normal(0, 0.4, len(times)), 3)
    temp[[5, 6, 50]] = np.nan
    temp[90] = 25.0  # an outlier
    count = rng.poisson(4, len(times)).astype(float)
    count[[0, 150]] = np.nan
    price = np.round(50 * np.exp(np.cumsum(rng.normal(0, 0.001, len(times)))), 4)
    price[[10, 11, 12]] = np.nan
    rows = [(iso(t), [a, b, c]) for t, a, b, c in zip(times, temp, count, price)]
    rows[20], rows[21] = rows[21], rows[20]
    rows.append((rows[60][0], [-1.5, 9.0, 50.5]))  # a later duplicate wins
    return to_csv(rows, ["temp", "count", "price"])


def short_daily():
    """Ten calendar days, weekends included: no CAGR, 365.25 periods a year."""
    rows = [(iso(pd.Timestamp("2023-05-01T00:00:00Z") + i * DAY), [v, 5.0])
            for i, v in enumerate([10, 11, 10.5, 12, 9, 9.5, 13, 12.5, 14, 15])]
    return to_csv(rows, ["v", "flat"])


def monthly_crossing_zero():
    """Month-start values that cross zero: returns are null, trend is not."""
    rows = [(iso(pd.Timestamp(year=2019 + i // 12, month=i % 12 + 1, day=1, tz="UTC")),
             [v]) for i, v in enumerate([5, 3, 1, -1, -2, 0, 2, 4, 7, 6, 8, 9, 12, 11])]
    return to_csv(rows, ["balance"])


CASES = {
    "daily_prices": (daily_prices, ["1d", "1w", "1mo"]),
    "minute_sensor": (minute_sensor, ["1m", "5m", "15m", "30m", "1h", "4h"]),
    "short_daily": (short_daily, ["1d", "1w"]),
    "monthly_crossing_zero": (monthly_crossing_zero, ["1mo"]),
}


def load(csv):
    """What reportd's cleaning does: stable sort by time, the last row of a
    timestamp wins."""
    frame = pd.read_csv(io.StringIO(csv))
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
    frame = frame.set_index("timestamp").astype(float)
    frame = frame.sort_index(kind="stable")
    return frame[~frame.index.duplicated(keep="last")]


def values(series):
    return [None if (v is None or not np.isfinite(v)) else float(v) for v in series]


def seconds(index):
    return [ts.value / 1e9 for ts in index]


def resample(frame, every, agg):
    grouped = frame.resample(EVERY[every], closed="left", label="left")
    if agg == "ohlc":
        out = pd.DataFrame(index=grouped.count().index)
        for name in frame.columns:
            ohlc = frame[name].resample(EVERY[every], closed="left", label="left").ohlc()
            for part in ("open", "high", "low", "close"):
                out[f"{name}_{part}"] = ohlc[part]
    elif agg == "sum":
        # reportd: a bucket with rows but no value sums to missing, not 0.
        out = grouped.sum(min_count=1)
    else:
        out = getattr(grouped, agg)()
    # reportd omits buckets without any row; pandas keeps them as NaN rows.
    rows = frame.index.to_series().resample(EVERY[every], closed="left", label="left").count()
    return out[rows.reindex(out.index).fillna(0) > 0]


def transform(s, spec):
    kind, _, parameter = spec.partition(":")
    with np.errstate(divide="ignore", invalid="ignore"):
        if kind == "diff":
            out = s.diff()
        elif kind == "pct_change":
            out = s.pct_change(fill_method=None)
        elif kind == "log_return":
            out = np.log(s / s.shift())
        elif kind == "cumsum":
            out = s.cumsum()
        elif kind == "drawdown":
            peak = s.cummax()
            # reportd: a fraction of a positive peak only, for values >= 0.
            out = (s / peak - 1).where((peak > 0) & (s >= 0))
        elif kind == "zscore":
            out = (s - s.mean()) / s.std()
        elif kind == "rolling_std":
            # pandas' online rolling variance drifts on small spreads beside
            # large values: on the pair (-1.003, -1.002) it says
            # 0.00070710678480 where the exact answer is 0.00070710678119
            # (5e-9 relative; reportd's re-seeded sums: 1.5e-11). The oracle
            # is numpy's two-pass stddev of each window instead.
            out = s.rolling(int(parameter)).apply(lambda w: np.std(w, ddof=1), raw=True)
        elif kind.startswith("rolling_"):
            out = getattr(s.rolling(int(parameter)), kind.removeprefix("rolling_"))()
        elif kind == "ewm_mean":
            out = s.ewm(alpha=float(parameter)).mean()
    # reportd: a division by zero or log of 0 is missing, not +-inf.
    return out.replace([np.inf, -np.inf], np.nan)


def periods_per_year(index):
    if len(index) < 2:
        return None
    median = index.to_series().diff().median()
    if median == DAY:
        weekend = (index.dayofweek >= 5).sum()
        if weekend < 0.02 * len(index):
            return 252.0
    if pd.Timedelta(days=28) <= median <= pd.Timedelta(days=31):
        return 12.0
    return pd.Timedelta(days=365.25) / median


def column_analytics(column, per_year):
    s = column.dropna()
    out = {}
    if len(s) >= 2 and (s > 0).all():
        out["return_total"] = s.iloc[-1] / s.iloc[0] - 1
        days = (s.index[-1] - s.index[0]) / DAY
        out["cagr"] = (s.iloc[-1] / s.iloc[0]) ** (365.25 / days) - 1 if days >= 30 else None
        if len(s) >= 3:
            log_returns = np.log(s / s.shift()).dropna()
            returns = s.pct_change().dropna()
            out["volatility_annualized"] = log_returns.std() * math.sqrt(per_year)
            with np.errstate(divide="ignore", invalid="ignore"):
                # Constant returns: 0 / 0 is NaN, which becomes null (reportd says why).
                out["sharpe_like"] = returns.mean() / returns.std() * math.sqrt(per_year)
        else:
            out["volatility_annualized"] = out["sharpe_like"] = None
        drawdown = s / s.cummax() - 1
        if drawdown.min() == 0:
            out["max_drawdown"] = {"value": 0.0, "peak": None, "trough": None, "recovery": None}
        else:
            trough = drawdown.idxmin()
            peak = s[:trough].idxmax()
            after = s[s.index > trough]
            recovered = after[after >= s[peak]]
            out["max_drawdown"] = {
                "value": drawdown.min(),
                "peak": iso(peak),
                "trough": iso(trough),
                "recovery": iso(recovered.index[0]) if len(recovered) else None,
            }
    else:
        for key in ("return_total", "cagr", "volatility_annualized", "sharpe_like",
                    "max_drawdown"):
            out[key] = None
    if len(s) >= 2:
        x = ((s.index - s.index[0]) / DAY).to_numpy(dtype=float)
        y = s.to_numpy()
        slope = np.polyfit(x, y, 1)[0]
        r2 = None if np.all(y == y[0]) else float(np.corrcoef(x, y)[0, 1] ** 2)
        out["trend"] = {"slope_per_day": slope, "r2": r2}
    else:
        out["trend"] = None
    median = s.median()
    mad = (s - median).abs().median()
    out["outliers"] = int(((0.6745 * (s - median) / mad).abs() > 3.5).sum()) if mad > 0 else None
    return out


def clean_numbers(value):
    if isinstance(value, dict):
        return {k: clean_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clean_numbers(v) for v in value]
    if isinstance(value, (float, np.floating)):
        return float(value) if np.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


def case(build, everies):
    csv = build()
    frame = load(csv)
    per_year = periods_per_year(frame.index)
    correlation = frame.corr(method="pearson", min_periods=3)
    return {
        "csv": csv,
        "summary": {
            "periods_per_year": per_year,
            "columns": {name: column_analytics(frame[name], per_year) for name in frame.columns},
            "correlation": {
                "columns": list(frame.columns),
                "matrix": [values(row) for row in correlation.to_numpy()],
            },
        },
        "resample": {
            f"{every}/{agg}": {
                "timestamps": seconds(out.index),
                "columns": {name: values(out[name]) for name in out.columns},
            }
            for every in everies for agg in AGGS for out in [resample(frame, every, agg)]
        },
        "transforms": {
            spec: {name: values(transform(frame[name], spec)) for name in frame.columns}
            for spec in TRANSFORMS
        },
        # A transform after resampling, as the series endpoint chains them.
        "chained": {
            "every": everies[-1],
            "agg": "last",
            "transform": "rolling_mean:3",
            "columns": {
                name: values(transform(resample(frame, everies[-1], "last")[name], "rolling_mean:3"))
                for name in frame.columns
            },
        },
    }


def main():
    fixture = {
        "generated_by": "tests/oracle/pandas_oracle.py",
        "pandas": pd.__version__,
        "numpy": np.__version__,
        "cases": {name: case(build, everies) for name, (build, everies) in CASES.items()},
    }
    # Compact (about 450 KB): the file is compared, not read.
    json.dump(clean_numbers(fixture), sys.stdout, separators=(",", ":"), allow_nan=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
