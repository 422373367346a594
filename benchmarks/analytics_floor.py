"""The floor of benchmarks/analytics.py: the metric suite hand-written as one DuckDB SQL script.

One pass counts the contacts per finest group (channel, intent, segment, week) as if nothing
followed them, and the contacts that were followed (from one self-join on the customer) correct
the counts that depend on it; every query sums those counts, as carepath's `Metrics` does."""

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
    Options,
    Suite,
    plain_row,
)

# The contacts followed within the longer window (a fifth of them): what each carries of its
# own, and its flags as bits (1 followed within {hours} h, 2 a repeat within {fcr_days} days, 4 << i
# followed on channel i within {hours} h), so that one aggregate dedupes the pairs.
FOLLOWED_SQL = """
SELECT any_value(a.channel) AS channel, any_value(a.intent) AS intent,
       any_value(a.segment) AS segment, any_value(a.handled_by) AS handled_by,
       any_value(a.started_at) AS started_at, any_value(a.abandoned) AS abandoned,
       any_value(a.assistant_involved) AS assistant_involved,
       bit_or(CASE WHEN b.started_at <= a.started_at + INTERVAL {hours} HOUR
                   THEN 1 + CASE b.channel {channel_bits} ELSE 0 END ELSE 0 END
              + CASE WHEN a.intent IS NULL OR b.intent IS NULL OR a.intent = b.intent
                     THEN 2 ELSE 0 END) AS bits
FROM contacts a
JOIN (SELECT customer_id, started_at, intent, channel FROM contacts) b
  ON a.customer_id = b.customer_id
 AND b.started_at > a.started_at
 AND b.started_at <= a.started_at + INTERVAL {fcr_days} DAY
GROUP BY a.contact_id
"""
# One pass over the contacts counts per finest group as if nothing followed any of them; the
# followed contacts then correct the counts that depend on what followed (never stored).
# Means are kept as a sum and a count.
SUMMARY_SQL = """
CREATE TEMP TABLE summary AS
WITH base AS (
  SELECT channel, intent, segment, date_trunc('week', started_at)::DATE AS period,
    count(*) AS contacts,
    count_if(NOT abandoned) AS fcr_contacts,
    count_if(assistant_involved) AS assistant_contacts,
    count_if(assistant_involved AND handled_by = 'assistant') AS contained,
    count_if(wait_s IS NOT NULL) AS offered,
    count_if(wait_s IS NOT NULL AND NOT abandoned) AS answered,
    count_if(wait_s IS NOT NULL AND abandoned) AS abandoned,
    sum(handle_s) FILTER (WHERE handled_by = 'agent') AS handle_sum,
    count(handle_s) FILTER (WHERE handled_by = 'agent') AS handle_n,
    sum(wait_s) FILTER (WHERE wait_s IS NOT NULL AND NOT abandoned) AS wait_sum,
    count_if(NOT abandoned AND wait_s <= {level_s}) AS in_level,
    count(csat) AS csat_responses,
    count_if(csat >= 4) AS satisfied,
    count(nps) AS nps_responses,
    count_if(nps >= 9) AS promoters,
    count_if(nps <= 6) AS detractors,
    count(ces) AS ces_responses,
    sum(ces) AS ces_sum,
    count_if(channel <> 'voice') AS digital_contacts,
    count_if(treatment = 'self_serve') AS self_served,
    count_if(treatment = 'assisted') AS got_assisted,
    count_if(treatment = 'live') AS got_live
  FROM (
    SELECT *, CASE WHEN abandoned THEN NULL
                   WHEN handled_by <> 'agent' THEN 'self_serve'
                   WHEN assistant_involved THEN 'assisted'
                   ELSE 'live' END AS treatment
    FROM contacts
  )
  GROUP BY ALL
),
corrections AS (
  SELECT channel, intent, segment, date_trunc('week', started_at)::DATE AS period,
    count_if(NOT abandoned AND bits & 2 <> 0) AS repeated,
    count_if(assistant_involved AND handled_by = 'assistant' AND bits & 1 <> 0)
      AS contained_followed,
    {moved},
    count(CASE WHEN abandoned THEN NULL
               WHEN channel = 'voice' AND handled_by <> 'agent' AND bits & {digital_bits} <> 0
               THEN 1 END) AS got_offer_digital
  FROM ({followed}) GROUP BY ALL
)
SELECT b.* EXCLUDE (self_served),
  fcr_contacts - coalesce(repeated, 0) AS fcr_resolved,
  contained - coalesce(contained_followed, 0) AS verified_contained,
  {moved_columns},
  self_served - coalesce(got_offer_digital, 0) AS got_self_serve,
  coalesce(got_offer_digital, 0) AS got_offer_digital
FROM base b LEFT JOIN corrections c
  ON b.channel = c.channel AND b.intent IS NOT DISTINCT FROM c.intent
 AND b.segment IS NOT DISTINCT FROM c.segment AND b.period = c.period
"""
# Summed per group (inner), then the ratios over those sums (outer).
SUMS = (
    "contacts", "fcr_contacts", "fcr_resolved", "assistant_contacts", "contained",
    "verified_contained", "offered", "answered", "abandoned", "handle_sum", "handle_n",
    "wait_sum", "in_level", "csat_responses", "satisfied", "nps_responses", "promoters",
    "detractors", "ces_responses", "ces_sum", "digital_contacts",
)  # fmt: skip
MEASURES_SQL = """
  contacts, fcr_contacts, fcr_resolved,
  fcr_resolved / nullif(fcr_contacts, 0) AS fcr,
  (fcr_contacts - fcr_resolved) / nullif(fcr_contacts, 0) AS repeat_rate,
  assistant_contacts, contained, verified_contained,
  contained / nullif(assistant_contacts, 0) AS containment,
  verified_contained / nullif(assistant_contacts, 0) AS verified_containment,
  offered, answered, abandoned,
  handle_sum / nullif(handle_n, 0) AS aht_s,
  wait_sum / nullif(answered, 0) AS asa_s,
  in_level / nullif(offered, 0) AS service_level,
  abandoned / nullif(offered, 0) AS abandonment,
  csat_responses, satisfied / nullif(csat_responses, 0) AS csat,
  nps_responses, (promoters - detractors) * 100 / nullif(nps_responses, 0) AS nps,
  ces_responses, ces_sum / nullif(ces_responses, 0) AS ces,
  digital_contacts, digital_contacts / contacts AS digital_share
"""
MOVEMENT_SQL = """
SELECT from_channel, to_channel, contacts, moved, moved / contacts AS share
FROM (
  SELECT channel AS from_channel, sum(contacts)::BIGINT AS contacts,
         {counts}
  FROM summary GROUP BY 1
) UNPIVOT (moved FOR to_channel IN ({channels}))
ORDER BY 1, 2
"""
COMPLIANCE_SQL = """
WITH planned AS (SELECT *, CASE {planned} END AS planned FROM summary),
counted AS (
  SELECT intent, channel, planned,
         sum({all_treated})::BIGINT AS treated,
         {treatment_counts},
         sum(CASE planned {compliant} END)::BIGINT AS compliant
  FROM planned WHERE planned IS NOT NULL GROUP BY ALL
)
SELECT intent, channel, planned, treated AS contacts, {treatments}, compliant,
       compliant / treated AS compliance
FROM counted WHERE treated > 0 ORDER BY intent NULLS LAST, channel, planned
"""
TREATMENTS = ("self_serve", "assisted", "live", "offer_digital")


