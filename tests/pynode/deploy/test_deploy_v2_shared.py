"""The session's shared chain carries both protocols: v1's record and v2's beside it, in one directory."""

from __future__ import annotations

import pytest

from pynode.chain.client import Chain
from pynode.chain.provider import connect
from pynode.chain.v2.manager import AccessManager
from pynode.dev.accounts import v2_accounts
from pynode.protocol.v2.governance import GUARDIAN

pytestmark = pytest.mark.integration


def test_the_shared_v2_deployment_sits_beside_v1(shared_anvil, settings, v2_deployments_dir, v2_deployment):
    assert settings.deployments == v2_deployments_dir  # one directory: <chainId>.json and <chainId>.v2.json
    v1 = Chain.connect(settings)
    assert v1.book.address not in {info.address for info in v2_deployment.contracts.values()}
    manager = AccessManager(connect(shared_anvil.rpc_url), v2_deployment["AccessManager"])
    assert manager.membership(GUARDIAN, v2_accounts()["guardian"].address) == (True, 0)
