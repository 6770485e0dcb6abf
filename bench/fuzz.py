"""Mutation fuzzing of the parsers on the real corpus: counts crashes, hangs and clean errors.

    .venv/bin/python bench/fuzz.py                 # 10,000 cases, 2 worker processes
    .venv/bin/python bench/fuzz.py --cases 500 --seed 7 --timeout 20

Each case mutates a real document (bit flips, truncation, deleted/duplicated chunks, injected
magic bytes and hostile markup, digit changes, mutated DOCX/XLSX members, splices of two files)
and parses it with a time budget. Targets: 0 crashes (an exception other than ParseError, or a
dead worker), 0 hangs (over the budget). Clean errors (one-line ParseError) are expected.
Crashing inputs are saved under --save for reproduction with ``xxgk parse``.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from parsers.fuzzing import load_seeds, make_case, quiet_third_party_loggers, run_case  # noqa: E402

SEEDS: dict[str, bytes] = {}


def _init(folder: str, kinds: tuple[str, ...]) -> None:
    quiet_third_party_loggers()
    SEEDS.update({k: v for k, v in load_seeds(Path(folder)).items() if k.endswith(kinds)})


def _run(case_seed: int, timeout: int) -> tuple[int, str, str, str, list[str]]:
    case = make_case(SEEDS, random.Random(case_seed))
    outcome, detail = run_case(case, timeout)
    return case_seed, outcome, detail, case.seed_name, case.operators


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--timeout", type=int, default=20, help="seconds per case before it counts as a hang")
    parser.add_argument("--corpus", default=str(ROOT / "tests" / "fixtures" / "corpus" / "documents"))
    parser.add_argument("--kinds", default=".html,.txt,.md,.pdf,.docx",
                        help="seed file endings (DOC/WPS/images are slow: LibreOffice/OCR per case)")
    parser.add_argument("--save", default=str(ROOT / "test-artifacts" / "fuzz"))
    args = parser.parse_args()
    kinds = tuple(args.kinds.split(","))

    counts: Counter[str] = Counter()
    by_seed: dict[str, Counter[str]] = {}
    findings: list[tuple[int, str, str, str, list[str]]] = []
    started = time.perf_counter()
    case_seeds = [args.seed * 1_000_003 + i for i in range(args.cases)]
    pending = list(case_seeds)
    while pending:
        batch, pending = pending, []
        # no max_tasks_per_child: with an initializer it deadlocks CPython 3.11's pool when a worker retires
        with ProcessPoolExecutor(args.workers, initializer=_init, initargs=(args.corpus, kinds)) as pool:
            futures = {pool.submit(_run, s, args.timeout): s for s in batch}
            for future, case_seed in futures.items():
                try:
                    result = future.result()
                except BrokenProcessPool:
                    result = (case_seed, "crash", "worker process died", "?", [])
                counts[result[1]] += 1
                by_seed.setdefault(result[3], Counter())[result[1]] += 1
                if result[1] in ("crash", "hang"):
                    findings.append(result)
                done = sum(counts.values())
                if done % 500 == 0:
                    print(f"  {done:>6} cases  {dict(counts)}  {time.perf_counter() - started:.0f}s", flush=True)
    elapsed = time.perf_counter() - started
    save_findings(findings, Path(args.save), args.corpus, kinds)
    print(f"\nfuzz: {args.cases} cases in {elapsed:.0f}s ({args.cases / elapsed:.1f} cases/s, "
          f"{args.workers} workers, budget {args.timeout}s/case)")
    print(f"  ok (parsed)         {counts['ok']:>6}")
    print(f"  clean errors        {counts['error']:>6}")
    print(f"  crashes             {counts['crash']:>6}   (target 0)")
    print(f"  hangs               {counts['hang']:>6}   (target 0)")
    print("  per seed document:")
    for name, c in sorted(by_seed.items()):
        print(f"    {name:32} ok {c['ok']:>5}  error {c['error']:>5}  crash {c['crash']:>3}  hang {c['hang']:>3}")
    for case_seed, outcome, detail, name, ops in findings[:20]:
        print(f"  {outcome}: case {case_seed} seed {name} ops {ops}: {detail[:300]}")
    return 0


def save_findings(findings, folder: Path, corpus: str, kinds: tuple[str, ...]) -> None:
    if not findings:
        return
    folder.mkdir(parents=True, exist_ok=True)
    seeds = {k: v for k, v in load_seeds(Path(corpus)).items() if k.endswith(kinds)}
    for case_seed, outcome, _, name, _ in findings:
        case = make_case(seeds, random.Random(case_seed))
        (folder / f"{outcome}-{case_seed}-{name}").write_bytes(case.data)
    print(f"  inputs saved under {folder}")


if __name__ == "__main__":
    sys.exit(main())
