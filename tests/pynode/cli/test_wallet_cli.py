"""`fabmesh wallet`: exit codes, --json purity, one-line errors, nothing lost on failure."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from eth_account import Account


def test_new_then_list_json(run, password_file):
    created = run("--password-file", password_file, "--json", "wallet", "new", "buyer")
    assert created.exit_code == 0, created.stderr
    data = created.json()
    assert data["hpke_suite"] == "X25519_SHA256_AES256GCM"
    assert data["hpke_public_key"].startswith("0x01") and len(data["hpke_public_key"]) == 2 + 2 * 33

    listed = run("--json", "wallet", "list")
    assert listed.exit_code == 0
    assert [(a["name"], a["address"]) for a in listed.json()] == [("buyer", data["address"])]


def test_pq_key_is_hybrid(run, password_file):
    data = run("--password-file", password_file, "--json", "wallet", "new", "farm", "--pq").json()
    assert data["hpke_suite"] == "XWING_SHA256_AES256GCM"


def test_duplicate_name_fails_and_keeps_the_original(run, password_file, fabmesh_home):
    first = run("--password-file", password_file, "--json", "wallet", "new", "buyer").json()
    before = (fabmesh_home / "keystores" / "buyer.json").read_bytes()
    again = run("--password-file", password_file, "wallet", "new", "buyer")
    assert again.exit_code == 1
    assert again.stderr.strip() == "error: an account named 'buyer' already exists"
    assert (fabmesh_home / "keystores" / "buyer.json").read_bytes() == before
    assert run("wallet", "address", "buyer").stdout.strip() == first["address"]


def test_import_geth_keystore_and_export_unchanged(run, password_file, tmp_path):
    foreign = tmp_path / "foreign.json"
    foreign.write_text(json.dumps(Account.encrypt(b"\x42" * 32, "correct horse", kdf="scrypt", iterations=1024)))
    imported = run("--password-file", password_file, "--json", "wallet", "import", "old", foreign)
    assert imported.exit_code == 0, imported.stderr
    assert imported.json()["address"] == Account.from_key(b"\x42" * 32).address
    exported = run("wallet", "export", "old")
    assert json.loads(exported.stdout) == json.loads(foreign.read_text())


def test_import_wrong_password(run, tmp_path, password_file):
    foreign = tmp_path / "foreign.json"
    foreign.write_text(json.dumps(Account.encrypt(b"\x42" * 32, "other", kdf="scrypt", iterations=1024)))
    result = run("--password-file", password_file, "wallet", "import", "old", foreign)
    assert result.exit_code == 1
    assert "wrong password" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert run("--json", "wallet", "list").json() == []


def test_hpke_rotation_keeps_old_key(run, password_file, fabmesh_home):
    first = run("--password-file", password_file, "--json", "wallet", "new", "farm").json()
    rotated = run("--password-file", password_file, "--json", "wallet", "hpke-new", "farm").json()
    assert rotated["hpke_public_key"] != first["hpke_public_key"]
    assert len(list((fabmesh_home / "hpke" / "farm").glob("*.json"))) == 2
    assert run("--json", "wallet", "address", "farm").json()["hpke_public_key"] == rotated["hpke_public_key"]


def test_no_password_source_is_an_error_not_a_hang(run):
    result = run("wallet", "new", "buyer")
    assert result.exit_code == 1
    assert "no password" in result.stderr


def test_usage_errors_exit_2(run):
    assert run("wallet", "new").exit_code == 2
    assert run("wallet", "frobnicate").exit_code == 2
    assert run("--password-file").exit_code == 2


def test_delete_requires_confirmation(run, password_file):
    run("--password-file", password_file, "wallet", "new", "buyer")
    declined = run("wallet", "delete", "buyer", input="n\n")
    assert declined.exit_code == 1
    assert run("--json", "wallet", "list").json() != []
    assert run("-y", "wallet", "delete", "buyer").exit_code == 0
    assert run("--json", "wallet", "list").json() == []


def test_version_and_help(run):
    assert run("--version").stdout.startswith("fabmesh, version ")
    assert "wallet" in run("--help").stdout


FOUNDRY = Path(__file__).parents[1] / "wallet" / "fixtures"  # real `cast wallet` output: see its README
FOUNDRY_NEW = "0xA4D63758d6ec94BA679e7BFE37cf9B03DB850db5"


@pytest.fixture
def foundry_password(tmp_path):
    path = tmp_path / "foundry-password"
    path.write_text("foundry pw\n")
    return path


def test_foundry_keystore_works_in_every_wallet_command(run, foundry_password, fabmesh_home, tmp_path):
    imported = run("--password-file", foundry_password, "--json", "wallet", "import", "forge",
                   FOUNDRY / "foundry-new.json")
    assert imported.exit_code == 0, imported.stderr
    assert imported.json()["address"] == FOUNDRY_NEW
    assert run("wallet", "address", "forge").stdout.strip() == FOUNDRY_NEW  # no password needed from now on
    assert [a["address"] for a in run("--json", "wallet", "list").json()] == [FOUNDRY_NEW]
    assert run("--password-file", foundry_password, "--json", "wallet", "hpke-new", "forge").exit_code == 0
    exported = json.loads(run("wallet", "export", "forge").stdout)
    assert Account.from_key(Account.decrypt(exported, "foundry pw")).address == FOUNDRY_NEW
    deleted = run("-y", "--json", "wallet", "delete", "forge")
    assert deleted.exit_code == 0 and deleted.json()["address"] == FOUNDRY_NEW
    assert run("--json", "wallet", "list").json() == []


def test_addressless_keystore_from_an_older_import_is_repaired_by_wallet_address(run, foundry_password,
                                                                                 fabmesh_home):
    stored = fabmesh_home / "keystores" / "legacy.json"
    stored.parent.mkdir(parents=True)
    stored.write_bytes((FOUNDRY / "foundry-new.json").read_bytes())
    refused = run("-y", "wallet", "delete", "legacy")
    assert refused.exit_code == 1 and stored.exists()
    assert refused.stderr.strip().endswith("names no address: `fabmesh wallet address legacy` unlocks it once "
                                           "and records it")
    assert run("--password-file", foundry_password, "wallet", "address", "legacy").stdout.strip() == FOUNDRY_NEW
    assert run("wallet", "address", "legacy").stdout.strip() == FOUNDRY_NEW


@pytest.mark.parametrize("damage, message", [
    (lambda text: text[:100], "invalid JSON"),
    (lambda text: text.replace('"version":3', '"version":2'), "not a version 3 keystore"),
    (lambda text: text[:-1] + ',"address":"f5b33dc66fe037088eb8e569b826658ae751cb30"}', "decrypts to 0xA4D6"),
])
def test_bad_foundry_file_is_one_line_and_stores_nothing(run, foundry_password, fabmesh_home, tmp_path, damage,
                                                         message):
    bad = tmp_path / "bad.json"
    bad.write_text(damage((FOUNDRY / "foundry-new.json").read_text()))
    result = run("--password-file", foundry_password, "wallet", "import", "forge", bad)
    assert result.exit_code == 1
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (fabmesh_home / "keystores" / "forge.json").exists()
    assert not (fabmesh_home / "hpke" / "forge").exists()


def test_foundry_keystore_wrong_password_stores_nothing(run, password_file, fabmesh_home):
    result = run("--password-file", password_file, "wallet", "import", "forge", FOUNDRY / "foundry-imported.json")
    assert result.exit_code == 1
    assert "wrong password" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert run("--json", "wallet", "list").json() == []
    assert not (fabmesh_home / "hpke" / "forge").exists()


@pytest.mark.integration
def test_foundry_account_checks_and_signs_on_chain(run, foundry_password, anvil, chain, settings, monkeypatch):
    monkeypatch.setenv("FABMESH_PROTOCOL", "1")  # `chain`: the v1 deployment
    monkeypatch.setenv("FABMESH_RPC_URL", settings.rpc_url)
    monkeypatch.setenv("FABMESH_IPFS_API", settings.ipfs_api)
    monkeypatch.setenv("FABMESH_DEPLOYMENTS", str(settings.deployments))
    monkeypatch.setenv("FABMESH_PASSWORD_FILE", str(foundry_password))
    assert run("wallet", "import", "forge", FOUNDRY / "foundry-new.json").exit_code == 0
    anvil.rpc("anvil_setBalance", FOUNDRY_NEW, hex(10**18))

    checked = run("--account", "forge", "--json", "check")
    assert checked.exit_code == 0, checked.stdout
    balance = next(c for c in checked.json()["checks"] if c["check"] == "account balance")
    assert balance["detail"] == f"{FOUNDRY_NEW}: 1 ETH"

    registered = run("--account", "forge", "--json", "-y", "partner", "register", "--processes", "FDM",
                     "--materials", "PLA", "--region", "u33d")
    assert registered.exit_code == 0, registered.stderr
    assert chain.registry.partner_info(FOUNDRY_NEW).registered  # signed by the foundry key


def test_cast_made_keystore_round_trips_through_fabmesh(run, foundry_password, fabmesh_home, tmp_path):
    """foundry's own `cast` writes a keystore now, and reads back the copy fabmesh stored (with its address)."""
    import subprocess

    from pynode.dev.paths import cast_bin

    made = subprocess.run([str(cast_bin()), "wallet", "new", str(tmp_path), "made", "--unsafe-password", "foundry pw"],
                          capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    assert "address" not in json.loads((tmp_path / "made").read_text())  # foundry records none
    imported = run("--password-file", foundry_password, "--json", "wallet", "import", "made", tmp_path / "made")
    assert imported.exit_code == 0, imported.stderr
    address = imported.json()["address"]
    assert address in made.stdout  # cast printed the address it made
    stored = fabmesh_home / "keystores" / "made.json"
    read_back = subprocess.run([str(cast_bin()), "wallet", "address", "--keystore", str(stored),
                                "--password", "foundry pw"], capture_output=True, text=True, timeout=120)
    assert read_back.returncode == 0, read_back.stderr
    assert read_back.stdout.strip() == address
