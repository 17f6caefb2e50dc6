"""Protocol v2 governed by a 2-of-3 Safe on a real anvil: pynode deploys the Safe (npm
@safe-global/safe-smart-account 1.5, compiled by pynode) and hands it the AccessManager; owners sign SafeTx
proposals one at a time through the proposal file; a governance fee change waits out its delay before the Safe
executes it."""

from __future__ import annotations

import pytest

from pynode.chain.contracts import _Wrapper
from pynode.chain.deployment import load_abi, load_deployment
from pynode.chain.provider import connect
from pynode.chain.revert import RevertDecoder
from pynode.chain.tx import TxReverted, TxSender
from pynode.chain.v2.manager import AccessManager, restricted_call
from pynode.chain.v2.safe import load_safe
from pynode.chain.v2.safe_tx import DELEGATE_CALL, SafeProposal, parse_safe_proposal
from pynode.core.errors import InputError
from pynode.deploy import deploy
from pynode.deploy.deployer_v2 import DeployPlanV2
from pynode.deploy.safe import SafePlan
from pynode.dev.accounts import DEV_GOVERNANCE_DELAY, DEV_SAFE_THRESHOLD, safe_owner_accounts
from pynode.dev.deploy import deploy_v2
from pynode.protocol.v2.governance import ADMIN_ROLE, GOVERNANCE

pytestmark = [pytest.mark.integration, pytest.mark.own_chain]  # it travels in time


@pytest.fixture(scope="module")
def governed(anvil, tmp_path_factory):
    """(record, deployments dir, Deployment, owners) of a dev v2 deploy whose admin and governor is a new Safe."""
    owners = list(safe_owner_accounts().values())
    directory = tmp_path_factory.mktemp("safe-deployments")
    record = deploy_v2(anvil.rpc_url, anvil.chain_id, directory, safe_owners=[o.address for o in owners],
                       safe_threshold=DEV_SAFE_THRESHOLD)
    return record, directory, load_deployment(anvil.chain_id, directory, None, protocol=2), owners


@pytest.fixture
def w3(anvil):
    snapshot = anvil.rpc("evm_snapshot")
    yield connect(anvil.rpc_url)
    anvil.rpc("evm_revert", snapshot)


def _relayer(w3, account, deployment) -> TxSender:
    """Any funded account relays a Safe transaction: the owners' signatures authorize it."""
    decoder = RevertDecoder(load_abi(None, "Safe"), *(info.abi for info in deployment.contracts.values()))
    return TxSender(w3, account, decoder, confirmations=0)


def _signed(proposal: SafeProposal, owners, path) -> SafeProposal:
    """Each owner reads the file, signs and writes it back, as separate people would."""
    path.write_bytes(proposal.to_json())
    for owner in owners:
        path.write_bytes(parse_safe_proposal(path.read_bytes()).signed_by(owner).to_json())
    return parse_safe_proposal(path.read_bytes())


def test_the_record_names_the_safe_which_holds_admin_and_governance(governed, w3, anvil, dev_accounts):
    record, directory, deployment, owners = governed
    safe = load_safe(w3, anvil.chain_id, directory)
    entry = record["safe"]
    assert entry["address"] == safe.address == record["admin"]
    assert sorted(safe.owners()) == sorted(entry["owners"]) == sorted(o.address for o in owners)
    assert safe.threshold() == entry["threshold"] == 2 and safe.nonce() == 0 and safe.version() == entry["version"]
    assert [t["label"] for t in record["transactions"][:3]] == ["deploy Safe", "deploy SafeProxyFactory",
                                                                "create a 2-of-3 Safe"]
    holders = record["governance"]["holders"]
    assert holders["ADMIN"] == holders["GOVERNANCE"] == [{"account": safe.address,
                                                          "executionDelay": DEV_GOVERNANCE_DELAY}]
    manager = AccessManager(w3, deployment["AccessManager"])
    assert manager.membership(ADMIN_ROLE, safe.address) == (True, DEV_GOVERNANCE_DELAY)
    assert manager.membership(GOVERNANCE, safe.address) == (True, DEV_GOVERNANCE_DELAY)
    deployer = dev_accounts["admin"].address
    assert manager.membership(ADMIN_ROLE, deployer) == manager.membership(GOVERNANCE, deployer) == (False, 0)
    assert _Wrapper(w3, deployment["OrderBookV2"]).call("feeRecipient") == safe.address


