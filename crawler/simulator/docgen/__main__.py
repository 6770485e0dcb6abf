"""`python -m crawler.simulator.docgen OUT_DIR --n 20 --seed 1 [--kinds pdf,docx]`: a sample set."""

from __future__ import annotations

import argparse
import sys

from . import KINDS, generate_corpus


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crawler.simulator.docgen",
                                     description="Write generated annual reports and their ground truth.")
    parser.add_argument("out_dir")
    parser.add_argument("--n", type=int, default=20, help="number of reports (default 20)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--kinds", default="html,html-gbk,docx,xlsx,pdf,txt,md",
                        help=f"comma-separated kinds among {','.join(KINDS)}")
    args = parser.parse_args(argv)
    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        print(f"error: unknown kind(s) {', '.join(unknown)}; choose from {', '.join(KINDS)}", file=sys.stderr)
        return 2
    truths = generate_corpus(args.out_dir, args.n, args.seed, kinds=kinds)
    print(f"wrote {len(truths)} reports x {len(kinds)} kinds to {args.out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
