"""`fabmesh wallet`: exit codes, --json purity, one-line errors, nothing lost on failure."""

from __future__ import annotations

import json

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