def test_the_local_safe_tx_hash_is_the_contracts(governed, w3, anvil):
    _, directory, deployment, _ = governed
    safe = load_safe(w3, anvil.chain_id, directory)
    book = deployment["OrderBookV2"].address
    for proposal in (SafeProposal(safe.address, anvil.chain_id, book, b"", 0),
                     SafeProposal(safe.address, anvil.chain_id, book, bytes(range(200)), 9, 10**18, DELEGATE_CALL)):
        assert safe.transaction_hash(proposal) == proposal.hash()
        assert safe.domain_separator() == bytes(proposal.signable().header)


def test_one_owner_or_a_stranger_cannot_execute(governed, w3, anvil, dev_accounts, tmp_path):
    _, directory, deployment, owners = governed
    safe = load_safe(w3, anvil.chain_id, directory)
    manager = AccessManager(w3, deployment["AccessManager"])
    call = restricted_call(_Wrapper(w3, deployment["OrderBookV2"]), "setFee", 100, owners[0].address)
    send = _relayer(w3, dev_accounts["stranger"], deployment).send
    alone = _signed(safe.propose(anvil.chain_id, manager.schedule(call)), owners[:1], tmp_path / "p.json")
    with pytest.raises(InputError, match="1 of the 2 owner signatures"):
        safe.check(alone, anvil.chain_id)
    with pytest.raises(TxReverted, match="GS020"):  # the Safe itself refuses: signatures too short
        send(safe.exec_transaction(alone))
    with_stranger = alone.signed_by(dev_accounts["stranger"])
    with pytest.raises(InputError, match="signed but not an owner"):
        safe.check(with_stranger, anvil.chain_id)
    with pytest.raises(TxReverted, match=r"GS02[06]"):
        send(safe.exec_transaction(with_stranger))
    assert safe.nonce() == 0 and manager.ready_at(safe.address, call) == 0


def test_a_governance_change_waits_out_its_delay_before_the_safe_executes_it(governed, w3, anvil, dev_accounts,
                                                                            tmp_path):
    _, directory, deployment, (owner1, owner2, owner3) = governed
    safe = load_safe(w3, anvil.chain_id, directory)
    manager = AccessManager(w3, deployment["AccessManager"])
    book = _Wrapper(w3, deployment["OrderBookV2"])
    send = _relayer(w3, dev_accounts["stranger"], deployment).send
    recipient = owner1.address
    call = restricted_call(book, "setFee", 100, recipient)
    with pytest.raises(TxReverted, match="AccessManagedUnauthorized"):  # the former admin has nothing left
        _relayer(w3, dev_accounts["admin"], deployment).send(book.request("set fee", "setFee", 100, recipient))

    schedule = _signed(safe.propose(anvil.chain_id, manager.schedule(call)), (owner1, owner3), tmp_path / "s.json")
    safe.check(schedule, anvil.chain_id)
    sent = send(safe.exec_transaction(schedule))
    scheduled_at = w3.eth.get_block(sent.block_number)["timestamp"]
    assert manager.ready_at(safe.address, call) == scheduled_at + DEV_GOVERNANCE_DELAY
    assert safe.nonce() == 1

    execute = _signed(safe.propose(anvil.chain_id, manager.execute(call)), (owner2, owner3), tmp_path / "e.json")
    safe.check(execute, anvil.chain_id)
    with pytest.raises(TxReverted, match="AccessManagerNotReady"):  # the inner revert, through the Safe
        send(safe.exec_transaction(execute))
    assert book.call("feeBps") == 0 and safe.nonce() == 1

    anvil.rpc("evm_increaseTime", DEV_GOVERNANCE_DELAY + 1)
    anvil.rpc("evm_mine")
    send(safe.exec_transaction(execute))
    assert (book.call("feeBps"), book.call("feeRecipient")) == (100, recipient)
    assert manager.ready_at(safe.address, call) == 0 and safe.nonce() == 2
    with pytest.raises(InputError, match="nonce 1 was used already"):
        safe.check(execute, anvil.chain_id)
    with pytest.raises(InputError, match=r"not .* on chain 1$"):
        safe.check(execute, 1)


def test_a_new_safe_is_refused_beside_another_admin_before_anything_is_sent(governed, w3, dev_accounts, tmp_path):
    _, _, _, owners = governed
    admin = dev_accounts["admin"]
    before = w3.eth.get_transaction_count(admin.address)
    safe = SafePlan(tuple(o.address for o in owners), 2)
    plan = DeployPlanV2(admin=dev_accounts["auditor"].address, dev=True, governance_delay=60)
    with pytest.raises(InputError, match="names no other admin"):
        deploy(w3, admin, plan, tmp_path, confirmations=0, safe=safe)
    assert w3.eth.get_transaction_count(admin.address) == before
    assert not list(tmp_path.iterdir())