def floor_script() -> dict[str, str]:
    """The script, statement by statement; the plan and the channels are spelled out by hand."""
    measures = MEASURES_SQL
    specific = sorted(PLAN.items(), key=lambda kv: (kv[0][0] == "*") * 2 + (kv[0][1] == "*"))
    planned = " ".join(
        "WHEN "
        + " AND ".join(
            [f"intent = '{i}'"] * (i != "*") + [f"channel = '{c}'"] * (c != "*") or ["TRUE"]
        )
        + f" THEN '{t}'"
        for (i, c), t in specific
    )
    bit = {c: 4 << i for i, c in enumerate(CHANNELS)}
    followed = FOLLOWED_SQL.format(
        fcr_days=FCR_DAYS,
        hours=HOURS,
        channel_bits=" ".join(f"WHEN '{c}' THEN {bit[c]}" for c in CHANNELS),
    )
    script = {
        "summary": SUMMARY_SQL.format(
            followed=followed,
            level_s=LEVEL_S,
            digital_bits=sum(bit[c] for c in DIGITAL),
            moved=", ".join(f"count_if(bits & {bit[c]} <> 0) AS moved_{c}" for c in CHANNELS),
            moved_columns=", ".join(f"coalesce(moved_{c}, 0) AS moved_{c}" for c in CHANNELS),
        )
    }
    # Counts back to BIGINT (DuckDB sums them as HUGEINT); the two float sums stay DOUBLE.
    sums = ", ".join(
        f"sum({name}){'' if name in ('handle_sum', 'wait_sum') else '::BIGINT'} AS {name}"
        for name in SUMS
    )
    for g in GROUPS:
        script[f"scorecard_by_{g}"] = (
            f"SELECT {g}, {measures} FROM (SELECT {g}, {sums} FROM summary GROUP BY 1) "  # noqa: S608
            "ORDER BY 1 NULLS LAST"
        )
    script["scorecard_by_channel_week"] = (
        f"SELECT channel, period, {measures} "  # noqa: S608
        f"FROM (SELECT channel, period, {sums} FROM summary GROUP BY 1, 2) ORDER BY 1, 2"
    )
    script["digital_share"] = (
        "SELECT period, sum(contacts)::BIGINT AS contacts, "
        "sum(digital_contacts)::BIGINT AS digital_contacts, "
        "sum(digital_contacts) / sum(contacts) AS digital_share FROM summary GROUP BY 1 ORDER BY 1"
    )
    script["movement"] = MOVEMENT_SQL.format(
        counts=", ".join(f"sum(moved_{c})::BIGINT AS {c}" for c in CHANNELS),
        channels=", ".join(CHANNELS),
    )
    script["compliance"] = COMPLIANCE_SQL.format(
        planned=planned,
        all_treated=" + ".join(f"got_{t}" for t in TREATMENTS),
        treatment_counts=", ".join(f"sum(got_{t})::BIGINT AS {t}" for t in TREATMENTS),
        treatments=", ".join(TREATMENTS),
        compliant=" ".join(f"WHEN '{t}' THEN got_{t}" for t in TREATMENTS),
    )
    return script


def run_floor(path: Path, options: Options) -> tuple[float, Callable[[], Suite]]:
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    if options.memory_limit:
        con.execute(f"SET memory_limit = '{options.memory_limit}'")
        con.execute(f"SET temp_directory = '{options.spill_to}'")
    started = time.perf_counter()
    # Naive UTC timestamps, as carepath's engine uses: DuckDB does their arithmetic without ICU.
    kind = "VIEW" if options.in_place else "TABLE"  # a view reads the file at each query
    source = str(path).replace("'", "''")  # a view takes no parameters
    con.execute(
        f"CREATE TEMP {kind} contacts AS SELECT * REPLACE "  # noqa: S608 - our own file name
        "(started_at::TIMESTAMP AS started_at, ended_at::TIMESTAMP AS ended_at) "
        f"FROM read_parquet('{source}')"
    )
    con.execute("SELECT count(*) FROM contacts").fetchall()
    loaded = time.perf_counter() - started

    def compute() -> Suite:
        script = floor_script()
        con.execute(script.pop("summary"))
        suite: Suite = {}
        for name, sql in script.items():
            table = con.execute(sql).to_arrow_table()
            suite[name] = [plain_row(row) for row in table.to_pylist()]
        return suite

    return loaded, compute
