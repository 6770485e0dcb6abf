"""``python -m crawler.simulator [--profile all] [--port-base 8800] [--docs N] [--seed S]``."""

from __future__ import annotations

import argparse

from .cli import serve_forever


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m crawler.simulator", description=__doc__)
    parser.add_argument("--profile", default="all", choices=["small", "all", "bench"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--docs", type=int, default=None, help="total listed items (rescales the sites)")
    parser.add_argument("--port-base", type=int, default=None, help="site i listens on port-base + i")
    parser.add_argument("--site", action="append", default=None, help="only this site (repeatable)")
    parser.add_argument("--registry-out", default=None, help="write registry entries as JSON here")
    args = parser.parse_args()
    serve_forever(args.seed, args.profile, args.docs, args.port_base, args.site, args.registry_out)


if __name__ == "__main__":
    main()
