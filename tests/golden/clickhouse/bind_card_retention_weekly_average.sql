WITH cohort_events AS (
  SELECT
    events.user_id AS user_id,
    MIN(events.event_time) AS event_time
  FROM events
  WHERE
    NOT (
      events.user_id IS NULL
    )
    AND (
      events.event = 'bind_card' AND (
        events.is_success
      )
    )
  GROUP BY
    events.user_id
  HAVING
    MIN(events.event_time) >= CAST('2026-03-01 00:00:00' AS Nullable(DateTime))
    AND MIN(events.event_time) < CAST('2026-04-01 00:00:00' AS Nullable(DateTime))
), cohort_users AS (
  SELECT
    user_id,
    CAST(dateTrunc('WEEK', event_time) AS Nullable(DATE)) AS cohort
  FROM cohort_events
), return_periods AS (
  SELECT DISTINCT
    events.user_id AS user_id,
    CAST(dateTrunc('WEEK', events.event_time) AS Nullable(DATE)) AS return_period
  FROM events
  WHERE
    NOT (
      events.user_id IS NULL
    )
    AND events.event = '$AppStart'
    AND events.event_time >= CAST('2026-03-01 00:00:00' AS Nullable(DateTime))
), retention_periods AS (
  SELECT
    "period"
  FROM (
    SELECT
      1 AS "period"
    UNION ALL
    SELECT
      2
    UNION ALL
    SELECT
      3
    UNION ALL
    SELECT
      4
    UNION ALL
    SELECT
      5
    UNION ALL
    SELECT
      6
    UNION ALL
    SELECT
      7
    UNION ALL
    SELECT
      8
    UNION ALL
    SELECT
      9
    UNION ALL
    SELECT
      10
    UNION ALL
    SELECT
      11
    UNION ALL
    SELECT
      12
    UNION ALL
    SELECT
      13
    UNION ALL
    SELECT
      14
    UNION ALL
    SELECT
      15
    UNION ALL
    SELECT
      16
    UNION ALL
    SELECT
      17
    UNION ALL
    SELECT
      18
    UNION ALL
    SELECT
      19
    UNION ALL
    SELECT
      20
    UNION ALL
    SELECT
      21
    UNION ALL
    SELECT
      22
    UNION ALL
    SELECT
      23
    UNION ALL
    SELECT
      24
    UNION ALL
    SELECT
      25
    UNION ALL
    SELECT
      26
    UNION ALL
    SELECT
      27
    UNION ALL
    SELECT
      28
    UNION ALL
    SELECT
      29
    UNION ALL
    SELECT
      30
  ) AS offsets
), data_end AS (
  SELECT
    MAX(events.event_time) AS last_event_time
  FROM events
), retention_users AS (
  SELECT
    events.user_id AS user_id,
    minIf(events.event_time, events.event = 'bind_card' AND (
      events.is_success
    )) AS cohort_time,
    groupUniqArrayIf(
      CAST(dateTrunc('WEEK', events.event_time) AS Nullable(DATE)),
      events.event = '$AppStart'
      AND events.event_time >= CAST('2026-03-01 00:00:00' AS Nullable(DateTime))
    ) AS returns
  FROM events
  WHERE
    NOT (
      events.user_id IS NULL
    )
    AND (
      (
        events.event = 'bind_card' AND (
          events.is_success
        )
      )
      OR (
        events.event = '$AppStart'
        AND events.event_time >= CAST('2026-03-01 00:00:00' AS Nullable(DateTime))
      )
    )
  GROUP BY
    events.user_id
  HAVING
    countIf(events.event = 'bind_card' AND (
      events.is_success
    )) > 0
    AND minIf(events.event_time, events.event = 'bind_card' AND (
      events.is_success
    )) >= CAST('2026-03-01 00:00:00' AS Nullable(DateTime))
    AND minIf(events.event_time, events.event = 'bind_card' AND (
      events.is_success
    )) < CAST('2026-04-01 00:00:00' AS Nullable(DateTime))
), retention_counts AS (
  SELECT
    cohort,
    "period",
    COUNT(*) AS cohort_size,
    countIf(has(returns, DATE_ADD(DAY, "period" * 7, cohort))) AS retained
  FROM (
    SELECT
      CAST(dateTrunc('WEEK', cohort_time) AS Nullable(DATE)) AS cohort,
      arrayJoin(range(1, 31)) AS "period",
      returns
    FROM retention_users
  ) AS cohort_periods
  GROUP BY
    1,
    2
), retention_rows AS (
  SELECT
    cohort,
    "period",
    cohort_size,
    CASE
      WHEN CAST(DATE_ADD(DAY, (
        "period" + 1
      ) * 7, cohort) AS Nullable(DateTime)) <= data_end.last_event_time
      THEN retained
    END AS retained,
    CASE
      WHEN CAST(DATE_ADD(DAY, (
        "period" + 1
      ) * 7, cohort) AS Nullable(DateTime)) <= data_end.last_event_time
      THEN CAST(retained AS Nullable(Float64)) / nullIf(cohort_size, 0)
    END AS rate
  FROM retention_counts
  CROSS JOIN data_end
)
SELECT
  *
FROM (
  SELECT
    CASE
      WHEN grouping(r.cohort) = 1
      THEN CAST('all' AS Nullable(String))
      ELSE CAST(r.cohort AS Nullable(String))
    END AS cohort,
    r."period" AS "period",
    CAST(CASE
      WHEN grouping(r.cohort) = 1
      THEN COALESCE(SUM(CASE WHEN NOT (
        r.retained IS NULL
      ) THEN r.cohort_size END), 0)
      ELSE any(r.cohort_size)
    END AS Nullable(Int64)) AS cohort_size,
    CAST(SUM(r.retained) AS Nullable(Int64)) AS retained,
    CASE
      WHEN grouping(r.cohort) = 1
      THEN CAST(SUM(r.retained) AS Nullable(Float64)) / nullIf(COALESCE(SUM(CASE WHEN NOT (
        r.retained IS NULL
      ) THEN r.cohort_size END), 0), 0)
      ELSE any(r.rate)
    END AS rate
  FROM retention_rows AS r
  GROUP BY
    GROUPING SETS (
      (r.cohort, r."period"),
      (r."period")
    )
) AS retention_table
ORDER BY
  cohort ASC,
  "period" ASC
SETTINGS join_use_nulls = 1, optimize_distributed_group_by_sharding_key = 1
