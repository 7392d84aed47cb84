WITH path_rows AS (
  SELECT
    events.user_id AS user_id,
    events.event_time AS event_time,
    events.event_id AS event_id,
    CASE
      WHEN events.event IN ('$AppViewScreen', '$pageview') AND NOT (
        events.page IS NULL
      )
      THEN CONCAT('page:', events.page)
      WHEN events.event IN ('$AppClick', '$WebClick') AND NOT (
        events.element IS NULL
      )
      THEN CONCAT('click:', events.element)
      ELSE events.event
    END AS node,
    CASE
      WHEN events.event = 'bind_card' AND (
        NOT events.is_success
      )
      THEN 1
      ELSE 0
    END AS is_anchor
  FROM events
  WHERE
    NOT (
      events.user_id IS NULL
    )
    AND NOT (
      events.event IS NULL
    )
    AND events.event_time >= CAST('2026-03-01 00:00:00' AS Nullable(DateTime))
    AND events.event_time < CAST('2026-04-01 00:00:00' AS Nullable(DateTime))
), path_marks AS (
  SELECT
    *,
    lag(event_time) OVER (PARTITION BY user_id ORDER BY event_time, event_id) AS previous_time,
    lag(node) OVER (PARTITION BY user_id ORDER BY event_time, event_id) AS previous_node
  FROM path_rows
), path_flagged AS (
  SELECT
    user_id,
    event_time,
    event_id,
    node,
    is_anchor,
    CASE
      WHEN previous_time IS NULL
      OR event_time > (
        previous_time + INTERVAL '1800' SECOND
      )
      THEN 1
      ELSE 0
    END AS is_session_start,
    CASE
      WHEN (
        previous_time IS NULL
        OR event_time > (
          previous_time + INTERVAL '1800' SECOND
        )
      )
      OR previous_node <> node
      THEN 1
      ELSE 0
    END AS is_new_node
  FROM path_marks
), path_numbered AS (
  SELECT
    *,
    SUM(is_session_start) OVER (
      PARTITION BY user_id
      ORDER BY event_time, event_id
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS session_number,
    SUM(is_new_node) OVER (
      PARTITION BY user_id
      ORDER BY event_time, event_id
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS "position"
  FROM path_flagged
), path_anchors AS (
  SELECT
    n.user_id AS user_id,
    n.session_number AS session_number,
    MIN(n."position") AS anchor
  FROM path_numbered AS n
  WHERE
    n.is_anchor = 1
    AND n.event_time >= CAST('2026-03-01 00:00:00' AS Nullable(DateTime))
    AND n.event_time < CAST('2026-04-01 00:00:00' AS Nullable(DateTime))
  GROUP BY
    1,
    2
), path_nodes AS (
  SELECT
    n.user_id AS user_id,
    n.session_number AS session_number,
    n."position" - a.anchor + 1 AS step_index,
    n.node AS node
  FROM path_numbered AS n
  JOIN path_anchors AS a
    ON a.user_id = n.user_id AND a.session_number = n.session_number
  WHERE
    n.is_new_node = 1
    AND (
      n."position" - a.anchor
    ) >= 0
    AND (
      n."position" - a.anchor
    ) < 5
), path_ranked AS (
  SELECT
    step_index,
    node,
    ROW_NUMBER() OVER (PARTITION BY step_index ORDER BY COUNT(DISTINCT user_id) DESC, node) AS node_rank
  FROM path_nodes
  GROUP BY
    step_index,
    node
), path_named AS (
  SELECT
    p.user_id,
    p.session_number,
    p.step_index,
    CASE WHEN r.node_rank <= 10 THEN p.node ELSE 'other' END AS node
  FROM path_nodes AS p
  JOIN path_ranked AS r
    ON r.step_index = p.step_index AND r.node = p.node
), path_flows AS (
  SELECT
    s.step_index AS step,
    s.node AS source,
    t.node AS target,
    s.user_id AS user_id
  FROM path_named AS s
  LEFT JOIN path_named AS t
    ON t.user_id = s.user_id
    AND t.session_number = s.session_number
    AND t.step_index = (
      s.step_index + 1
    )
  WHERE
    s.step_index < 5
)
SELECT
  step,
  source,
  target,
  COUNT(DISTINCT user_id) AS users
FROM path_flows
GROUP BY
  1,
  2,
  3
ORDER BY
  step,
  users DESC,
  source,
  target
SETTINGS join_use_nulls = 1, optimize_distributed_group_by_sharding_key = 1
