WITH ltv_cohort_events_times AS (
  SELECT
    events.user_id AS user_id,
    MIN(events.event_time) AS event_time
  FROM events
  WHERE
    NOT events.user_id IS NULL
    AND (
      events.event = 'bind_card' AND (
        events.is_success
      )
    )
  GROUP BY
    events.user_id
  HAVING
    MIN(events.event_time) >= CAST('2026-03-01 00:00:00' AS TIMESTAMP)
    AND MIN(events.event_time) < CAST('2026-04-01 00:00:00' AS TIMESTAMP)
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
    CAST(DATE_TRUNC('MONTH', event_time) AS DATE) AS cohort,
    platform
  FROM ltv_cohort_events
  WHERE
    event_rank = 1
), ltv_values AS (
  SELECT
    cohort.user_id AS user_id,
    CAST(DATE_TRUNC('MONTH', events.event_time) AS DATE) AS value_period,
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
    AND events.event_time >= CAST('2026-03-01 00:00:00' AS TIMESTAMP)
    AND events.event_time >= cohort.cohort_time
  GROUP BY
    1,
    2
), ltv_periods AS (
  SELECT
    `period`
  FROM VALUES
    (0),
    (1),
    (2),
    (3),
    (4),
    (5),
    (6),
    (7),
    (8),
    (9),
    (10),
    (11),
    (12) AS ltv_offsets(`period`)
), ltv_stacked AS (
  SELECT
    users.cohort AS cohort,
    users.platform AS platform,
    ltv_periods.`period` AS `period`,
    CAST(1 AS BIGINT) AS member,
    CAST(0 AS DOUBLE) AS amount
  FROM ltv_cohort_users AS users
  CROSS JOIN ltv_periods
  UNION ALL
  SELECT
    users.cohort AS cohort,
    users.platform AS platform,
    ltv_periods.`period` AS `period`,
    CAST(0 AS BIGINT) AS member,
    CAST(vals.amount AS DOUBLE) AS amount
  FROM ltv_values AS vals
  JOIN ltv_cohort_users AS users
    ON users.user_id = vals.user_id
  CROSS JOIN ltv_periods
  WHERE
    vals.value_period <= ADD_MONTHS(users.cohort, ltv_periods.`period`)
), data_end AS (
  SELECT
    MAX(events.event_time) AS last_event_time
  FROM events
), ltv_counts AS (
  SELECT
    cohort,
    platform,
    `period`,
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
  `period`,
  cohort_size,
  CASE
    WHEN CAST(ADD_MONTHS(cohort, (
      `period` + 1
    )) AS TIMESTAMP) <= data_end.last_event_time
    THEN amount
  END AS amount,
  CASE
    WHEN CAST(ADD_MONTHS(cohort, (
      `period` + 1
    )) AS TIMESTAMP) <= data_end.last_event_time
    THEN CAST(amount AS DOUBLE) / NULLIF(cohort_size, 0)
  END AS amount_per_user
FROM ltv_counts
CROSS JOIN data_end
ORDER BY
  cohort ASC NULLS LAST,
  platform ASC NULLS LAST,
  `period` ASC NULLS LAST
