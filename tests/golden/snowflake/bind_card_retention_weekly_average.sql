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
    MIN(events.event_time) >= CAST('2026-03-01 00:00:00' AS TIMESTAMP)
    AND MIN(events.event_time) < CAST('2026-04-01 00:00:00' AS TIMESTAMP)
), cohort_users AS (
  SELECT
    user_id,
    CAST(DATE_TRUNC('WEEK', event_time) AS DATE) AS cohort
  FROM cohort_events
), return_periods AS (
  SELECT DISTINCT
    events.user_id AS user_id,
    CAST(DATE_TRUNC('WEEK', events.event_time) AS DATE) AS return_period
  FROM events
  WHERE
    NOT events.user_id IS NULL
    AND events.event = '$AppStart'
    AND events.event_time >= CAST('2026-03-01 00:00:00' AS TIMESTAMP)
), retention_periods AS (
  SELECT
    "period"
  FROM (VALUES
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
    (12),
    (13),
    (14),
    (15),
    (16),
    (17),
    (18),
    (19),
    (20),
    (21),
    (22),
    (23),
    (24),
    (25),
    (26),
    (27),
    (28),
    (29),
    (30)) AS offsets("period")
), data_end AS (
  SELECT
    MAX(events.event_time) AS last_event_time
  FROM events
), retention_counts AS (
  SELECT
    cohort_users.cohort AS cohort,
    retention_periods."period" AS "period",
    COUNT(*) AS cohort_size,
    COUNT(returns.user_id) AS retained
  FROM cohort_users
  CROSS JOIN retention_periods
  LEFT JOIN return_periods AS returns
    ON returns.user_id = cohort_users.user_id
    AND returns.return_period = DATEADD(DAY, retention_periods."period" * 7, cohort_users.cohort)
  GROUP BY
    1,
    2
), retention_rows AS (
  SELECT
    cohort,
    "period",
    cohort_size,
    CASE
      WHEN CAST(DATEADD(DAY, (
        "period" + 1
      ) * 7, cohort) AS TIMESTAMP) <= data_end.last_event_time
      THEN retained
    END AS retained,
    CASE
      WHEN CAST(DATEADD(DAY, (
        "period" + 1
      ) * 7, cohort) AS TIMESTAMP) <= data_end.last_event_time
      THEN CAST(retained AS DOUBLE) / NULLIF(cohort_size, 0)
    END AS rate
  FROM retention_counts
  CROSS JOIN data_end
), retention_sums AS (
  SELECT
    r."period" AS "period",
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
    CAST(r.cohort AS VARCHAR) AS cohort,
    r."period" AS "period",
    CAST(r.cohort_size AS BIGINT) AS cohort_size,
    CAST(r.retained AS BIGINT) AS retained,
    r.rate AS rate
  FROM retention_rows AS r
  UNION ALL
  SELECT
    CAST('all' AS VARCHAR) AS cohort,
    s."period" AS "period",
    CAST(s.known_size AS BIGINT) AS cohort_size,
    CAST(s.known_retained AS BIGINT) AS retained,
    CAST(s.known_retained AS DOUBLE) / NULLIF(s.known_size, 0) AS rate
  FROM retention_sums AS s
) AS retention_table
ORDER BY
  cohort ASC,
  "period" ASC
