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
    ) AS withdraw_amount,
    COUNT(
      DISTINCT CASE WHEN events.event = 'bind_card' AND events.is_success THEN events.user_id END
    ) AS bind_card_users
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
      OR (
        events.event = 'bind_card' AND events.is_success
      )
    )
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
FROM event_metrics
ORDER BY
  "week" ASC,
  register_channel ASC
