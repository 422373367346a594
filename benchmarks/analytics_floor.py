"""The floor of benchmarks/analytics.py: the metric suite hand-written as one DuckDB SQL script."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from analytics_common import (
    CHANNELS,
    DIGITAL,
    FCR_DAYS,
    GROUPS,
    HOURS,
    LEVEL_S,
    PLAN,
    Suite,
    plain_row,
)

FACTS_SQL = """
CREATE TEMP TABLE facts AS
WITH flags AS (
  SELECT a.contact_id,
         max(CASE WHEN b.started_at <= a.started_at + INTERVAL {fcr_days} DAY
                   AND (a.intent IS NULL OR b.intent IS NULL OR a.intent = b.intent)
                  THEN 1 ELSE 0 END) AS repeat,
         max(CASE WHEN b.started_at <= a.started_at + INTERVAL {hours} HOUR
                  THEN 1 ELSE 0 END) AS followed,
         {next_columns}
  FROM contacts a
  JOIN contacts b
    ON a.customer_id = b.customer_id
   AND b.started_at > a.started_at
   AND b.started_at <= a.started_at + INTERVAL {fcr_days} DAY
  GROUP BY a.contact_id
)
SELECT c.*, coalesce(f.repeat, 0) = 1 AS repeat, coalesce(f.followed, 0) = 1 AS followed,
       {next_flags}
FROM contacts c LEFT JOIN flags f USING (contact_id)
"""
MEASURES_SQL = """
  count(*) AS contacts,
  count(*) FILTER (WHERE NOT abandoned) AS fcr_contacts,
  count(*) FILTER (WHERE NOT abandoned AND NOT repeat) AS fcr_resolved,
  fcr_resolved / nullif(fcr_contacts, 0) AS fcr,
  (fcr_contacts - fcr_resolved) / nullif(fcr_contacts, 0) AS repeat_rate,
  count(*) FILTER (WHERE assistant_involved) AS assistant_contacts,
  count(*) FILTER (WHERE assistant_involved AND handled_by = 'assistant') AS contained,
  count(*) FILTER (WHERE assistant_involved AND handled_by = 'assistant' AND NOT followed)
    AS verified_contained,
  contained / nullif(assistant_contacts, 0) AS containment,
  verified_contained / nullif(assistant_contacts, 0) AS verified_containment,
  count(*) FILTER (WHERE wait_s IS NOT NULL) AS offered,
  count(*) FILTER (WHERE wait_s IS NOT NULL AND NOT abandoned) AS answered,
  count(*) FILTER (WHERE wait_s IS NOT NULL AND abandoned) AS abandoned,
  avg(handle_s) FILTER (WHERE handled_by = 'agent') AS aht_s,
  avg(wait_s) FILTER (WHERE wait_s IS NOT NULL AND NOT abandoned) AS asa_s,
  count(*) FILTER (WHERE NOT abandoned AND wait_s <= {level_s}) / nullif(offered, 0)
    AS service_level,
  count(*) FILTER (WHERE wait_s IS NOT NULL AND abandoned) / nullif(offered, 0) AS abandonment,
  count(csat) AS csat_responses,
  count(*) FILTER (WHERE csat >= 4) / nullif(csat_responses, 0) AS csat,
  count(nps) AS nps_responses,
  (count(*) FILTER (WHERE nps >= 9) - count(*) FILTER (WHERE nps <= 6)) * 100
    / nullif(nps_responses, 0) AS nps,
  count(ces) AS ces_responses,
  avg(ces) AS ces,
  count(*) FILTER (WHERE channel <> 'voice') AS digital_contacts,
  digital_contacts / contacts AS digital_share
"""
MOVEMENT_SQL = """
SELECT from_channel, to_channel, contacts, moved, moved / contacts AS share
FROM (
  SELECT channel AS from_channel, count(*) AS contacts,
         {counts}
  FROM facts GROUP BY 1
) UNPIVOT (moved FOR to_channel IN ({channels}))
ORDER BY 1, 2
"""
COMPLIANCE_SQL = """
WITH marked AS (
  SELECT intent, channel,
    CASE WHEN abandoned THEN NULL
         WHEN channel = 'voice' AND handled_by <> 'agent' AND ({digital_next}) THEN 'offer_digital'
         WHEN handled_by <> 'agent' THEN 'self_serve'
         WHEN assistant_involved THEN 'assisted'
         ELSE 'live' END AS treatment,
    CASE {planned} END AS planned
  FROM facts
)
SELECT intent, channel, planned, count(*) AS contacts,
       {treatment_counts},
       count(*) FILTER (WHERE treatment = planned) AS compliant,
       compliant / count(*) AS compliance
