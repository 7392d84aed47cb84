WITH cohort_events AS (
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
    MIN(events.event_time) >= CAST('2026-03-01 00:00:00' AS DATETIME)
    AND MIN(events.event_time) < CAST('2026-04-01 00:00:00' AS DATETIME)
), cohort_users AS (
  SELECT
    user_id,
    CAST(TIMESTAMP_TRUNC(event_time, ISOWEEK) AS DATE) AS cohort
  FROM cohort_events
), return_periods AS (
  SELECT DISTINCT
    events.user_id AS user_id,
    CAST(TIMESTAMP_TRUNC(events.event_time, ISOWEEK) AS DATE) AS return_period
  FROM events
  WHERE
    NOT events.user_id IS NULL
    AND events.event = '$AppStart'
    AND events.event_time >= CAST('2026-03-01 00:00:00' AS DATETIME)
), retention_periods AS (
  SELECT
    `period`
  FROM UNNEST([
    STRUCT(1 AS `period`),
    STRUCT(2 AS `period`),
    STRUCT(3 AS `period`),
    STRUCT(4 AS `period`),
    STRUCT(5 AS `period`),
    STRUCT(6 AS `period`),
    STRUCT(7 AS `period`),
    STRUCT(8 AS `period`),
    STRUCT(9 AS `period`),
    STRUCT(10 AS `period`),
    STRUCT(11 AS `period`),
    STRUCT(12 AS `period`),
    STRUCT(13 AS `period`),
    STRUCT(14 AS `period`),
    STRUCT(15 AS `period`),
    STRUCT(16 AS `period`),
    STRUCT(17 AS `period`),
    STRUCT(18 AS `period`),
    STRUCT(19 AS `period`),
    STRUCT(20 AS `period`),
    STRUCT(21 AS `period`),
    STRUCT(22 AS `period`),
    STRUCT(23 AS `period`),
    STRUCT(24 AS `period`),
    STRUCT(25 AS `period`),
    STRUCT(26 AS `period`),
    STRUCT(27 AS `period`),
    STRUCT(28 AS `period`),
    STRUCT(29 AS `period`),
    STRUCT(30 AS `period`)
  ]) AS offsets
), data_end AS (
  SELECT
    MAX(events.event_time) AS last_event_time
  FROM events
), retention_counts AS (
  SELECT
    cohort_users.cohort AS cohort,
    retention_periods.`period` AS `period`,
    COUNT(*) AS cohort_size,
    COUNT(returns.user_id) AS retained
  FROM cohort_users
  CROSS JOIN retention_periods
  LEFT JOIN return_periods AS returns
    ON returns.user_id = cohort_users.user_id
    AND returns.return_period = DATE_ADD(cohort_users.cohort, INTERVAL (retention_periods.`period` * 7) DAY)
  GROUP BY
    1,
    2
), retention_rows AS (
  SELECT
    cohort,
    `period`,
    cohort_size,
    CASE
      WHEN CAST(DATE_ADD(cohort, INTERVAL ((
        `period` + 1
      ) * 7) DAY) AS DATETIME) <= data_end.last_event_time
      THEN retained
    END AS retained,
    CASE
      WHEN CAST(DATE_ADD(cohort, INTERVAL ((
        `period` + 1
      ) * 7) DAY) AS DATETIME) <= data_end.last_event_time
      THEN CAST(retained AS FLOAT64) / NULLIF(cohort_size, 0)
    END AS rate
  FROM retention_counts
  CROSS JOIN data_end
), retention_sums AS (
  SELECT
    r.`period` AS `period`,
    COALESCE(SUM(CASE WHEN NOT r.retained IS NULL THEN r.cohort_size END), 0) AS known_size,
    SUM(r.retained) AS known_retained
  FROM retention_rows AS r
  GROUP BY
    1
)
SELECT
  *
FROM (
  SELECT
    CAST(r.cohort AS STRING) AS cohort,
    r.`period` AS `period`,
    CAST(r.cohort_size AS INT64) AS cohort_size,
    CAST(r.retained AS INT64) AS retained,
    r.rate AS rate
  FROM retention_rows AS r
  UNION ALL
  SELECT
    CAST('all' AS STRING) AS cohort,
    s.`period` AS `period`,
    CAST(s.known_size AS INT64) AS cohort_size,
    CAST(s.known_retained AS INT64) AS retained,
    CAST(s.known_retained AS FLOAT64) / NULLIF(s.known_size, 0) AS rate
  FROM retention_sums AS s
) AS retention_table
ORDER BY
  cohort ASC NULLS LAST,
  `period` ASC NULLS LAST
