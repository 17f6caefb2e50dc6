"""geth's own WebSocket (pynode/dev/geth.py starts it with --ws on the HTTP port): the head feed hears its
sealed blocks, at the URL its log names, which is the one ``ws_url = "rpc"`` derives."""

from __future__ import annotations

import pytest

from harness import wait_for
from pynode.chain.newheads import HeadFeed, Wake, ws_endpoint
from pynode.dev.geth import Geth

pytestmark = pytest.mark.integration


def test_heads_sealed_by_geth_are_pushed(tmp_path):
    with Geth(tmp_path, block_period=1) as geth:
        assert geth.ws_url == ws_endpoint("rpc", geth.rpc_url)
        events: list[str] = []
        wake = Wake()
        feed = HeadFeed(geth.ws_url, wake, log=lambda level, event, **_: events.append(event)).start()
        try:
            wait_for(lambda: feed.pushes >= 2, timeout=30, interval=0.1, what="two sealed heads pushed")
            assert wake.wait(0.0) and feed.live
        finally:
            feed.close()
    assert events == ["push_subscribed"]
