from __future__ import annotations

import pytest

from pynode.core.errors import InputError
from pynode.ipfs.cid import cid_to_digest, digest_to_cid

# `ipfs add --cid-version=1 --raw-leaves=false` of b"hello\n", and its CIDv0 form.
V1 = "bafybeiffndsajwhk3lwjewwdxqntmjm4b5wxaaanokonsggenkbw6slwk4"
V0 = "QmZULkCELmmk5XNfCgTnCyFgAVxBRBXyDHGGMVoLFLiXEN"


def test_known_cid_round_trips():
    assert digest_to_cid(cid_to_digest(V1)) == V1
    assert cid_to_digest(V0) == cid_to_digest(V1)


@pytest.mark.parametrize("bad", [
    "", "hello", "Qm" + "0" * 44, "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy",  # raw codec
    "b!!!!", "z" + "a" * 40,
])
def test_unrecordable_cids_are_refused(bad):
    with pytest.raises(InputError):
        cid_to_digest(bad)


def test_digest_must_be_32_bytes():
    with pytest.raises(InputError, match="32 bytes"):
        digest_to_cid(b"\x00" * 31)
