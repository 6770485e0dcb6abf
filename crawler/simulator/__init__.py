"""The portal simulator: many simulated Chinese government portals in one local HTTP server.

It reproduces the six platform archetypes of ``research/portals.md`` §7 (TRS static, Hanweb JCMS,
gkmlpt, POST JSON APIs, messy county portals, WAF-guarded sites), populated from a seed with
generated reports in every format plus the real corpus documents, and exposes the ground truth
(which reports a crawler must find, which sites it must record as blocked) and a log of every
request it received. See ``docs/simulator.md``.

    from crawler.simulator import Simulator
    with Simulator(seed=7, profile="small") as sim:
        print(sim.registry_entries()[0]["start_url"])
"""

from .simulator import Simulator

__all__ = ["Simulator"]
