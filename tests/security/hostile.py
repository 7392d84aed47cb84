"""What an attacker types, and how the tests tell that it reached nothing.

Each hostile input is a template: ``{canary}`` is the path of a file whose
secret content must never appear in any output, ``{out}`` a path that must
never be written. :class:`Scene` holds both, and checks a warehouse for
changes by a checksum of every table's rows (and the list of tables).
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from connectors import Warehouse

SPLICE = 'CAST(platform AS "{type}) IS NULL OR {payload} OR CAST(platform AS {type}") IS NULL'

# name -> filter text; every one must be refused in one line wherever a person's filter is read
FILTERS: dict[str, str] = {
    "cast_type_splice_reads_a_file": SPLICE.format(
        type="main.varchar", payload="CAST((SELECT content FROM read_text('{canary}')) AS INT) = 1"
    ),
    "cast_type_splice_stacks_a_copy": SPLICE.format(
        type="main.varchar", payload="1=1) SELECT 1; COPY (SELECT * FROM users) TO '{out}'; SELECT (1"
    ),
    "cast_type_splice_begins_read_write": SPLICE.format(
        type="pg_catalog.varchar",
        payload="1=1; COMMIT; BEGIN READ WRITE; CREATE TABLE pwned AS SELECT * FROM users; COMMIT; SELECT 1",
    ),
    "cast_type_splice_globs_root": SPLICE.format(
        type="main.varchar", payload="(SELECT count(*) FROM glob('/root/*')) > 0"
    ),
    "subquery_reads_a_file": "platform IN (SELECT content FROM read_text('{canary}'))",
    "from_first_subquery": "platform = (FROM read_text('{canary}'))",
    "scalar_subquery": "platform = (SELECT max(user_id) FROM users)",
    "exists_subquery": "EXISTS (SELECT 1 FROM users)",
    "stacked_drop": "platform = 'x'; DROP TABLE users",
    "union": "platform = 'x' UNION SELECT content FROM read_text('{canary}')",
    "pg_read_file": "pg_read_file('{canary}') IS NOT NULL",
    "pg_ls_dir": "pg_ls_dir('.') IS NOT NULL",
    "lo_export": "lo_export(lo_from_bytea(0, 'x'), '{out}') > 0",
    "set_config": "set_config('default_transaction_read_only', 'off', false) = 'off'",
    "pg_sleep": "pg_sleep(5) IS NULL",
    "clickhouse_file": "file('{canary}', 'LineAsString') IS NOT NULL",
    "clickhouse_url": "url('http://127.0.0.1:9/x', 'CSV') IS NOT NULL",
    "get_setting": "getSetting('readonly') = 0",
    "current_setting": "current_setting('memory_limit') = 'x'",
    "getenv": "getenv('HOME') = '/root'",
    "read_text_call": "read_text('{canary}') IS NOT NULL",
    "escape_string_breaks_trino": "platform = e'a\\' OR 1=1 --'",
    "dollar_string": "platform = $$x$$",
    "byte_string": "platform = b'x'",
    "unicode_string": "platform = U&'x'",
    "placeholder": "platform = $1",
    "named_placeholder": "platform = :name",
    "quoted_identifier_breakout": '"platform"" OR 1=1 --" = \'x\'',
    "qualified_other_table": "users.user_id = 'x'",
    "catalog_qualified": "information_schema.tables.table_name = 'x'",
    "struct_literal": "platform = {{'a': 1}}",
    "lambda": "list_filter([platform], x -> x = 'x') IS NOT NULL",
    "columns_star": "COLUMNS('.*') = 'x'",
    "getvariable": "getvariable('x') = platform",
    "user_defined_type": "CAST(platform AS pwned_type) IS NULL",
    "quoted_type": 'CAST(platform AS "varchar") IS NULL',
    "interval_arithmetic": "platform = INTERVAL 1 DAY",
    "collate": "platform = 'x' COLLATE nocase",
    "bracket": "platform[1] = 'x'",
    "nul_character": "platform = 'x\x00' OR 1=1",
    "deep_parentheses": "(" * 50 + "platform = 'x'" + ")" * 50,
    "many_nots": "NOT " * 150 + "platform = 'x'",
    "many_minus": "-" * 200 + "1 = 1",
    "huge_in_list": "platform IN (" + ", ".join(f"'{i}'" for i in range(2000)) + ")",
    "huge_text": "platform = '" + "x" * 10_000 + "'",
    "not_a_condition": "platform",
    "aggregate": "count(*) > 0",
    "window": "row_number() OVER () = 1",
    # a second, independent attacker's corpus found these; each is now refused
    "struct_colon_crash": "platform = {{:1}}",
    "like_backslash_means_different_rows": "platform LIKE 'a\\%'",
    "is_a_value": "platform IS 'x'",
    "half_a_number": "platform = 1e",
    "try_cast_differs_by_engine": "TRY_CAST(platform AS INT) = 1",
    "table_to_xml_reads_a_table": "table_to_xml('users', true, false, '') IS NOT NULL",
    "ts_rewrite_runs_sql": "ts_rewrite(to_tsquery('x'), 'SELECT 1') IS NULL",
    "has_column_in_table": "hasColumnInTable('default', 'users', 'user_id') = 1",
    "nextval_writes": "nextval('s') > 0",
}


@dataclass
class Scene:
    """A canary file to keep secret and a folder to keep empty, for one test."""

    root: Path

    def __post_init__(self) -> None:
        self.secret = f"CANARY-{uuid.uuid4().hex}"
        self.canary = self.root / "canary.txt"
        self.canary.write_text(self.secret + "\n")
        self.out = self.root / "written" / "out.csv"
        self.out.parent.mkdir()

    def fill(self, template: str) -> str:
        return (
            template.replace("{canary}", str(self.canary))
            .replace("{out}", str(self.out))
            .replace("{{", "{")
            .replace("}}", "}")
        )

    def assert_untouched(self, *outputs: str) -> None:
        """The secret appears in no output and nothing was written next to the canary or in the working folder."""
        for output in outputs:
            assert self.secret not in output
        assert list(self.out.parent.iterdir()) == []
        assert not Path("out.csv").exists() and not Path(os.getcwd(), "pwned").exists()


def checksum(warehouse: Warehouse, tables: Iterable[str] = ("events", "users")) -> str:
    """A digest of every row of ``tables``, in a fixed order, plus the names of the tables that exist."""
    digest = hashlib.sha256()
    for table in tables:
        rows = warehouse.query(f"SELECT * FROM {table}").rows
        for row in sorted(repr(r) for r in rows):
            digest.update(row.encode())
    digest.update(repr(sorted(table_names(warehouse))).encode())
    return digest.hexdigest()


def table_names(warehouse: Warehouse) -> list[str]:
    if warehouse.dialect == "clickhouse":
        sql = "SELECT name FROM system.tables WHERE database = currentDatabase()"
    elif warehouse.dialect == "postgres":
        sql = "SELECT table_name FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
    else:
        sql = "SELECT table_name FROM information_schema.tables"
    return [row[0] for row in warehouse.query(sql).rows]


def one_line_error(text: str) -> bool:
    """A refusal the way finlens writes it: one line on stderr, no traceback."""
    return text.count("\n") == 1 and text.startswith("finlens: error: ") and "Traceback" not in text