FROM marked WHERE treatment IS NOT NULL AND planned IS NOT NULL
GROUP BY ALL ORDER BY intent NULLS LAST, channel, planned
"""


def floor_script() -> dict[str, str]:
    """The script, statement by statement; the plan and the channels are spelled out by hand."""
    next_columns = ",\n         ".join(
        f"max(CASE WHEN b.started_at <= a.started_at + INTERVAL {HOURS} HOUR "
        f"AND b.channel = '{c}' THEN 1 ELSE 0 END) AS next_{c}"
        for c in CHANNELS
    )
    next_flags = ", ".join(f"coalesce(f.next_{c}, 0) = 1 AS next_{c}" for c in CHANNELS)
    measures = MEASURES_SQL.format(level_s=LEVEL_S)
    specific = sorted(PLAN.items(), key=lambda kv: (kv[0][0] == "*") * 2 + (kv[0][1] == "*"))
    planned = " ".join(
        "WHEN "
        + " AND ".join(
            [f"intent = '{i}'"] * (i != "*") + [f"channel = '{c}'"] * (c != "*") or ["TRUE"]
        )
        + f" THEN '{t}'"
        for (i, c), t in specific
    )
    script = {
        "facts": FACTS_SQL.format(
            fcr_days=FCR_DAYS, hours=HOURS, next_columns=next_columns, next_flags=next_flags
        )
    }
    for g in GROUPS:
        script[f"scorecard_by_{g}"] = (
            f"SELECT {g}, {measures} FROM facts GROUP BY 1 ORDER BY 1 NULLS LAST"  # noqa: S608
        )
    script["scorecard_by_channel_week"] = (
        f"SELECT channel, date_trunc('week', started_at)::DATE AS period, {measures} "  # noqa: S608
        "FROM facts GROUP BY 1, 2 ORDER BY 1, 2"
    )
    script["digital_share"] = (
        "SELECT date_trunc('week', started_at)::DATE AS period, count(*) AS contacts, "
        "count(*) FILTER (WHERE channel <> 'voice') AS digital_contacts, "
        "digital_contacts / contacts AS digital_share FROM facts GROUP BY 1 ORDER BY 1"
    )
    script["movement"] = MOVEMENT_SQL.format(
        counts=", ".join(f"count(*) FILTER (WHERE next_{c}) AS {c}" for c in CHANNELS),
        channels=", ".join(CHANNELS),
    )
    script["compliance"] = COMPLIANCE_SQL.format(
        digital_next=" OR ".join(f"next_{c}" for c in DIGITAL),
        planned=planned,
        treatment_counts=", ".join(
            f"count(*) FILTER (WHERE treatment = '{t}') AS {t}"
            for t in ("self_serve", "assisted", "live", "offer_digital")
        ),
    )
    return script


def run_floor(path: Path) -> tuple[float, Callable[[], Suite]]:
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    started = time.perf_counter()
    # Naive UTC timestamps, as carepath's engine uses: DuckDB does their arithmetic without ICU.
    con.execute(
        "CREATE TEMP TABLE contacts AS SELECT * REPLACE "
        "(started_at::TIMESTAMP AS started_at, ended_at::TIMESTAMP AS ended_at) "
        "FROM read_parquet(?)",
        [str(path)],
    )
    con.execute("SELECT count(*) FROM contacts").fetchall()
    loaded = time.perf_counter() - started

    def compute() -> Suite:
        script = floor_script()
        con.execute(script.pop("facts"))
        suite: Suite = {}
        for name, sql in script.items():
            table = con.execute(sql).to_arrow_table()
            suite[name] = [plain_row(row) for row in table.to_pylist()]
        return suite

    return loaded, compute
