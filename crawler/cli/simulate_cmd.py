"""``xxgk simulate``: run the portal simulator in the foreground (tests, demos, manual crawls)."""

from __future__ import annotations

from typing import Optional

import click


@click.command()
@click.option("--profile", type=click.Choice(["small", "all", "bench"]), default="all", show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--docs", type=int, default=None, help="Total listed items (rescales every site).")
@click.option("--port-base", type=int, default=None, help="Site i listens on PORT_BASE + i (default: free ports).")
@click.option("--site", "sites", multiple=True, help="Only these sites (repeatable).")
@click.option("--registry-out", type=click.Path(dir_okay=False), default=None,
              help="Write the registry entries (JSON) for the crawler here.")
@click.option("--latency", type=click.FloatRange(min=0), default=0.0, show_default=True,
              help="Milliseconds every reply waits, as a remote portal's does.")
def simulate(profile: str, seed: int, docs: Optional[int], port_base: Optional[int], sites: tuple[str, ...],
             registry_out: Optional[str], latency: float) -> None:
    """Serve simulated government portals on 127.0.0.1 and print their URLs."""
    from crawler.simulator.cli import serve_forever
    try:
        serve_forever(seed, profile, docs, port_base, list(sites) or None, registry_out, echo=click.echo,
                      latency=latency / 1000)
    except (ValueError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
