"""What the v2 commands share: the buyer's actions on this home, an order loaded and checked, the documents a
command is handed (a signed quote, an order draft), each read into a one-line error."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from pynode.chain.v2.orders import OrderTracker
from pynode.cli.context import CliContext
from pynode.core.errors import InputError

if TYPE_CHECKING:  # what only a write needs: `order list` and `order show` start without it
    from pynode.documents.order_draft import OrderDraft
    from pynode.documents.quote import SignedQuote
    from pynode.orders.v2.buyer import BuyerV2

T = TypeVar("T")


def buyer(ctx: CliContext) -> BuyerV2:
    from pynode.orders.design_keys import DesignKeyStore
    from pynode.orders.v2.buyer import BuyerV2

    return BuyerV2(ctx.v2, ctx.vault, DesignKeyStore(ctx.settings.home / "design-keys", ctx.ipfs), ctx.account)


def load(ctx: CliContext, order_id: int) -> OrderTracker:
    """The order rebuilt from its events, checked against orderHash and recordHead at the head."""
    return ctx.v2.book.load_order(order_id, ctx.v2.from_block)


def read_document(path: Path, parse: Callable[[bytes], T]) -> T:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None
    try:
        return parse(data)
    except InputError as exc:
        raise InputError(f"{path.name}: {exc}") from None


def read_quote(path: Path) -> SignedQuote:
    from pynode.documents.quote import parse_signed_quote

    return read_document(path, parse_signed_quote)


def read_draft(ctx: CliContext, path: Path) -> OrderDraft:
    """A draft for this deployment that is not posted yet."""
    from pynode.documents.order_draft import parse_order_draft

    draft = read_document(path, parse_order_draft)
    chain = ctx.v2
    if (draft.chain_id, draft.order_book) != (chain.chain_id, chain.book.address):
        raise InputError(f"{path.name} is a draft for chain {draft.chain_id} / {draft.order_book}, connected to "
                         f"chain {chain.chain_id} / {chain.book.address}")
    if any(chain.book.order_hash(draft.order_id)):
        raise InputError(f"{path.name}: order {draft.order_id} is posted already (`order show {draft.order_id}`)")
    return draft
