"""Run the simulator in the foreground and print its sites (shared by ``python -m`` and ``xxgk``)."""

from __future__ import annotations

import json
import signal
import threading
from typing import Optional

from .simulator import Simulator


def serve_forever(seed: int, profile: str, docs: Optional[int], port_base: Optional[int],
                  sites: Optional[list[str]] = None, registry_out: Optional[str] = None,
                  echo=print, latency: float = 0.0) -> None:
    """Start, print one line per site (URL, archetype, blocked), then wait for Ctrl-C."""
    sim = Simulator(seed=seed, profile=profile, sites=sites or None, docs=docs, port_base=port_base,
                    latency=latency)
    sim.start()
    try:
        blocked = sim.blocked_sites()
        for site in sim.sites:
            start = site.columns[0].start_path if site.columns else "/"
            note = f"  BLOCKED: {blocked[site.name]}" if site.name in blocked else ""
            echo(f"{site.name:16} {site.archetype:18} {site.url(start)}{note}")
        echo(f"{len(sim.expected_reports())} reports expected; Host-header virtual hosts: <site>.sim.test "
             "on any port above. Ctrl-C stops.")
        if registry_out:
            with open(registry_out, "w", encoding="utf-8") as handle:
                json.dump(sim.registry_entries(), handle, ensure_ascii=False, indent=1)
            echo(f"registry entries written to {registry_out}")
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            stop.wait()
        except KeyboardInterrupt:
            pass
    finally:
        sim.stop()
