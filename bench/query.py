"""Look-up and export speed on a big database: 10,000 reports, about 2 million values.

    .venv/bin/python bench/query.py [--reports 10000] [--keys 200] [--db /tmp/xxgk-bench.sqlite]

The database is built quickly by bulk-inserting generated rows (no parsing), with the schema of
the current migrations. Then it times one agency's full history (``xxgk history``; target
< 50 ms), one report's detail (``xxgk report``), an agency search, the coverage matrix, and the
export throughput per format. It prints figures; it asserts nothing.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

YEARS = (2019, 2020, 2021, 2022, 2023)


def build(db_file: Path, reports: int, keys_per_report: int, seed: int = 1) -> dict[str, int]:
    """Schema through Alembic, then rows through executemany in one transaction."""
    from crawler.db.session import dispose_engine, open_database
    from crawler.simulator.docgen import random_values

    db_file.unlink(missing_ok=True)
    url = f"sqlite:///{db_file}"
    open_database(url)
    dispose_engine(url)
    rng = random.Random(seed)
    keys = list(random_values("F2021", rng))[:keys_per_report]
    agencies = max(1, reports // len(YEARS))
    connection = sqlite3.connect(db_file)
    connection.execute("PRAGMA synchronous=OFF")
    connection.execute("PRAGMA journal_mode=WAL")
    with connection:
        connection.executemany(
            "insert into agencies (id, name, aliases, level, division_code) values (?, ?, '[]', 'county', ?)",
            [(a, f"测试市第{a}区人民政府", f"{110000 + a:06d}") for a in range(1, agencies + 1)])
        report_rows, document_rows, value_rows, check_rows = [], [], [], []
        report_id = 0
        for agency in range(1, agencies + 1):
            for year in YEARS:
                report_id += 1
                if report_id > reports:
                    break
                sha = f"{report_id:064x}"
                document_rows.append((report_id, sha, 100_000, "application/pdf", "2026-01-01 00:00:00", "done", 1))
                report_rows.append((report_id, agency, year, f"测试市第{agency}区人民政府{year}年政府信息公开工作年度报告",
                                    "F2021", report_id, 1, "bench", "ok", f"http://bench.test/{report_id}.pdf",
                                    1, 0, "{}", "2026-01-01 00:00:00"))
                for key in keys:
                    number = rng.randint(0, 500)
                    value_rows.append((report_id, key, str(number), float(number), str(number), 3, 2, "row", "col"))
                for check in ("B1", "B2", "B3", "C1", "X1", "X2"):
                    check_rows.append((report_id, check, "total", "pass" if rng.random() > 0.05 else "fail", "1", "1"))
        connection.executemany("insert into documents (id, sha256, size, media_type, first_seen, parse_status, attempts) "
                               "values (?, ?, ?, ?, ?, ?, ?)", document_rows)
        connection.executemany(
            "insert into reports (id, agency_id, year, title, format, document_id, version, parser_version, status, "
            "source_url, is_current, changed_after_publication, details, stored_at) "
            "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", report_rows)
        connection.executemany(
            "insert into report_values (report_id, key, value_text, value_num, raw, page, table_index, row_label, col_label) "
            "values (?, ?, ?, ?, ?, ?, ?, ?, ?)", value_rows)
        connection.executemany("insert into check_results (report_id, check_id, scope, status, expected, actual) "
                               "values (?, ?, ?, ?, ?, ?)", check_rows)
    connection.execute("ANALYZE")
    connection.close()
    return {"agencies": agencies, "reports": len(report_rows), "values": len(value_rows)}


def timed(function, repeat: int) -> list[float]:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=10_000)
    parser.add_argument("--keys", type=int, default=200, help="values per report")
    parser.add_argument("--db", type=Path, default=Path(tempfile.gettempdir()) / "xxgk-bench-query.sqlite")
    args = parser.parse_args()

    from crawler.export import ExportFilter, export
    from crawler.lookup import agency_history, coverage, open_readonly, report_detail, search_agencies

    start = time.perf_counter()
    sizes = build(args.db, args.reports, args.keys)
    print(f"built {args.db}: {sizes['agencies']:,} agencies, {sizes['reports']:,} reports, "
          f"{sizes['values']:,} values in {time.perf_counter() - start:.1f} s "
          f"({args.db.stat().st_size / 1e6:.0f} MB)")

    session = open_readonly(f"sqlite:///{args.db}")()
    rng = random.Random(2)
    names = [f"测试市第{rng.randint(1, sizes['agencies'])}区人民政府" for _ in range(30)]
    history = timed(lambda: agency_history(session, names.pop()), 30)
    print(f"history of one agency (5 years, key figures, X1/X2): median {statistics.median(history):.1f} ms, "
          f"max {max(history):.1f} ms (target < 50 ms)")
    names = [f"测试市第{rng.randint(1, sizes['agencies'])}区人民政府" for _ in range(20)]
    detail = timed(lambda: report_detail(session, names.pop(), 2021), 20)
    print(f"one report's detail (200 values, tables, checks, provenance): median {statistics.median(detail):.1f} ms")
    search = timed(lambda: search_agencies(session, "第1234区"), 5)
    print(f"fuzzy agency search over {sizes['agencies']:,} agencies: median {statistics.median(search):.0f} ms")
    matrix = timed(lambda: coverage(session), 1)
    print(f"coverage matrix ({sizes['agencies']:,} agencies × {len(YEARS)} years): {matrix[0]:.0f} ms")

    out_dir = Path(tempfile.mkdtemp(prefix="xxgk-bench-export-"))
    subset = ExportFilter(years=(2021,))
    for fmt, shape in (("csv", "long"), ("parquet", "long"), ("jsonl", "wide"), ("csv", "wide"), ("xlsx", "wide")):
        target = out_dir / f"export.{shape}.{fmt}"
        start = time.perf_counter()
        result = export(session, fmt, shape, target, subset)
        seconds = time.perf_counter() - start
        values = result.reports * args.keys
        print(f"export {fmt:7} {shape:4}: {result.reports:,} reports, {result.rows:,} rows in {seconds:.1f} s = "
              f"{result.reports / seconds:,.0f} reports/s, {values / seconds:,.0f} values/s "
              f"({target.stat().st_size / 1e6:.1f} MB)")
    session.close()


if __name__ == "__main__":
    main()
