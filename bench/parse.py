"""Parse benchmark: reports/s per input format, and our PDF time vs pdfplumber's own.

    .venv/bin/python bench/parse.py                 # corpus + 3 generated reports per format
    .venv/bin/python bench/parse.py --generated 0   # corpus only
    .venv/bin/python bench/parse.py --ocr           # also scanned PDF and PNG (slow: OCR)

For each format it times ``parsers.parse`` over the files (best of ``--repeat`` runs, one process,
so the figure is per core). While the interpretation layer is not importable it falls back to the
format's extractor and says so. The PDF line compares our parse of each PDF with pdfplumber doing
only ``extract_tables()`` + ``extract_text()`` on every page of the same file (target ≤ 1.3×).
Targets: HTML ≥ 100 reports/s per core. It prints figures only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import io
import random
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from parsers import ParseError, sniff  # noqa: E402
from parsers.limits import DEFAULT_LIMITS  # noqa: E402

CORPUS = ROOT / "tests" / "fixtures" / "corpus" / "documents"
FORMAT_OF_SUFFIX = {".html": "html", ".htm": "html", ".pdf": "pdf", ".txt": "txt/md", ".md": "txt/md",
                    ".docx": "docx", ".doc": "doc/wps", ".wps": "doc/wps", ".xlsx": "xlsx", ".png": "image"}
GENERATED_KINDS = {"html": ".html", "pdf": ".pdf", "docx": ".docx", "txt": ".txt", "md": ".md", "xlsx": ".xlsx"}
OCR_KINDS = {"pdf-scanned": ".pdf", "png": ".png"}

Document = tuple[str, bytes]  # (name, bytes)


def corpus_documents() -> list[Document]:
    return [(path.name, path.read_bytes()) for path in sorted(CORPUS.iterdir()) if path.suffix in FORMAT_OF_SUFFIX]


def generated_documents(count: int, with_ocr: bool) -> list[Document]:
    """Reports made by the document generator (crawler/simulator/docgen), when it is importable."""
    if count <= 0:
        return []
    try:
        from crawler.simulator.docgen import random_spec, render
    except Exception as error:  # the generator is optional here
        print(f"(generator unavailable: {type(error).__name__}: {error})")
        return []
    kinds = dict(GENERATED_KINDS, **(OCR_KINDS if with_ocr else {}))
    documents: list[Document] = []
    rng = random.Random(20240601)
    for number in range(count):
        spec = random_spec(rng)
        for kind, suffix in kinds.items():
            try:
                documents.append((f"generated-{number}-{kind}{suffix}", render(spec, kind)))
            except Exception as error:
                print(f"(cannot generate {kind}: {type(error).__name__}: {error})")
    return documents


def choose_parser() -> tuple[str, Callable[[bytes, str], object]]:
    """``parsers.parse`` when the full pipeline works, else the bare extractor."""
    from parsers import parse
    from parsers.extract import extract

    try:
        parse((CORPUS / "hongzequ_2023.pdf").read_bytes(), name="hongzequ_2023.pdf")
        return "parsers.parse", lambda data, name: parse(data, name=name)
    except Exception as error:
        print(f"(parsers.parse not usable yet: {type(error).__name__}: {error}; timing the extractors)")

    def extract_only(data: bytes, name: str) -> object:
        return extract(data, sniff.sniff(data, name), DEFAULT_LIMITS)

    return "extractor", extract_only


def best_time(function: Callable[[], None], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def pdfplumber_baseline(data: bytes) -> None:
    """What pdfplumber alone does for the same job: tables and text of every page."""
    import pdfplumber

    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for page in pdf.pages:
            page.extract_tables()
            page.extract_text()


def run(documents: list[Document], repeat: int) -> None:
    label, parser = choose_parser()
    by_format: dict[str, list[Document]] = defaultdict(list)
    for name, data in documents:
        fmt = "pdf-scanned" if "pdf-scanned" in name else FORMAT_OF_SUFFIX.get(Path(name).suffix, "other")
        by_format[fmt].append((name, data))
    for name, data in (files[0] for files in by_format.values()):  # warm-up: imports, engines, caches
        try:
            parser(data, name)
        except Exception:
            pass

    print(f"\nreports/s per format ({label}, one process = one core, best of {repeat})")
    print(f"{'format':<12}{'files':>7}{'errors':>8}{'seconds':>10}{'reports/s':>12}")
    for fmt in sorted(by_format):
        files = by_format[fmt]
        errors = 0

        def parse_all() -> None:
            nonlocal errors
            errors = 0
            for name, data in files:
                try:
                    parser(data, name)
                except ParseError:
                    errors += 1
                except Exception:
                    errors += 1

        seconds = best_time(parse_all, 1 if fmt in ("image", "pdf-scanned") else repeat)
        target = "   (target ≥ 100)" if fmt == "html" else ""
        rate = len(files) / seconds
        print(f"{fmt:<12}{len(files):>7}{errors:>8}{seconds:>10.3f}{rate:>12.{1 if rate >= 1 else 3}f}{target}")

    pdfs = by_format.get("pdf", [])
    if not pdfs:
        return
    print(f"\nPDF: ours ({label}) vs pdfplumber extract_tables()+extract_text() on every page (best of {repeat})")
    print(f"{'file':<28}{'pages':>6}{'ours s':>9}{'plumber s':>11}{'ratio':>8}")
    total_ours = total_base = 0.0
    for name, data in pdfs:
        base = ours = float("inf")
        for _ in range(repeat):  # interleaved, so that load from elsewhere hits both alike
            base = min(base, best_time(lambda: pdfplumber_baseline(data), 1))
            ours = min(ours, best_time(lambda: parser(data, name), 1))
        total_ours += ours
        total_base += base
        print(f"{name[:27]:<28}{_pages(data):>6}{ours:>9.3f}{base:>11.3f}{ours / base:>8.2f}")
    print(f"{'all PDFs':<28}{'':>6}{total_ours:>9.3f}{total_base:>11.3f}{total_ours / total_base:>8.2f}   (target ≤ 1.30)")


def _pages(data: bytes) -> int:
    import pypdfium2

    try:
        return len(pypdfium2.PdfDocument(data))
    except Exception:
        return 0


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--generated", type=int, default=3, help="generated reports per format (0: corpus only)")
    options.add_argument("--repeat", type=int, default=3, help="runs per measurement; the best is kept")
    options.add_argument("--ocr", action="store_true", help="also generated scanned PDFs and PNGs (slow)")
    args = options.parse_args()
    documents = corpus_documents() + generated_documents(args.generated, args.ocr)
    run(documents, args.repeat)


if __name__ == "__main__":
    main()
