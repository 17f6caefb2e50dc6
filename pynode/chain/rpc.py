"""The one place that turns raw JSON-RPC provider failures into typed errors.

Every request goes through one of two transports that map with these functions:
:class:`pynode.chain.provider.FabmeshProvider` under web3 (eth_call, estimateGas,
sendRawTransaction, receipts, JSON-RPC batches) and :class:`pynode.chain.jsonrpc.RpcClient`
for reads without web3 (views, getLogs, blocks). What reaches the rest of pynode
is either a normal reply, an execution revert (web3's ``ContractLogicError``
family, from revert data; ``CallReverted`` from :func:`request`), or one of our types:

=====================  ==============================================================
``RateLimited``        HTTP 429; JSON-RPC 429, -32005 with rate wording (Infura), -32012,
                       -32016, any code with throttling wording; ``retry_after`` from the
                       Retry-After header or Infura's ``data.rate.backoff_seconds``
``ProviderUnavailable`` connection refused/lost, timeouts, HTTP 5xx, bodies that are
                       not JSON, -32603 internal errors
``BlockUnavailable``   (a ``ProviderUnavailable``) a block or its state the node does not
                       have: a load-balanced node behind its peers, or a block that left
                       the chain (reorg, ``evm_revert``): EIP-1474's -32001 "resource not
                       found", "header not found", unknown block, anvil's out-of-range
``RangeTooLarge``      eth_getLogs block-span caps (``allowed_blocks`` when named)
``ResultTooLarge``     eth_getLogs result count / size / query-time caps
``RpcRejected``        HTTP 401/403 (bad key, plan exhausted), other 4xx without a
                       JSON-RPC answer: retrying cannot help
``TxAlreadyKnown``     eth_sendRawTransaction of bytes the node has ("already known",
                       "already imported", besu's "Known transaction")
``NonceTooLow``        eth_sendRawTransaction with a used nonce ("nonce too low"), or
                       one a pooled transaction of the account holds ("replacement
                       transaction underpriced": another sender took it first)
=====================  ==============================================================

Any other JSON-RPC error goes back to web3 unchanged (it raises ``Web3RPCError``
or, with revert data, ``ContractLogicError``), so a transient failure is never
taken for a revert. Provider wording is inspected here and nowhere else.

Real replies these rules were written from (each is a fixture in
tests/pynode/chain/test_rpc_errors.py):

* Alchemy: ``-32602 Log response size exceeded. You can make eth_getLogs requests with up to a 2K block
  range and no limit on the response size, or you can request any block range with a cap of 10K logs in the
  response. Based on your parameters and the response size limit, this block range should work: [0x0,
  0x87fe9]`` (ethereum/go-ethereum#25343, ethers-io/ethers.js#4703); free tier ``-32600 You can make
  eth_getLogs requests with up to a 500 block range. Based on your parameters, this block range should
  work: [0x123c9b2, 0x123cba5]`` (BobTheBuidler/dank_mids#772, cartesi/rollups-node#655, sent with HTTP 400
  in boundless-xyz/boundless#838); rate limit ``429 Your app has exceeded its compute units per second
  capacity…`` (latticexyz/mud#1522, Synthetixio/kwenta#40: HTTP 429 too).
* Infura: ``-32005 query returned more than 10000 results. Try with this block range [0xBDE5F8,
  0x102DBCC].`` with ``data {from, to, limit}`` (ethers-io/ethers.js#4703); ``-32602 range 1000000 exceeds
  limit of 10000`` (INFURA/infura#237); rate limits, HTTP 429 with ``-32005 daily request count exceeded,
  request rate limited`` / ``project ID request rate exceeded`` and ``data.rate.backoff_seconds``
  (gochain/web3#180, status-im/status-app#14665, MetaMask/eth-json-rpc-infura#33).
* QuickNode: HTTP 413 with ``-32614 eth_getLogs is limited to a 10,000 range`` (OffchainLabs/arbitrum-sdk#609);
  ``-32012 credits limited to 6000/sec`` (latticexyz/mud#1522).
* Chainstack: HTTP 429 with an HTML body (mysteriumnetwork/payments#129).
* Base public node: ``-32000 429 Too Many Requests: {… -32016 over rate limit …}`` (base/node#368).
* Ankr: ``maximum [from, to] blocks distance: 10000`` (ponder-sh/ponder#1940).
* Tenderly: ``-32602 invalid params`` with ``data.payload range 9009594 is bigger than range limit 2000``
  (bobanetwork/boba_legacy#827).
* Erigon: ``query block range exceeds server limit, narrow your filter: 5`` (-32000, -32602 since
  erigontech/erigon#20424) and ``query returns too many logs, narrow your filter: N`` (erigontech/erigon#19721);
  cdk-erigon ``-32005 block range too large, max range: N`` (0xPolygon/cdk-erigon#1706).
* Reth: ``-32602 query exceeds max block range 5000`` (paradigmxyz/reth#8558), ``query exceeds max results
  20000, retry with the range 25766988-25775072`` (base/base#2421).
* Frontier/Moonbeam ``block range is too wide (maximum 1024)`` (moonbeam-foundation/moonbeam#3250);
  evmos/scroll ``-32000 block range is bigger than maxBlockRange`` (scroll-tech/go-ethereum#529), ``block
  range is larger than max block range, block range = 5120, max block range = 5000`` (enviodev/hyperindex#605);
  zkSync ``-32602 Query returned more than 10000 results. Try with this block range [0x0, 0x30f].`` and
  ``-32008 Response is too big`` (matter-labs/zksync-era#3412); ``logs are limited to a 10000 block range``
  (0xPolygon/zkevm-node#3136); ``-32600 block range too high`` (AlphaWallet/alpha-wallet-ios#5277).
* Geth, Nethermind, Besu, Erigon and reth answer ``-32602`` for a range past their head
  (ethereum/execution-apis#875): a node behind its load balancer's peers, so transient.
* Geth (1.14+) answers eth_getTransactionReceipt with ``-32000 transaction indexing is in progress`` while
  its transaction indexer catches up (also right after a dev chain starts): the receipt comes later.
* A chain that shrank (anvil 1.7 after ``evm_revert``; geth 1.17 for blocks it lacks, as its eth/api_backend.go
  answers reorged-away ones; both run by tests/pynode/chain/test_shrunk_chain.py): block and receipt reads
  of the vanished blocks answer ``null`` (both), which is no error here
  (``chain.reorg.block_at`` types it for a block the caller saw); eth_getLogs by a vanished ``blockHash``
  ``-32000 unknown block`` (both); state reads (eth_call, eth_getBalance) at a number past the new head
  anvil ``-32602 BlockOutOfRangeError: block height is 1 but requested was 5``, geth ``-32000 header not
  found``; at a vanished ``blockHash`` anvil ``-32001 Resource not found``, geth ``-32000 header for hash not
  found`` (``hash is not currently canonical`` with ``requireCanonical``).
"""

