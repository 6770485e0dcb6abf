"""``python -m crawler.cli`` = ``xxgk``."""

from crawler.cli import main

main()
