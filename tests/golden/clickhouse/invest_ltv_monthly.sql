WITH ltv_cohort_events_times AS (
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
), ltv_cohort_events AS (
  SELECT
    events.user_id AS user_id,
    events.event_time AS event_time,
    events.platform AS platform,
    ROW_NUMBER() OVER (PARTITION BY events.user_id ORDER BY events.event_id) AS event_rank
  FROM events
  JOIN ltv_cohort_events_times
    ON events.user_id = ltv_cohort_events_times.user_id
    AND events.event_time = ltv_cohort_events_times.event_time
  WHERE
    events.event = 'bind_card' AND (
      events.is_success
    )
), ltv_cohort_users AS (
  SELECT
    user_id,
    event_time AS cohort_time,
    CAST(dateTrunc('MONTH', event_time) AS Nullable(DATE)) AS cohort,
    platform
  FROM ltv_cohort_events
  WHERE
    event_rank = 1
), ltv_values AS (
  SELECT
    cohort.user_id AS user_id,
    CAST(dateTrunc('MONTH', events.event_time) AS Nullable(DATE)) AS value_period,
    SUM(events.amount) AS amount
  FROM events
  JOIN ltv_cohort_users AS cohort
    ON cohort.user_id = events.user_id
  WHERE
    (
      events.event = 'P2P_invest' AND (
        events.is_success
      )
    )
    AND events.event_time >= CAST('2026-03-01 00:00:00' AS Nullable(DateTime))
    AND events.event_time >= cohort.cohort_time
  GROUP BY
    1,
    2
), ltv_periods AS (
  SELECT
    "period"
  FROM (
    SELECT
      0 AS "period"
    UNION ALL
    SELECT
      1
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
  ) AS ltv_offsets
), ltv_stacked AS (
  SELECT
    users.cohort AS cohort,
    users.platform AS platform,
    ltv_periods."period" AS "period",
    CAST(1 AS Nullable(Int64)) AS member,
    CAST(0 AS Nullable(Float64)) AS amount
  FROM ltv_cohort_users AS users
  CROSS JOIN ltv_periods
  UNION ALL
  SELECT
    users.cohort AS cohort,
    users.platform AS platform,
    ltv_periods."period" AS "period",
    CAST(0 AS Nullable(Int64)) AS member,
    CAST(vals.amount AS Nullable(Float64)) AS amount
  FROM ltv_values AS vals
  JOIN ltv_cohort_users AS users
    ON users.user_id = vals.user_id
  CROSS JOIN ltv_periods
  WHERE
    vals.value_period <= DATE_ADD(MONTH, ltv_periods."period", users.cohort)
), data_end AS (
  SELECT
    MAX(events.event_time) AS last_event_time
  FROM events
), ltv_counts AS (
  SELECT
    cohort,
    platform,
    "period",
    SUM(member) AS cohort_size,
    SUM(amount) AS amount
  FROM ltv_stacked
  GROUP BY
    1,
    2,
    3
)
SELECT
  cohort,
  platform,
  "period",
  cohort_size,
  CASE
    WHEN CAST(DATE_ADD(MONTH, (
      "period" + 1
    ), cohort) AS Nullable(DateTime)) <= data_end.last_event_time
    THEN amount
  END AS amount,
  CASE
    WHEN CAST(DATE_ADD(MONTH, (
      "period" + 1
    ), cohort) AS Nullable(DateTime)) <= data_end.last_event_time
    THEN CAST(amount AS Nullable(Float64)) / nullIf(cohort_size, 0)
  END AS amount_per_user
FROM ltv_counts
CROSS JOIN data_end
ORDER BY
  cohort ASC,
  platform ASC,
  "period" ASC
SETTINGS join_use_nulls = 1, optimize_distributed_group_by_sharding_key = 1