from __future__ import annotations

import email.utils
import json
import re
import time
from collections.abc import Callable, Mapping
from datetime import UTC
from typing import TYPE_CHECKING, Any

import urllib3

from pynode.core.errors import (
    BlockUnavailable,
    CallReverted,
    FabmeshError,
    NonceTooLow,
    ProviderUnavailable,
    RangeTooLarge,
    RateLimited,
    ResultTooLarge,
    RpcRejected,
    TxAlreadyKnown,
)

if TYPE_CHECKING:  # web3 costs a read command more than its whole budget: only pynode.chain.provider imports it
    from web3 import Web3

    from pynode.chain.jsonrpc import RpcClient

RPC_TIMEOUT_S = 30

_RATE_CODES = {429, -32012, -32016}
# -32005 is EIP-1474's "limit exceeded": Infura uses it for rate limits *and* for its 10,000-result cap
_LIMIT_CODE = -32005
_RATE_WORDS = re.compile(r"rate limit|request rate|too many requests|per second|/sec\b|capacity|throttl|"
                         r"request limit reached|daily request|credits", re.IGNORECASE)
_RESULT_WORDS = re.compile(r"more than [\d,]+ results|too many (results|logs)|max(imum)? results|"
                           r"response size|response is too (big|large)|log response|exceeds? .*results|"
                           r"query timeout|timed? ?out", re.IGNORECASE)
