WITH attribution_conversions AS (
  SELECT
    events.user_id AS user_id,
    events.event_time AS conversion_time,
    events.event_id AS conversion_id
  FROM events
  WHERE
    NOT (
      events.user_id IS NULL
    )
    AND events.event_time >= CAST('2026-03-01 00:00:00' AS Nullable(DateTime))
    AND events.event_time < CAST('2026-04-01 00:00:00' AS Nullable(DateTime))
    AND events.platform = 'iOS'
    AND (
      events.event = 'P2P_invest' AND events.is_success
    )
), attribution_touches AS (
  SELECT
    events.user_id AS user_id,
    events.event_time AS touch_time,
    events.event_id AS touch_id,
    CASE
      WHEN events.event = 'push_click'
      AND NOT (
        (
          CASE
            WHEN JSONType(events.properties, 'campaign_id') = 'String'
            THEN JSONExtractString(events.properties, 'campaign_id')
            ELSE CASE
              WHEN JSONType(events.properties, 'campaign_id') = 'Null'
              THEN NULL
              ELSE JSONExtractRaw(events.properties, 'campaign_id')
            END
          END
        ) IS NULL
      )
      THEN CONCAT(
        'push_click:',
        CAST(CASE
          WHEN JSONType(events.properties, 'campaign_id') = 'String'
          THEN JSONExtractString(events.properties, 'campaign_id')
          ELSE CASE
            WHEN JSONType(events.properties, 'campaign_id') = 'Null'
            THEN NULL
            ELSE JSONExtractRaw(events.properties, 'campaign_id')
          END
        END AS Nullable(String))
      )
      WHEN events.event = '$AppViewScreen' AND NOT (
        events.utm_campaign IS NULL
      )
      THEN CONCAT('$AppViewScreen:', CAST(events.utm_campaign AS Nullable(String)))
    END AS touch
  FROM events
  WHERE
    NOT (
      events.user_id IS NULL
    )
    AND events.event_time >= CAST('2026-02-22 00:00:00' AS Nullable(DateTime))
    AND events.event_time < CAST('2026-04-01 00:00:00' AS Nullable(DateTime))
    AND events.platform = 'iOS'
    AND (
      (
        events.event = 'push_click'
        AND NOT (
          (
            CASE
              WHEN JSONType(events.properties, 'campaign_id') = 'String'
              THEN JSONExtractString(events.properties, 'campaign_id')
              ELSE CASE
                WHEN JSONType(events.properties, 'campaign_id') = 'Null'
                THEN NULL
                ELSE JSONExtractRaw(events.properties, 'campaign_id')
              END
            END
          ) IS NULL
        )
      )
      OR (
        events.event = '$AppViewScreen' AND NOT (
          events.utm_campaign IS NULL
        )
      )
    )
), attribution_pairs AS (
  SELECT
    c.conversion_id,
    c.user_id,
    c.conversion_time,
    t.touch,
    t.touch_time
  FROM attribution_conversions AS c
  JOIN attribution_touches AS t
    ON t.user_id = c.user_id
  WHERE
    t.touch_time <= c.conversion_time
    AND (
      t.touch_time + INTERVAL '604800' SECOND
    ) >= c.conversion_time
    AND t.touch_id <> c.conversion_id
), attribution_weights AS (
  SELECT
    *,
    POWER(
      CAST(2 AS Nullable(Float64)),
      -(
        (
          DATE_DIFF(MICROSECOND, touch_time, conversion_time) / 1000000
        ) / 172800
      )
    ) AS weight
  FROM attribution_pairs
), attribution_credit AS (
  SELECT
    conversion_id,
    user_id,
    touch,
    weight / SUM(weight) OVER (PARTITION BY conversion_id) AS credit
  FROM attribution_weights
), attribution_touched AS (
  SELECT DISTINCT
    conversion_id
  FROM attribution_pairs
), unattributed AS (
  SELECT
    c.conversion_id,
    c.user_id
  FROM attribution_conversions AS c
  LEFT JOIN attribution_touched AS p
    ON p.conversion_id = c.conversion_id
  WHERE
    p.conversion_id IS NULL
), attribution_total AS (
  SELECT
    COUNT(*) AS total
  FROM attribution_conversions
)
SELECT
  *
FROM (
  SELECT
    a.touch AS touch,
    COUNT(DISTINCT a.conversion_id) AS conversions,
    CAST(SUM(a.credit) AS Nullable(Float64)) AS credit,
    CAST(SUM(a.credit) AS Nullable(Float64)) / nullIf(MAX(n.total), 0) AS credit_share
  FROM attribution_credit AS a
  CROSS JOIN attribution_total AS n
  WHERE
    a.credit > 0
  GROUP BY
    a.touch
  UNION ALL
  SELECT
    CAST(NULL AS Nullable(String)) AS touch,
    COUNT(*) AS conversions,
    CAST(COUNT(*) AS Nullable(Float64)) AS credit,
    CAST(COUNT(*) AS Nullable(Float64)) / nullIf(MAX(n.total), 0) AS credit_share
  FROM unattributed
  CROSS JOIN attribution_total AS n
  HAVING
    COUNT(*) > 0
) AS attribution_rows
ORDER BY
  CASE WHEN touch IS NULL THEN 1 ELSE 0 END,
  credit DESC,
  touch
SETTINGS join_use_nulls = 1, optimize_distributed_group_by_sharding_key = 1
