"""A real Kubo (IPFS) daemon with a throw-away repo on 127.0.0.1."""

from __future__ import annotations

import json
import os
import subprocess
import time
from contextlib import ExitStack
from pathlib import Path

from pynode.core.errors import FatalError
from pynode.dev.net import LOOPBACK, held_port, post_json
from pynode.dev.paths import KUBO_NODE_CONFIG, ipfs_bin
from pynode.dev.process import ManagedProcess


def _apply_overrides(config: dict, overrides: dict) -> None:
    """Sets dotted keys ("Swarm.RelayClient.Enabled") in Kubo's nested config."""
    for dotted, value in overrides.items():
        if dotted.startswith("_"):
            continue
        *parents, leaf = dotted.split(".")
        node = config
        for key in parents:
            if node.get(key) is None:  # Kubo writes absent sections as null
                node[key] = {}
            node = node[key]
        node[leaf] = value


class KuboNode:
    """One organization's IPFS node.

    The repo starts from Kubo's `test` profile (loopback addresses, no
    bootstrap peers, no MDNS) plus ipfs/node-config.json (no DHT, relays or
    telemetry). Ports are chosen by the OS and read back from the repo's
    `api` and `gateway` files, so nothing races for a port.
    """

    def __init__(self, repo: Path, name: str = "kubo", *, detached: bool = False) -> None:
        self.name = name
        self.repo = repo
        self.env = {**os.environ, "IPFS_PATH": str(repo), "IPFS_TELEMETRY": "off"}
        self.process = ManagedProcess(name, [ipfs_bin(), "daemon"], repo.parent / f"{name}.log",
                                      env=self.env, detached=detached)

    def ipfs(self, *args: str, input: bytes | None = None, timeout: float = 60.0) -> bytes:  # noqa: A002 - subprocess.run's keyword, passed on
        """Runs Kubo's own CLI against this node's repo (and so its daemon)."""
        result = subprocess.run([str(ipfs_bin()), *args], env=self.env, input=input,
                                capture_output=True, timeout=timeout)
        if result.returncode != 0:
            raise FatalError(f"ipfs {' '.join(args)}: {result.stderr.decode().strip()}")
        return result.stdout

    def init(self) -> None:
        if (self.repo / "config").exists():
            return
        self.repo.mkdir(parents=True, exist_ok=True)
        self.ipfs("init", "--profile", "test", "--empty-repo")
        config_path = self.repo / "config"
        config = json.loads(config_path.read_text())
        _apply_overrides(config, json.loads(KUBO_NODE_CONFIG.read_text()))
        config_path.write_text(json.dumps(config, indent=2))

    def _address_file(self, name: str) -> str:
        return (self.repo / name).read_text().strip()

    @property
    def api_multiaddr(self) -> str:
        return self._address_file("api")

    @property
    def api_url(self) -> str:
        _, _, host, _, port = self.api_multiaddr.split("/")[:5]
        return f"http://{host}:{port}"

    @property
    def gateway_url(self) -> str:
        return self._address_file("gateway")

    def identity(self) -> dict:
        return post_json(f"{self.api_url}/api/v0/id")

    def swarm_addresses(self) -> list[str]:
        """Full multiaddrs (with /p2p/ID) other local nodes can dial."""
        ident = self.identity()
        return [a for a in ident["Addresses"] or [] if f"/ip4/{LOOPBACK}/" in a]

    def connect(self, other: KuboNode) -> None:
        for address in other.swarm_addresses():
            post_json(f"{self.api_url}/api/v0/swarm/connect?arg={address}")

    def peer(self, other: KuboNode) -> None:
        """Connects to ``other`` and keeps it connected: Kubo's peering service redials it with backoff
        after either side restarts (a plain swarm connect is never redialled: no DHT, no bootstrap here)."""
        addresses = other.swarm_addresses()
        for address in addresses:
            post_json(f"{self.api_url}/api/v0/swarm/peering/add?arg={address}")
        # and in the repo's config, so a restarted daemon dials it the moment it starts
        peers = json.loads(self.ipfs("config", "Peering.Peers") or b"null") or []
        peers.append({"ID": other.identity()["ID"], "Addrs": [a.split("/p2p/")[0] for a in addresses]})
        self.ipfs("config", "--json", "Peering.Peers", json.dumps(peers))
        self.connect(other)

    def _ready(self) -> bool:
        if not (self.repo / "api").exists():
            return False
        return bool(self.identity().get("ID"))

    def start(self, timeout: float = 60.0) -> KuboNode:
        self.init()
        # A stale api file from a killed daemon would point the probe at a dead port.
        (self.repo / "api").unlink(missing_ok=True)
        self.process.start()
        self.process.wait_ready(self._ready, timeout)
        return self

    def stop(self) -> None:
        self.process.stop(timeout=20.0)

    def restart(self, down_s: float = 0.0) -> None:
        """Stops the daemon for `down_s` and starts it again on the same API and swarm ports, so clients
        keep their URL and peers their address (Kubo would otherwise take new OS-chosen ports).

        The ports are held while it is down (clients are refused, the OS hands them to no other socket) and
        until it listens again: Go's listeners set SO_REUSEADDR, so Kubo binds beside the holder.
        """
        api = self.api_multiaddr
        swarm = sorted({address.split("/p2p/")[0] for address in self.swarm_addresses()})
        ports = [int(address.split("/")[4]) for address in (api, *swarm)]  # /ip4/<host>/tcp/<port>
        with ExitStack() as held:
            self.stop()
            for port in ports:
                held.enter_context(held_port(port))
            config_path = self.repo / "config"
            config = json.loads(config_path.read_text())
            _apply_overrides(config, {"Addresses.API": api, "Addresses.Swarm": swarm})
            config_path.write_text(json.dumps(config, indent=2))
            time.sleep(down_s)  # the outage itself, not a wait for anything
            self.start()

    def __enter__(self) -> KuboNode:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
