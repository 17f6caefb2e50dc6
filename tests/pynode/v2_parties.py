"""Parties of a protocol-v2 test on a real anvil and Kubo: fresh funded accounts (so a test on the shared v2
deployment meets no other test's partners or orders), partners registered with real HPKE keys and vetted
through the wrappers, a buyer whose wallet the CLI opens, an order prepared from a real design file, quotes
really signed under the book's domain."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak

from harness import PASSWORD, SCRYPT_N, NodeHome
from pynode.chain.contracts import region_bytes
from pynode.chain.orders import MATERIAL, PROCESS
from pynode.chain.v2.client import ChainV2
from pynode.chain.v2.orders import OrderTracker
from pynode.core.settings import Settings
from pynode.crypto.hpke import HpkeKeyPair, generate_keypair
from pynode.documents.quality_report import ProductionResult, build_report, canonical_json
from pynode.documents.quote import SignedQuote, sign_quote
from pynode.ipfs.cid import cid_to_digest, digest_to_cid
from pynode.ipfs.client import IpfsClient
from pynode.ipfs.vault import DesignVault
from pynode.orders.design_keys import DesignKeyStore
from pynode.orders.v2.buyer import BuyerV2, OrderRequestV2, PreparedOrder
from pynode.orders.v2.snapshot import Snapshot
from pynode.protocol.v2.codec import terms_hash
from pynode.protocol.v2.types import OrderTerms, PartnerProfile, Quote
from pynode.wallet.hpke_keys import HpkeKeyStore
from pynode.wallet.keystore import Keystore

DAY = 86_400
ETHER = 10**18


def v2_chain(anvil, kubo, deployments: Path, home: Path) -> ChainV2:
    return ChainV2.connect(Settings(rpc_url=anvil.rpc_url, ipfs_api=kubo.api_url, deployments=deployments, home=home,
                                    scrypt_n=1024, confirmations=0))


def fresh_account(anvil, ether: int = 100) -> LocalAccount:
    account = Account.create()
    anvil.rpc("anvil_setBalance", account.address, hex(ether * ETHER))
    return account


@dataclass
class Shop:
    account: LocalAccount
    keypair: HpkeKeyPair

    @property
    def address(self) -> str:
        return self.account.address

    def quote(self, chain: ChainV2, terms: OrderTerms, price: int, *, lead_time: int = 2 * DAY, bond: int = 10**16,
              nonce: int = 1, expiry: int | None = None) -> SignedQuote:
        expiry = expiry if expiry is not None else chain.now() + 3600
        quote = Quote(terms_hash(terms), self.address, self.address, price, bond, lead_time, expiry, nonce)
        return sign_quote(self.account, chain.book.domain(), quote)


def vetted_shop(chain: ChainV2, anvil, certifier: LocalAccount, *, vet: bool = True,
                keypair: HpkeKeyPair | None = None) -> Shop:
    """A fresh partner registered (CNC milling, AL 6061) with a real HPKE key (``keypair``, or a new one) and 5 × the
    minimum bond, vetted on the profile hash the certifier read."""
    shop = Shop(fresh_account(anvil), keypair or generate_keypair())
    profile = PartnerProfile(PROCESS["CNC_MILLING"], MATERIAL["AL_6061"], region_bytes("u33d"), 40, keccak(b"profile"))
    chain.send(shop.account, chain.registry.register(profile, shop.keypair.public_key, 5 * chain.registry.min_bond()))
    if vet:
        chain.send(certifier, chain.registry.vet(shop.address, chain.registry.profile_hash(shop.address),
                                                 keccak(b"vetting")))
    return shop


def daemon_shop(chain: ChainV2, anvil, certifier: LocalAccount, root: Path, name: str) -> NodeHome:
    """A vetted shop whose wallet (keystore and HPKE key ``name``, harness.PASSWORD) `fabmesh node run` opens."""
    root.mkdir(parents=True, exist_ok=True)
    keypair = HpkeKeyStore(root / "wallet" / "hpke", SCRYPT_N).create(name, PASSWORD, pq=False)
    shop = vetted_shop(chain, anvil, certifier, keypair=keypair)
    Keystore(root / "wallet" / "keystores", SCRYPT_N).create(name, PASSWORD, private_key=bytes(shop.account.key))
    (root / "password.txt").write_text(PASSWORD + "\n")
    return NodeHome(root, name, shop.account, keypair)


@dataclass
class BuyerParty:
    buyer: BuyerV2
    keypair: HpkeKeyPair
    home: Path  # the CLI's FABMESH_HOME: keystore and HPKE key "buyer", password "pw" in password_file
    password_file: Path

    def prepare(self, label: str, *, price: int = ETHER // 10, design: Path | None = None,
                snapshot: Snapshot | None = None, **changes: Any) -> PreparedOrder:
        """An order for ``design`` (None: a fresh file of random bytes, named after ``label``; ``snapshot``: the
        book's parameters to copy, None: read)."""
        if design is None:
            design = self.home.parent / f"design-{label}.stl"
            design.write_bytes(b"solid " + label.encode() + b"\n" + os.urandom(256))
        now = self.buyer.chain.now()
        fields: dict[str, Any] = {"award_deadline": now + DAY, "delivery_deadline": now + 10 * DAY,
                                  "inspection_window": 3 * DAY, "region": "u33d"} | changes
        request = OrderRequestV2(design=design, process="CNC_MILLING", material="AL_6061", quantity=1, price=price,
                                 **fields)
        return self.buyer.prepare(request, self.keypair.public_key, snapshot=snapshot)


def cli_buyer_v2(chain: ChainV2, anvil, kubo_api: str, root: Path) -> BuyerParty:
    """A fresh buyer whose wallet the CLI opens, acting in-process through BuyerV2 on the same design-key store."""
    account = fresh_account(anvil)
    home = root / "buyer-home"
    Keystore(home / "keystores", 1024).create("buyer", "pw", private_key=bytes(account.key))
    keypair = HpkeKeyStore(home / "hpke", 1024).create("buyer", "pw", pq=False)
    password_file = root / "pw"
    password_file.write_text("pw\n")
    ipfs = IpfsClient(kubo_api)
    buyer = BuyerV2(chain, DesignVault(ipfs), DesignKeyStore(home / "design-keys", ipfs), account)
    return BuyerParty(buyer, keypair, home, password_file)


def ship(chain: ChainV2, party: BuyerParty, shop: Shop, tracker: OrderTracker, *,
         order_id: int | None = None) -> OrderTracker:
    """The shop ships with a real quality report pinned (for ``order_id``: another order's, to lie)."""
    spec = json.loads(party.buyer.vault.ipfs.cat_bytes(digest_to_cid(bytes(tracker.docs.spec_cid)),
                                                       max_size=1 << 20))
    report = canonical_json(build_report(ProductionResult(True, {}), spec, order_id=order_id or tracker.order_id,
                                         chain_id=chain.chain_id, contract=chain.book.address, partner=shop.address,
                                         started_at=0, finished_at=1))
    cid = party.buyer.vault.ipfs.add_bytes(report)
    chain.send(shop.account, chain.book.ship(tracker, cid_to_digest(cid), hashlib.sha256(report).digest()))
    return chain.book.load_order(tracker.order_id, chain.from_block)
