"""Scaffolding for running real nodes against a local chain: the daemon tests, the claim benchmark, demos.

Registers partners with HPKE keys kept in a node home (so `unlock_identity`
finds them), writes node.toml files, posts orders as a buyer, and runs
`fabmesh node run` as a child process.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import tomli_w
from eth_account.signers.local import LocalAccount
from eth_utils import keccak

from pynode.chain.client import Chain
from pynode.chain.contracts import region_bytes
from pynode.chain.orders import MATERIAL, PROCESS
from pynode.crypto.hpke import HpkeKeyPair, generate_keypair
from pynode.daemon.jsonlog import JsonLogger
from pynode.dev.wait import wait_for  # the one wait on observed state; the tests import it from here
from pynode.ipfs.client import IpfsClient
from pynode.ipfs.vault import DesignVault
from pynode.orders.buyer import Buyer, OrderRequest, PostedOrder
from pynode.orders.design_keys import DesignKeyStore
from pynode.wallet.hpke_keys import HpkeKeyStore
from pynode.wallet.keystore import Keystore

PASSWORD = "node-test-password"
SCRYPT_N = 1 << 10


@dataclass
class NodeHome:
    """A partner's wallet dir, node config and work dir."""

    root: Path
    name: str
    account: LocalAccount
    hpke: HpkeKeyPair

    @property
    def config_path(self) -> Path:
        return self.root / "node.toml"

    @property
    def work_dir(self) -> Path:
        return self.root / "work"

    @property
    def db_path(self) -> Path:
        return self.work_dir / "node.db"


def make_partner(chain: Chain, certifier: LocalAccount, account: LocalAccount, root: Path, name: str, *,
                 processes: Iterable[str], materials: Iterable[str], region: str = "u33d") -> NodeHome:
    """Keystore + HPKE key in ``root``, registered on chain with that key, vetted."""
    root.mkdir(parents=True, exist_ok=True)
    Keystore(root / "wallet" / "keystores", SCRYPT_N).create(name, PASSWORD, private_key=bytes(account.key))
    keypair = HpkeKeyStore(root / "wallet" / "hpke", SCRYPT_N).create(name, PASSWORD, pq=False)
    (root / "password.txt").write_text(PASSWORD + "\n")
    caps = sum(PROCESS[p] for p in processes)
    mats = sum(MATERIAL[m] for m in materials)
    profile = (caps, mats, region_bytes(region), 100, keccak(text=f"profile-{name}"))
    chain.send(account, chain.registry.register(profile, keypair.public_key, chain.registry.min_bond()))
    chain.send(certifier, chain.registry.vet(account.address, keccak(text=f"audit-{name}")))
    return NodeHome(root, name, account, keypair)


def write_config(home: NodeHome, *, rpc_urls: list[str], ipfs_api: str, deployments: Path, processes: Iterable[str],
                 materials: Iterable[str], confirmations: int = 1, poll_interval_s: float = 0.2,
                 max_concurrent_jobs: int = 100, duration_s: float = 0.0, defect_rate: float = 0.0,
                 log_batch_size: int = 2000, metrics_port: int = 0, extra: str = "",
                 production: str | None = None) -> Path:
    """The node's node.toml, written by tomli-w: protocol 1's node (claims by [policy]) unless `extra` (top-level
    keys) names another; `extra` and `production` (the [production] table in place of the simulated adapter) are
    TOML the caller writes, read here and merged."""
    config = {
        "protocol": 1, "account": home.name, "password_file": "password.txt", "home": "wallet",
        "rpc_urls": list(rpc_urls),
        "ipfs_api": ipfs_api, "confirmations": confirmations, "poll_interval_s": poll_interval_s,
        "log_batch_size": log_batch_size, "deployments": str(deployments),
        "artifacts": str(Path(__file__).resolve().parents[2] / "build" / "contracts"), "work_dir": "work",
        "metrics_port": metrics_port, **tomllib.loads(extra),
        "policy": {"processes": list(processes), "materials": list(materials),
                   "max_concurrent_jobs": max_concurrent_jobs},
        "production": tomllib.loads(production) if production is not None else
        {"adapter": "simulated", "duration_s": duration_s, "defect_rate": defect_rate},
    }
    home.config_path.write_text(tomli_w.dumps(config))
    return home.config_path