_RANGE_WORDS = re.compile(r"block range|range limit|exceeds limit|limited to (a )?[\d,]+|blocks distance|"
                          r"range (is )?too (wide|large|big|high)|max(imum)? (block )?range|"
                          r"range exceeds|narrow your filter|range \d+ is bigger", re.IGNORECASE)
# the reader only asks for blocks at or below a head it read: a node that does not have them is behind its peers
# (or the chain shrank under it since: a reorg); the next cycle's reorg check tells which
_BEHIND_WORDS = re.compile(r"header (for hash )?not found|unknown block|block not found|cannot be found|"
                           r"beyond (the )?current head|after last accepted block|missing trie node|"
                           r"invalid block range params|transaction indexing is in progress|"
                           r"not currently canonical|BlockOutOfRange|block height is \d+ but requested",
                           re.IGNORECASE)
_NOT_FOUND_CODE = -32001  # EIP-1474 "resource not found": anvil's answer for state at a vanished block hash
_KNOWN_TX = re.compile(r"already known|already imported|known transaction|alreadyknown", re.IGNORECASE)
_NONCE_LOW = re.compile(r"nonce too low|oldnonce|replacement transaction underpriced", re.IGNORECASE)
_REVERTED = re.compile(r"\brevert", re.IGNORECASE)
_BRACKET = re.compile(r"\[\s*(0x[0-9a-fA-F]+|\d+)\s*,\s*(0x[0-9a-fA-F]+|\d+)\s*\]")
_DASH_RANGE = re.compile(r"range (\d+)\s*-\s*(\d+)")
# block caps a range refusal names ("narrow your filter: N" is a block count there, a log count in a result one)
_SPAN = re.compile(r"(?:up to an? |limited to an? |limit of |maximum |max range:? |max block range:? |"
                   r"max block range = |blocks distance: |range limit |narrow your filter: )([\d,]+)(k?)\b",
                   re.IGNORECASE)
_BLOCK_SPAN = re.compile(r"(?:up to an? |limited to an? )([\d,]+)(k?) block range", re.IGNORECASE)


def _int(text: str) -> int:
    return int(text, 16) if text.lower().startswith("0x") else int(text)


def allowed_span(message: str, data: Any = None, *, range_refusal: bool = True) -> int | None:
    """The block span a refusal names: Infura's ``data {from, to}``, a suggested ``[0x.., 0x..]`` or
    ``A-B`` range, or "up to a 2K block range"-style caps (any number-cap wording for a range refusal,
    only explicit block wording for a result refusal). None when it names none."""
    if isinstance(data, Mapping) and isinstance(data.get("from"), str) and isinstance(data.get("to"), str):
        try:
            return max(1, _int(data["to"]) - _int(data["from"]) + 1)
        except ValueError:
            pass
    for pattern in (_BRACKET, _DASH_RANGE):
        found = pattern.search(message)
        if found:
            return max(1, _int(found.group(2)) - _int(found.group(1)) + 1)
    found = (_SPAN if range_refusal else _BLOCK_SPAN).search(message)
    if found:
        number = int(found.group(1).replace(",", ""))
        return number * 1000 if found.group(2) else number
    return None


def _text(error: Mapping[str, Any]) -> str:
    """The message plus any wording a provider tucks into ``data`` (Tenderly's ``payload``)."""
    message = str(error.get("message", ""))
    data = error.get("data")
    if isinstance(data, Mapping):
        extra = data.get("payload") or data.get("message")
        if isinstance(extra, str):
            message = f"{message}: {extra}"
    elif isinstance(data, str) and not data.startswith("0x"):
        message = f"{message}: {data}"
    return message


def _backoff_hint(data: Any) -> float | None:
    rate = data.get("rate") if isinstance(data, Mapping) else None
    seconds = rate.get("backoff_seconds") if isinstance(rate, Mapping) else None
    return float(seconds) if isinstance(seconds, int | float) and seconds > 0 else None


def _has_revert_data(error: Mapping[str, Any]) -> bool:
    data = error.get("data")
    if isinstance(data, Mapping):
        data = data.get("data")
    return isinstance(data, str) and data.startswith("0x") and len(data) >= 10


