"""Error hierarchy shared by every pynode module, and :func:`classify`, which sorts failures by type.

* ``TransientError``: may go away on retry (rate limit, node unreachable or
  restarting, IPFS down, a provider refusing a log range we cannot shrink yet):
  retried with backoff (:mod:`pynode.core.backoff`), honouring ``retry_after``.
* ``InputError``: outside data (a file, a document, a CLI value, one job's
  order) is malformed: that job or command fails, the daemon keeps running.
* ``FatalError`` and anything unknown (a bug): stop loudly.

Raw provider replies are turned into these types in one place only,
``pynode/chain/rpc.py``; nothing above it looks at message text. The CLI prints
any ``FabmeshError`` as one line on stderr and exits 1.
"""

from __future__ import annotations

from enum import Enum


class FabmeshError(Exception):
    """Base of every error pynode raises on purpose."""


class TransientError(FabmeshError):
    """A failure that may go away on retry (network, node restarting)."""

    #: seconds the other side asked us to wait (HTTP Retry-After, a provider's backoff hint), if it said
    retry_after: float | None = None

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        if retry_after is not None:
            self.retry_after = max(0.0, float(retry_after))


class RateLimited(TransientError):
    """The endpoint throttles us (HTTP 429, JSON-RPC 429 / -32005 / -32007 / -32012 / -32090 rate limits)."""


class ProviderUnavailable(TransientError):
    """The RPC endpoint did not answer usefully: connection refused or lost, timeout, HTTP 5xx, a non-JSON body."""


class BlockUnavailable(ProviderUnavailable):
    """The node has no block (or no state) at a height or hash the request named: it is behind its peers, or
    the block left the chain since it was read (a reorg; anvil's ``evm_revert``). Transient: the next cycle
    reads a new head, and its reorg check rewinds to the common ancestor."""


class IpfsUnavailable(TransientError):
    """The Kubo API did not answer (down, restarting, or timed out)."""


class LogsRefused(TransientError):
    """An ``eth_getLogs`` refusal that a smaller range may fix; the events reader halves on it.

    ``allowed_blocks`` is the span the provider said it accepts ("up to a 2000 block
    range", "this block range should work: [0x.., 0x..]"), when it said one. Once a
    single block is refused the reader gives up and the refusal stays transient:
    it cannot be fixed now, but a provider under less load may answer later.
    """

    def __init__(self, message: str, *, allowed_blocks: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(message, retry_after=retry_after)
        self.allowed_blocks = allowed_blocks if allowed_blocks is None or allowed_blocks >= 1 else None


class RangeTooLarge(LogsRefused):
    """The provider caps the block span of one ``eth_getLogs``."""


class ResultTooLarge(LogsRefused):
    """The provider caps the logs (count, bytes or query time) of one ``eth_getLogs``."""


class NonceTooLow(TransientError):
    """The node already has a transaction with this nonce (another sender of the account, or a mined one):
    sign again with a fresh nonce."""


class TxAlreadyKnown(FabmeshError):
    """The node already holds these exact signed bytes: a re-send, as good as sent."""


class FatalError(FabmeshError):
    """A failure that retrying cannot fix (wrong chain, bad key, suspended partner)."""


class WrongChain(FatalError):
    """The RPC endpoint serves another chain than the deployment (or the node) is for."""


class RpcRejected(FatalError):
    """The endpoint refused a request for a reason retrying cannot fix (bad API key, method not offered)."""


class InputError(FabmeshError):
    """Outside data (a file, a document, a CLI value) is malformed or does not match."""


class CallReverted(FatalError):
    """An ``eth_call`` reverted (``data``: the revert data, empty for a bare ``revert()``): the contract says no."""

    def __init__(self, message: str, *, data: bytes = b"") -> None:
        super().__init__(message)
        self.data = data


class BadCallOutput(FatalError):
    """An ``eth_call``'s return data does not decode as the function's outputs (no code there, another ABI)."""


class Kind(Enum):
    TRANSIENT = "transient"
    INPUT = "input"
    FATAL = "fatal"


def classify(exc: BaseException) -> Kind:
    """By type only: our transient and input errors, and everything else (fatal or a bug) is fatal."""
    if isinstance(exc, TransientError):
        return Kind.TRANSIENT
    if isinstance(exc, InputError):
        return Kind.INPUT
    return Kind.FATAL


def retry_after(exc: BaseException) -> float | None:
    """The wait the failure asked for, if any."""
    return exc.retry_after if isinstance(exc, TransientError) else None
