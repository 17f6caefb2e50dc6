"""crypto/formats.py's numbers, which envelopes are parsed with (without the cipher library), are the cipher
library's: the encapsulated key of each HPKE suite and AES-256-GCM's tag."""

from __future__ import annotations

import os

from cryptography.hazmat.primitives import hpke as cipher
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from pynode.crypto.formats import TAG_SIZE, HpkeSuite, enc_size

KEMS = {HpkeSuite.X25519_SHA256_AES256GCM: cipher.KEM.X25519,
        HpkeSuite.XWING_SHA256_AES256GCM: cipher.KEM.MLKEM768_X25519}


def test_each_suites_enc_size_is_its_kems() -> None:
    assert set(KEMS) == set(HpkeSuite)
    assert {suite: enc_size(suite) for suite in HpkeSuite} == {suite: kem.enc_length() for suite, kem in KEMS.items()}


def test_the_tag_size_is_aes_gcms() -> None:
    assert len(AESGCM(os.urandom(32)).encrypt(os.urandom(12), b"", None)) == TAG_SIZE