class RecordingLog(JsonLogger):
    """An in-process node's log, kept as records: {"event": name, **fields}."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[dict] = []

    def log(self, level: str, event: str, **fields) -> None:
        self.events.append({"event": event, **fields})

    def named(self, name: str) -> list[dict]:
        return [e for e in self.events if e["event"] == name]


class BuyerSide:
    """A buyer with its own design-key store and HPKE key pair."""

    def __init__(self, chain: Chain, ipfs_api: str, account: LocalAccount, root: Path,
                 keypair: HpkeKeyPair | None = None) -> None:
        self.chain = chain
        self.ipfs = IpfsClient(ipfs_api)
        self.vault = DesignVault(self.ipfs)
        self.keypair = keypair or generate_keypair()
        self.buyer = Buyer(chain, self.vault, DesignKeyStore(root / "design-keys", self.ipfs), account)
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def post(self, index: int, *, process: str = "CNC_MILLING", material: str = "AL_6061", price: int = 10**15,
             claim_bond: int = 10**14, claim_window_s: int = 86400, tolerances: dict | None = None,
             certifications: tuple[str, ...] = ()) -> PostedOrder:
        design = self.root / f"design-{index}.stl"
        design.write_bytes(b"solid part-%d\n" % index + os.urandom(64))
        now = self.chain.w3.eth.get_block("latest")["timestamp"]
        request = OrderRequest(design=design, process=process, material=material, quantity=1, price=price,
                               claim_deadline=now + claim_window_s, delivery_deadline=now + 7 * 86400,
                               inspection_window=3 * 86400, claim_bond=claim_bond, region="u33d",
                               certifications=certifications,
                               tolerances=tolerances or {"bore_d": {"nominal": 10.0, "plus": 0.05, "minus": 0.05,
                                                                    "unit": "mm"}})
        return self.buyer.post(request, self.keypair.public_key)


class Repeating:
    """Calls ``action`` every ``interval_s`` in a background thread while the context is open.

    Failures are not raised: the chain or Kubo may be briefly unreachable in the outage and
    crash tests, and those tests judge the outcome by their assertions, not by this loop. They are
    counted and the last one kept (:meth:`failures`), for a failing test's message.
    """

    def __init__(self, action: Callable[[], object], interval_s: float, name: str) -> None:
        self.action = action
        self.interval_s = interval_s
        self.name = name
        self.errors = 0
        self.last_error: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name=name)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.action()
            except Exception as exc:  # noqa: BLE001 - kept, not raised: see the class docstring
                self.errors, self.last_error = self.errors + 1, exc

    def failures(self) -> str:
        """How many calls raised, and the last exception (type and text)."""
        last = self.last_error
        text = "none" if last is None else f"{type(last).__name__}: {last}"[:300]
        return f"{self.name}: {self.errors} calls raised, last: {text}"

    def __enter__(self) -> Repeating:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


class Miner(Repeating):
    """Mines an empty block every ``interval_s`` (on top of automine) so confirmations keep coming."""

    def __init__(self, rpc, interval_s: float = 0.3) -> None:  # rpc: Anvil.rpc
        super().__init__(lambda: rpc("evm_mine"), interval_s, "miner")


def node_command(config: Path, *, once: bool = False, log_level: str = "info") -> list[str]:
    argv = [str(Path(sys.executable).parent / "fabmesh"), "node", "run", "--config", str(config),
            "--log-level", log_level]
    return argv + (["--once"] if once else [])


class NodeProcess:
    """`fabmesh node run` as a child process, logs to ``<root>/node-<n>.log``."""

    def __init__(self, home: NodeHome, env: dict[str, str] | None = None, log_level: str = "info") -> None:
        self.home = home
        self.log_level = log_level
        self.env = {**os.environ, **(env or {})}
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    @property
    def log_path(self) -> Path:
        return self.home.root / "node.log"

    def _count(self, event: str) -> int:
        try:
            return self.log_path.read_text(errors="replace").count(f'"event":"{event}"')
        except OSError:
            return 0

    def wait_connected(self, timeout: float = 60.0) -> None:
        """Blocks until this start has connected to the chain (it is working from then on)."""
        wait_for(lambda: self._count("connected") > self._connected_before or not self.running(), timeout,
                 interval=0.05, what="node connected")
        if not self.running():
            raise RuntimeError(f"node exited during start-up: {self.log_tail()}")

    def start(self) -> NodeProcess:
        self.starts += 1
        self._connected_before = self._count("connected")
        log = open(self.log_path, "ab")  # noqa: SIM115 - the child owns it
        self.proc = subprocess.Popen(node_command(self.home.config_path, log_level=self.log_level),
                                     stdout=log, stderr=log, stdin=subprocess.DEVNULL, env=self.env, cwd=self.home.root)
        log.close()
        return self

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def terminate(self, timeout: float = 30.0) -> int:
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


class FlakyProxy:
    """A TCP proxy on 127.0.0.1 that can disappear: ``down()`` refuses connections and cuts every open one.

    The proxy owns its port from construction to ``close()``: while down it holds the port bound
    without listening (connections are refused, and the OS hands the port to no other socket), so
    ``up()`` comes back at the same address on a busy machine.
    """

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self._held = self._bound(0)
        self.port = self._held.getsockname()[1]
        self._lock = threading.Lock()
        self._conns: list = []
        self._listener = None
        self._thread: threading.Thread | None = None

    @staticmethod
    def _bound(port: int):  # a socket
        import socket

        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # the cut connections linger in TIME_WAIT
        sock.bind(("127.0.0.1", port))
        return sock

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def up(self) -> FlakyProxy:
        listener, self._held = self._held, None
        listener.listen(64)
        self._listener = listener
        self._thread = threading.Thread(target=self._accept, args=(listener,), daemon=True)
        self._thread.start()
        return self

    def _accept(self, listener) -> None:
        import socket

        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            for sock in (client, upstream):  # no Nagle: small JSON-RPC requests would wait for delayed ACKs
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                sock.settimeout(None)
            with self._lock:
                self._conns += [client, upstream]
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(src, dst), daemon=True).start()

    @staticmethod
    def _pipe(src, dst) -> None:
        import socket

        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        for sock in (src, dst):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def down(self) -> None:
        import socket

        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept() (close alone does not)
            self._listener.close()
            self._listener = None
            self._held = self._bound(self.port)  # at once: the port stays ours while down
            if self._thread is not None:
                self._thread.join(timeout=5)
        with self._lock:
            conns, self._conns = self._conns, []
        for sock in conns:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def close(self) -> None:
        """Down for good: the port is released."""
        self.down()
        if self._held is not None:
            self._held.close()
            self._held = None
