from __future__ import annotations

import pytest


@pytest.fixture
def ipfs(kubo):
    from pynode.ipfs.client import IpfsClient

    with IpfsClient(kubo.api_url, timeout=30) as client:
        yield client


@pytest.fixture
def market(chain, ipfs, dev_accounts, tmp_path):
    from audit_helpers import Market

    return Market(chain, ipfs, dev_accounts, tmp_path)


@pytest.fixture
def auditor(chain, ipfs):
    from pynode.audit.ipfs_evidence import IpfsEvidence
    from pynode.audit.verify import Auditor

    return Auditor(chain, IpfsEvidence(ipfs, timeout=5), confirmations=0)
