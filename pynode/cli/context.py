"""What every command shares: settings from flags and env, output mode, accounts."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from pynode.core.errors import InputError

# Each of these is imported where it is first used: a command pays only for what it touches
# (tests/pynode/cli/test_lazy_cli.py holds the entry point and the light commands to it).
if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount
    from rich.console import Console

    from pynode.chain.client import Chain, Connection
    from pynode.chain.confirmations import Progress
    from pynode.chain.pace_record import PaceRecord
    from pynode.chain.tx import SentTx, TxRequest
    from pynode.chain.v2.client import ChainV2
    from pynode.core.plain_settings import PlainSettings
    from pynode.core.settings import Settings
    from pynode.ipfs.client import IpfsClient
    from pynode.ipfs.vault import DesignVault
    from pynode.orders.post_index import PostIndex
    from pynode.wallet.hpke_keys import HpkeKeyStore
    from pynode.wallet.keystore import Keystore


_UNBOUNDED_WIDTH = 1 << 16


def load_settings(**flags: Any) -> Settings | PlainSettings:
    """Flags given on the command line override the environment. Plain inputs are read without pydantic's
    import (a fifth of a read command's start-up); anything else is parsed, or refused, by Settings."""
    from pynode.core.plain_settings import plain_settings

    given = {k: v for k, v in flags.items() if v is not None}
    plain = plain_settings(given)
    if plain is not None:
        return plain
    from pydantic import ValidationError

    from pynode.core.settings import Settings
    from pynode.documents.validation import one_line

    try:
        return Settings(**given)
    except ValidationError as exc:
        raise click.UsageError(one_line(exc, "invalid setting", empty="(settings)")) from exc


@dataclass
class CliContext:
    settings: Settings | PlainSettings
    json: bool = False
    yes: bool = False

    @cached_property
    def console(self) -> Console:
        """Fitted to a terminal; into a pipe or a file as wide as the content, so no table cell is cut off."""
        from rich.console import Console

        console = Console()
        return console if console.is_terminal else Console(width=_UNBOUNDED_WIDTH)

    @cached_property
    def keystore(self) -> Keystore:
        from pynode.wallet.keystore import Keystore

        return Keystore(self.settings.keystores_dir, self.settings.scrypt_n)

    @cached_property
    def hpke_keys(self) -> HpkeKeyStore:
        from pynode.wallet.hpke_keys import HpkeKeyStore

        return HpkeKeyStore(self.settings.hpke_dir, self.settings.scrypt_n)

    @cached_property
    def chain(self) -> Chain:
        from pynode.chain.client import Chain

        chain = Chain.connect(self.settings)
        chain.on_progress = self.progress
        self.post_index(chain).load_into(chain.book)
        self._paced(chain)
        return chain

    @cached_property
    def v2(self) -> ChainV2:
        """The protocol-v2 connection (the <chainId>.v2.json record): the commands of pynode/cli/v2."""
        from pynode.chain.v2.client import ChainV2

        chain = ChainV2.connect(self.settings)
        chain.on_progress = self.progress
        self._paced(chain)
        return chain

    def _paced(self, chain: Connection) -> None:
        """Where blocks come by time (confirmations > 0), the pace the last command learned paces this one's
        receipt and confirmation waits and its tip, still fresh, prices this one's sends; what this one learns is
        kept for the next (v1 and v2 alike: one chain, one record)."""
        if chain.confirmations > 0:
            record = self.pace_record(chain)
            chain.clock.block_s, chain.tip_hint = record.load(), record.load_tip()
            command = click.get_current_context(silent=True)
            if command is not None:
                command.call_on_close(lambda: self._save_pace(chain))

    def _save_pace(self, chain: Connection) -> None:
        with contextlib.suppress(OSError):  # a cache: a home it cannot write to costs polls, not the command
            # what this command learned, else what it started from (the clock starts from the record's pace):
            # a command that asked no tip keeps the one kept for the next
            self.pace_record(chain).save(chain.clock.block_s, chain.asked_tip() or chain.tip_hint)

    def pace_record(self, chain: Connection) -> PaceRecord:
        from pynode.chain.pace_record import PaceRecord

        return PaceRecord(self.settings.home, chain.chain_id)

    def post_index(self, chain: Chain) -> PostIndex:
        """The blocks the orders posted from this home start at."""
        from pynode.orders.post_index import PostIndex

        return PostIndex(self.settings.home, chain.chain_id, chain.book.address)

    @staticmethod
    def progress(progress: Progress) -> None:
        """Confirmation progress goes to stderr, in --json mode too: stdout carries only the data."""
        click.echo(progress.line(), err=True)

    @cached_property
    def ipfs(self) -> IpfsClient:
        from pynode.ipfs.client import IpfsClient

        return IpfsClient(self.settings.ipfs_api, retry_timeout_s=self.settings.retry_timeout)

    @cached_property
    def vault(self) -> DesignVault:
        from pynode.ipfs.vault import DesignVault

        return DesignVault(self.ipfs, raw_leaves=self.settings.ipfs_raw_leaves)

    @cached_property
    def account(self) -> LocalAccount:
        """The unlocked signer, asked for once per command."""
        return self.signer()

    def send(self, request: TxRequest, chain: Chain | ChainV2 | None = None) -> SentTx:
        """Simulates, then (after a confirmation on a terminal unless -y) signs, sends and waits until
        ``confirmations`` blocks are on top of the transaction's block (progress on stderr). ``chain``: the
        connection to send on (default: v1's)."""
        sender = (chain or self.chain).sender(self.account)
        if not self.yes and not self.json and sys.stdin.isatty():
            sender.simulate(request)  # a revert is told before the question (the send simulates again)
            self.confirm(f"Send '{request.label}' from {self.account.address}?")
        sent = sender.send(request)
        if not self.json:
            click.echo(f"{request.label}: {sent.tx_hash} (block {sent.block_number}, gas {sent.gas_used})", err=True)
        return sent

    def password(self, prompt: str = "Password: ", *, confirm: bool = False) -> str:
        from pynode.wallet.password import read_password

        return read_password(self.settings.password_file, prompt=prompt, confirm=confirm)

    def account_name(self) -> str:
        if not self.settings.account:
            raise InputError("no account: pass --account NAME (or set FABMESH_ACCOUNT)")
        return self.settings.account

    def signer(self) -> LocalAccount:
        """The account from --keystore PATH, else --account NAME."""
        from pynode.wallet.keystore import unlock_keyfile

        if self.settings.keystore is not None:
            return unlock_keyfile(Path(self.settings.keystore), self.password())
        name = self.account_name()
        return self.keystore.unlock(name, self.password(f"Password for {name}: "))

    def confirm(self, question: str) -> None:
        if not self.yes and not click.confirm(question, err=True):
            raise click.Abort()

    def emit(self, data: object, human: Callable[[Console], None] | str) -> None:
        """`--json` prints only the data on stdout; otherwise a human rendering."""
        if self.json:
            click.echo(json.dumps(data, sort_keys=True, default=str))
        elif isinstance(human, str):
            click.echo(human)
        else:
            human(self.console)


pass_ctx = click.make_pass_decorator(CliContext)
