"""The demo's three shops: what each offers, how it prices a quote ([quote] in its node.toml) and its shop floor.

The FDM print farm runs two virtual OctoPrint printers (each a real OctoPrint server), the CNC shop a machine
behind OPC UA (the asyncua model of pynode.dev.opcua_machine), the laser shop the simulated floor. All three
print FDM parts too, so all three quote the demo's FDM order; only their own process's orders go to the rest.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pynode.dev.octoprint import OctoprintServer
from pynode.dev.opcua_machine import MachineServer

ETH = "0x0000000000000000000000000000000000000000"
HOUR, DAY = 3600, 86400
MACHINE_JOB_S = 2.0  # the OPC UA machine's cycle: a demo-sized program


@dataclass(frozen=True)
class Shop:
    org: str
    account: str  # role name in pynode.dev.accounts
    processes: str
    materials: str
    region: str
    rate_per_hour: int  # wei
    margin_bps: int
    min_lead_time_s: int
    rates: dict[str, dict[str, int]]  # [quote.processes.<process>]


SHOPS = [
    Shop("fdm-farm", "maker", "FDM", "PLA,PETG", "u33d", 2 * 10**15, 1500, 1 * DAY,
         {"fdm": {"setup_s": 600, "gcode_time_bps": 10_000}}),
    Shop("cnc-shop", "maker2", "CNC_MILLING,FDM", "AL_6061,PLA", "u0yj", 8 * 10**15, 2000, 3 * DAY,
         {"cnc-milling": {"setup_s": 900, "part_s": 1200}, "fdm": {"setup_s": 600, "part_s": 2400}}),
    Shop("laser-shop", "account9", "LASER_CUTTING,FDM", "SS_316,PLA", "gcpv", 4 * 10**15, 2500, 2 * DAY,
         {"laser-cutting": {"setup_s": 300, "cut_mm_per_min": 2000}, "fdm": {"setup_s": 600, "part_s": 1800}}),
]


def quote_table(shop: Shop) -> dict[str, Any]:
    """[quote]: ETH prices from the spec's published geometry, one day of queue per job in flight."""
    materials = {m.strip().lower().replace("_", "-"): 10**13 for m in shop.materials.split(",")}
    return {"margin_bps": shop.margin_bps, "validity_s": 2 * HOUR, "min_lead_time_s": shop.min_lead_time_s,
            "queue_s_per_job": 4 * HOUR, "processes": shop.rates,
            "tokens": {ETH: {"machine_rate_per_hour": shop.rate_per_hour, "material_per_part": materials}}}


class ShopFloors:
    """The shop floors the daemons drive: started before the daemons, stopped after them."""

    def __init__(self, root: Path) -> None:
        self.printers = [OctoprintServer(root / f"octoprint-{i}", name=f"mk4-{i}") for i in (1, 2)]
        self.machine = MachineServer(job_s=MACHINE_JOB_S)

    def start(self) -> ShopFloors:
        """Starts the machine (an in-process asyncua server) beside the printers; all or none. OctoPrint starts on
        this thread: a dev process dies with the thread that started it (PR_SET_PDEATHSIG)."""
        logging.getLogger("asyncua").setLevel(logging.ERROR)  # its notes on unsigned dev sessions
        with ThreadPoolExecutor(1) as pool:
            machine = pool.submit(self.machine.start)
            try:
                for printer in self.printers:
                    printer.start()
                machine.result()
            except BaseException:
                machine.exception()  # stopped only once it has started
                self.stop()
                raise
        return self

    def stop(self) -> None:
        for printer in self.printers:
            printer.stop()
        self.machine.close()

    def production(self, shop: Shop) -> dict[str, Any]:
        """The shop's [production] table."""
        if shop.org == "fdm-farm":
            return {"adapter": "octoprint", "start_grace_s": 10.0,
                    "printers": [{"name": p.name, "url": p.url, "api_key_file": str(p.api_key_file)}
                                 for p in self.printers]}
        if shop.org == "cnc-shop":
            return {"adapter": "opcua", "endpoint": self.machine.endpoint}
        return {"adapter": "simulated", "duration_s": 1.0, "defect_rate": 0.0}
