"""`fabmesh check`: is everything this machine needs reachable and consistent?"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import click

from pynode.chain.client import Chain
from pynode.chain.rpc import request
from pynode.cli.context import CliContext, pass_ctx
from pynode.core.address import to_checksum_address
from pynode.core.errors import FabmeshError
from pynode.core.units import ETH, format_amount
from pynode.ipfs.client import IpfsClient

if TYPE_CHECKING:
    from pynode.chain.v2.client import ChainV2


def _run(name: str, probe: Callable[[], str]) -> dict:
    try:
        return {"check": name, "ok": True, "detail": probe()}
    except FabmeshError as exc:
        return {"check": name, "ok": False, "detail": str(exc)}
    except Exception as exc:  # noqa: BLE001 - a check reports, it does not crash: any failure is the finding
        return {"check": name, "ok": False, "detail": f"{type(exc).__name__}: {exc}"}


@click.command()
@pass_ctx
def check(ctx: CliContext) -> None:
    """Check the RPC endpoint, chain id, contract code, Kubo and the account's balance.

    On protocol 2 (the default) the v2 record and its contracts' code; with --protocol 1 v1's."""
    settings = ctx.settings
    results = []
    chain: dict[str, Chain | ChainV2] = {}

    def rpc() -> str:
        if settings.protocol == 2:
            from pynode.chain.v2.client import ChainV2  # eth_abi's words: only a v2 check reads them

            chain["c"] = ChainV2.connect(settings)
        else:
            chain["c"] = Chain.connect(settings)
        return f"{settings.rpc_url}: chain {chain['c'].chain_id}, deployment {chain['c'].deployment.source}"

    results.append(_run("rpc + deployment", rpc))
    if "c" in chain:
        c = chain["c"]
        for name in c.deployment.contracts:  # v1: PartnerRegistry, OrderBook; v2 also the manager and panel
            address = c.deployment[name].address

            def code(address: str = address) -> str:
                if request(c.rpc, "eth_getCode", [address, "latest"]) in ("0x", "", None):
                    raise FabmeshError(f"no contract code at {address}")
                return address

            results.append(_run(f"{name} code", code))

    def ipfs() -> str:
        with IpfsClient(settings.ipfs_api, timeout=10) as client:
            return f"{settings.ipfs_api}: Kubo {client.version()}"

    results.append(_run("ipfs", ipfs))
    if settings.account and "c" in chain:
        account = settings.account

        def balance() -> str:
            address = to_checksum_address(ctx.keystore.get(account).address)
            wei = int(request(chain["c"].rpc, "eth_getBalance", [address, "latest"]), 16)
            return f"{address}: {format_amount(wei, ETH)}"

        results.append(_run("account balance", balance))
    ok = all(r["ok"] for r in results)
    ctx.emit({"ok": ok, "checks": results},
             "\n".join(f"{'✓' if r['ok'] else '✗'} {r['check']}: {r['detail']}" for r in results))
    if not ok:
        raise SystemExit(1)