def map_error(method: str, error: Any, *, retry_after: float | None = None) -> FabmeshError | None:
    """Our error for a JSON-RPC error object, or None to hand the reply to web3 unchanged."""
    if not isinstance(error, Mapping):
        error = {"message": str(error)}
    code = error.get("code")
    text = _text(error)
    label = f"{method}: RPC error {code}: {text}"[:400]
    data = error.get("data")
    hint = _backoff_hint(data) or retry_after
    if code in _RATE_CODES or (code == _LIMIT_CODE and (_RATE_WORDS.search(text) or _backoff_hint(data))) \
            or (code is not None and _RATE_WORDS.search(text) and not _RESULT_WORDS.search(text)
                and not _RANGE_WORDS.search(text)):
        return RateLimited(label, retry_after=hint)
    if method == "eth_sendRawTransaction":
        if _KNOWN_TX.search(text):
            return TxAlreadyKnown(label)
        if _NONCE_LOW.search(text):
            return NonceTooLow(label)
    if (code == _NOT_FOUND_CODE or _BEHIND_WORDS.search(text)) and not _has_revert_data(error):
        return BlockUnavailable(f"{label} (the node is behind, or the block left the chain)", retry_after=hint)
    if method == "eth_getLogs":
        results, blocks = _RESULT_WORDS.search(text), _RANGE_WORDS.search(text)
        if (blocks and not results) or (code == -32614 and not results):
            return RangeTooLarge(label, allowed_blocks=allowed_span(text, data))
        if results or code in (_LIMIT_CODE, -32008):
            return ResultTooLarge(label, allowed_blocks=allowed_span(text, data, range_refusal=False))
    if _has_revert_data(error):
        return None  # an execution revert: web3 decodes it into ContractLogicError
    if code == -32603:
        return ProviderUnavailable(label, retry_after=hint)
    return None


