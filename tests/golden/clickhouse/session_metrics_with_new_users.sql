WITH event_metrics AS (
  SELECT
    CAST(dateTrunc('MONTH', events.event_time) AS Nullable(DATE)) AS "month",
    COUNT(*) AS pv
  FROM events
  WHERE
    events.event IN ('$AppViewScreen', '$pageview')
  GROUP BY
    1
), session_events AS (
  SELECT
    events.user_id AS user_id,
    events.event_time AS event_time,
    events.event_id AS event_id,
    CASE WHEN events.event IN ('$AppViewScreen', '$pageview') THEN 1 ELSE 0 END AS is_page_view,
    CASE WHEN events.event IN ('$AppClick', '$WebClick') THEN 1 ELSE 0 END AS is_click,
    lag(events.event_time) OVER (PARTITION BY events.user_id ORDER BY events.event_time, events.event_id) AS previous_event_time
  FROM events
  WHERE
    NOT (
      events.user_id IS NULL
    )
), session_starts AS (
  SELECT
    *,
    CASE
      WHEN previous_event_time IS NULL
      OR event_time > (
        previous_event_time + INTERVAL '1800' SECOND
      )
      THEN 1
      ELSE 0
    END AS is_session_start
  FROM session_events
), session_numbers AS (
  SELECT
    *,
    SUM(is_session_start) OVER (
      PARTITION BY user_id
      ORDER BY event_time, event_id
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS session_number
  FROM session_starts
), sessions AS (
  SELECT
    user_id,
    session_number,
    MIN(event_time) AS started_at,
    MAX(event_time) AS ended_at,
    SUM(is_page_view) AS page_views,
    SUM(is_click) AS clicks
  FROM session_numbers
  GROUP BY
    user_id,
    session_number
), session_metrics AS (
  SELECT
    CAST(dateTrunc('MONTH', started_at) AS Nullable(DATE)) AS "month",
    COUNT(*) AS sessions,
    CAST(COUNT(CASE WHEN page_views = 1 AND clicks = 0 THEN 1 END) AS Nullable(Float64)) / nullIf(COUNT(CASE WHEN page_views > 0 THEN 1 END), 0) AS bounce_rate,
    AVG(DATE_DIFF(MICROSECOND, started_at, ended_at) / 1000000) AS avg_session_duration,
    CAST(SUM(page_views) AS Nullable(Float64)) / nullIf(COUNT(CASE WHEN page_views > 0 THEN 1 END), 0) AS avg_visit_depth
  FROM sessions
  GROUP BY
    1
), user_first_events AS (
  SELECT
    events.user_id AS user_id,
    MIN(events.event_time) AS event_time
  FROM events
  WHERE
    NOT (
      events.user_id IS NULL
    )
  GROUP BY
    events.user_id
), first_seen_metrics AS (
  SELECT
    CAST(dateTrunc('MONTH', event_time) AS Nullable(DATE)) AS "month",
    COUNT(*) AS new_users
  FROM user_first_events
  GROUP BY
    1
), stacked_metrics AS (
  SELECT
    "month",
    CAST(pv AS Nullable(Int64)) AS pv,
    CAST(NULL AS Nullable(Int64)) AS sessions,
    CAST(NULL AS Nullable(Float64)) AS bounce_rate,
    CAST(NULL AS Nullable(Float64)) AS avg_session_duration,
    CAST(NULL AS Nullable(Float64)) AS avg_visit_depth,
    CAST(NULL AS Nullable(Int64)) AS new_users
  FROM event_metrics
  UNION ALL
  SELECT
    "month",
    CAST(NULL AS Nullable(Int64)) AS pv,
    CAST(sessions AS Nullable(Int64)) AS sessions,
    CAST(bounce_rate AS Nullable(Float64)) AS bounce_rate,
    CAST(avg_session_duration AS Nullable(Float64)) AS avg_session_duration,
    CAST(avg_visit_depth AS Nullable(Float64)) AS avg_visit_depth,
    CAST(NULL AS Nullable(Int64)) AS new_users
  FROM session_metrics
  UNION ALL
  SELECT
    "month",
    CAST(NULL AS Nullable(Int64)) AS pv,
    CAST(NULL AS Nullable(Int64)) AS sessions,
    CAST(NULL AS Nullable(Float64)) AS bounce_rate,
    CAST(NULL AS Nullable(Float64)) AS avg_session_duration,
    CAST(NULL AS Nullable(Float64)) AS avg_visit_depth,
    CAST(new_users AS Nullable(Int64)) AS new_users
  FROM first_seen_metrics
), metric_values AS (
  SELECT
    "month",
    COALESCE(MAX(pv), 0) AS pv,
    COALESCE(MAX(sessions), 0) AS sessions,
    MAX(bounce_rate) AS bounce_rate,
    MAX(avg_session_duration) AS avg_session_duration,
    MAX(avg_visit_depth) AS avg_visit_depth,
    COALESCE(MAX(new_users), 0) AS new_users
  FROM stacked_metrics
  GROUP BY
    1
)
SELECT
  "month",
  sessions,
  bounce_rate,
  avg_session_duration,
  avg_visit_depth,
  new_users,
  pv
FROM metric_values
ORDER BY
  "month" ASC
SETTINGS join_use_nulls = 1, optimize_distributed_group_by_sharding_key = 1
