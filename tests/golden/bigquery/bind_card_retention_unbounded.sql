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
    CAST(event_time AS DATE) AS cohort
  FROM cohort_events
), return_periods AS (
  SELECT
    events.user_id AS user_id,
    MAX(CAST(events.event_time AS DATE)) AS return_period
  FROM events
  WHERE
    NOT events.user_id IS NULL
    AND events.event = '$AppStart'
    AND events.event_time >= CAST('2026-03-01 00:00:00' AS DATETIME)
  GROUP BY
    events.user_id
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
    COUNT(
      CASE
        WHEN returns.return_period >= DATE_ADD(cohort_users.cohort, INTERVAL retention_periods.`period` DAY)
        THEN 1
      END
    ) AS retained
  FROM cohort_users
  CROSS JOIN retention_periods
  LEFT JOIN return_periods AS returns
    ON returns.user_id = cohort_users.user_id
  GROUP BY
    1,
    2
)
SELECT
  cohort,
  `period`,
  cohort_size,
  CASE
    WHEN CAST(DATE_ADD(cohort, INTERVAL (
      `period` + 1
    ) DAY) AS DATETIME) <= data_end.last_event_time
    THEN retained
  END AS retained,
  CASE
    WHEN CAST(DATE_ADD(cohort, INTERVAL (
      `period` + 1
    ) DAY) AS DATETIME) <= data_end.last_event_time
    THEN CAST(retained AS FLOAT64) / NULLIF(cohort_size, 0)
  END AS rate
FROM retention_counts
CROSS JOIN data_end
ORDER BY
  cohort ASC NULLS LAST,
  `period` ASC NULLS LAST