def parse_retry_after(value: str | None, *, now: Callable[[], float] = time.time) -> float | None:
    """Retry-After as seconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now())


class HttpStatusError(Exception):
    """An HTTP error status, from either transport (RpcClient's urllib3, web3's requests): what the mapping
    reads of the answer."""

    def __init__(self, status: int, headers: Mapping[str, str], body: bytes) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.headers = headers
        self.body = body

    def json(self) -> Any:
        """The body as JSON, or None when it is not."""
        try:
            return json.loads(self.body)
        except ValueError:  # not JSON, not UTF-8
            return None


def map_http_error(method: str, response: HttpStatusError | None) -> FabmeshError:
    """Our error for an HTTP error status; a JSON-RPC error in the body (QuickNode's 413, Alchemy's 400)
    decides first."""
    status = response.status if response is not None else 0
    wait = parse_retry_after(response.headers.get("Retry-After")) if response is not None else None
    body = response.json() if response is not None else None
    if isinstance(body, list) and body:
        body = body[0]
    if isinstance(body, Mapping) and body.get("error"):
        mapped = map_error(method, body["error"], retry_after=wait)
        if mapped is not None and status != 429:
            return mapped
    label = f"{method}: HTTP {status}"
    if status == 429:
        return RateLimited(label, retry_after=wait)
    if status >= 500 or status in (0, 408):
        return ProviderUnavailable(label, retry_after=wait)
    if status == 413 and method == "eth_getLogs":
        return ResultTooLarge(label)
    if isinstance(body, Mapping) and body.get("error"):
        error = body["error"]
        label = f"{label}: {_text(error) if isinstance(error, Mapping) else error}"[:400]
    return RpcRejected(f"the RPC endpoint refused the request ({label})")


def map_exception(method: str, exc: Exception) -> FabmeshError:
    """Our error for what the HTTP layer raised."""
    if isinstance(exc, HttpStatusError):
        return map_http_error(method, exc)
    # connect and read timeouts (urllib3's refused connection subclasses its connect timeout, for history's sake)
    if isinstance(exc, urllib3.exceptions.TimeoutError | TimeoutError) \
            and not isinstance(exc, urllib3.exceptions.NewConnectionError):
        return ProviderUnavailable(f"{method}: the RPC endpoint timed out")
    # RpcClient's urllib3 raises its own (refused, lost, cut); requests' errors are OSErrors
    if isinstance(exc, urllib3.exceptions.HTTPError | OSError):
        return ProviderUnavailable(f"{method}: RPC endpoint unreachable ({type(exc).__name__})")
    if isinstance(exc, ValueError):  # JSONDecodeError, UnicodeDecodeError: a proxy's HTML page, a cut body
        return ProviderUnavailable(f"{method}: the RPC endpoint's answer is not JSON-RPC")
    raise exc


def _rpc_answer(response: HttpStatusError) -> Mapping[str, Any] | None:
    """The JSON-RPC error reply a 4xx carries (QuickNode's 413, Alchemy's 400), to be read like a 200's;
    None for statuses that mean the endpoint itself refused or failed (401, 403, 429, 5xx)."""
    if response.status in (401, 403, 429) or response.status >= 500:
        return None
    body = response.json()
    return body if isinstance(body, Mapping) and body.get("error") else None


def retried_here(exc: BaseException) -> bool:
    """What the provider retries itself: throttling and outages. Log refusals go up to the reader, which halves."""
    return isinstance(exc, RateLimited | ProviderUnavailable)


def checked_reply(method: str, reply: Any) -> Any:
    """``reply`` itself, unless its JSON-RPC error maps to one of our types (raised)."""
    error = reply.get("error") if isinstance(reply, Mapping) else None
    if error:
        mapped = map_error(method, error)
        if mapped is not None:
            raise mapped
    return reply


def checked_batch(batch_requests: list[tuple[str, Any]], replies: Any) -> Any:
    """``replies``, unless one entry was throttled or found the node down: then the whole batch is asked again."""
    entries = replies if isinstance(replies, list) else [replies]
    for (method, _), reply in zip(batch_requests, entries):
        error = reply.get("error") if isinstance(reply, Mapping) else None
        mapped = map_error(method, error) if error else None
        if isinstance(mapped, RateLimited | ProviderUnavailable):
            raise mapped
    return replies


def http_reply(method: str, post: Callable[[], Any]) -> Any:
    """The JSON-RPC reply ``post`` got (it raises :class:`HttpStatusError` for an HTTP error status): a reply
    sent with an HTTP error status is read like a 200's, then checked."""
    try:
        reply = post()
    except HttpStatusError as exc:
        answer = _rpc_answer(exc)
        if answer is None:
            raise
        reply = answer
    return checked_reply(method, reply)


def request(endpoint: Web3 | RpcClient, method: str, params: list[Any]) -> Any:
    """One raw JSON-RPC call's result over a Web3 (its provider) or an ``RpcClient``; an error reply web3
    would have raised becomes ``RpcRejected`` (``CallReverted`` for an execution revert)."""
    transport: Any = getattr(endpoint, "provider", endpoint)  # a Web3's provider, or the client itself
    reply = transport.make_request(method, params)
    if not isinstance(reply, Mapping):
        raise ProviderUnavailable(f"{method}: the reply is not a JSON-RPC object")
    error = reply.get("error")
    if error:
        if not isinstance(error, Mapping):
            error = {"message": str(error)}
        label = f"{method}: RPC error {error.get('code')}: {_text(error)}"[:400]
        if method == "eth_call" and _is_revert(error):
            raise CallReverted(label, data=_revert_data(error))
        raise RpcRejected(label)
    if "result" not in reply:
        raise ProviderUnavailable(f"{method}: the reply has no result")
    return reply["result"]


def _revert_data(error: Mapping[str, Any]) -> bytes:
    data = error.get("data")
    if isinstance(data, Mapping):
        data = data.get("data")
    return bytes.fromhex(data[2:]) if isinstance(data, str) and data.startswith("0x") and len(data) % 2 == 0 \
        else b""


def _is_revert(error: Mapping[str, Any]) -> bool:
    """EIP-1474's code 3 or revert data, or a node's "execution reverted" without data (a bare ``revert()``)."""
    return error.get("code") == 3 or _has_revert_data(error) or _REVERTED.search(_text(error)) is not None
