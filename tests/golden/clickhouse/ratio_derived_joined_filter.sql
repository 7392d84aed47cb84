WITH event_metrics AS (
  SELECT
    CAST(dateTrunc('WEEK', events.event_time) AS Nullable(DATE)) AS "week",
    users.register_channel AS register_channel,
    COUNT(CASE WHEN events.event = 'app_error' THEN 1 END) AS app_errors,
    COUNT(CASE WHEN events.event IN ('$AppViewScreen', '$pageview') THEN 1 END) AS pv,
    COALESCE(
      SUM(CASE WHEN events.event = 'deposit' AND events.is_success THEN events.amount END),
      0
    ) AS deposit_amount,
    COALESCE(
      SUM(CASE WHEN events.event = 'withdraw' AND events.is_success THEN events.amount END),
      0
    ) AS withdraw_amount
  FROM events
  LEFT JOIN users
    ON events.user_id = users.user_id
  WHERE
    events.event_time >= CAST('2026-03-01 00:00:00' AS Nullable(DateTime))
    AND events.event_time < CAST('2026-04-01 00:00:00' AS Nullable(DateTime))
    AND (
      events.platform IN ('iOS', 'Android') AND NOT users.gender = 'F'
    )
    AND (
      (
        events.event = 'app_error'
      )
      OR (
        events.event IN ('$AppViewScreen', '$pageview')
      )
      OR (
        events.event = 'deposit' AND events.is_success
      )
      OR (
        events.event = 'withdraw' AND events.is_success
      )
    )
  GROUP BY
    1,
    2
), bind_card_users_values AS (
  SELECT
    CAST(dateTrunc('WEEK', events.event_time) AS Nullable(DATE)) AS "week",
    users.register_channel AS register_channel,
    COUNT(DISTINCT events.user_id) AS bind_card_users
  FROM events
  LEFT JOIN users
    ON events.user_id = users.user_id
  WHERE
    events.event_time >= CAST('2026-03-01 00:00:00' AS Nullable(DateTime))
    AND events.event_time < CAST('2026-04-01 00:00:00' AS Nullable(DateTime))
    AND (
      events.platform IN ('iOS', 'Android') AND NOT users.gender = 'F'
    )
    AND (
      events.event = 'bind_card' AND events.is_success
    )
  GROUP BY
    1,
    2
), stacked_metrics AS (
  SELECT
    "week",
    register_channel,
    CAST(app_errors AS Nullable(Int64)) AS app_errors,
    CAST(pv AS Nullable(Int64)) AS pv,
    CAST(deposit_amount AS Nullable(Int64)) AS deposit_amount,
    CAST(withdraw_amount AS Nullable(Int64)) AS withdraw_amount,
    CAST(NULL AS Nullable(Int64)) AS bind_card_users
  FROM event_metrics
  UNION ALL
  SELECT
    "week",
    register_channel,
    CAST(NULL AS Nullable(Int64)) AS app_errors,
    CAST(NULL AS Nullable(Int64)) AS pv,
    CAST(NULL AS Nullable(Int64)) AS deposit_amount,
    CAST(NULL AS Nullable(Int64)) AS withdraw_amount,
    CAST(bind_card_users AS Nullable(Int64)) AS bind_card_users
  FROM bind_card_users_values
), metric_values AS (
  SELECT
    "week",
    register_channel,
    COALESCE(MAX(app_errors), 0) AS app_errors,
    COALESCE(MAX(pv), 0) AS pv,
    COALESCE(MAX(deposit_amount), 0) AS deposit_amount,
    COALESCE(MAX(withdraw_amount), 0) AS withdraw_amount,
    COALESCE(MAX(bind_card_users), 0) AS bind_card_users
  FROM stacked_metrics
  GROUP BY
    1,
    2
)
SELECT
  "week",
  register_channel,
  CAST(app_errors AS Nullable(Float64)) / nullIf(pv, 0) AS error_rate,
  deposit_amount - withdraw_amount AS net_deposit,
  bind_card_users
FROM metric_values
ORDER BY
  "week" ASC,
  register_channel ASC
SETTINGS join_use_nulls = 1, optimize_distributed_group_by_sharding_key = 1
