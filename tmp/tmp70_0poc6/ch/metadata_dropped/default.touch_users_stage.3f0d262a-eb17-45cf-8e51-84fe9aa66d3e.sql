ATTACH TABLE _ UUID '3f0d262a-eb17-45cf-8e51-84fe9aa66d3e'
(
    `user_id` Nullable(String)
)
ENGINE = MergeTree
ORDER BY tuple()
SETTINGS index_granularity = 8192
