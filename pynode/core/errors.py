"""Error hierarchy shared by every pynode module.

The daemon sorts failures by type: a ``TransientError`` (RPC or IPFS hiccup)
is retried with backoff, a ``FatalError`` stops the process loudly. The CLI
prints any ``FabmeshError`` as one line on stderr and exits 1.
"""


class FabmeshError(Exception):
    """Base of every error pynode raises on purpose."""


class TransientError(FabmeshError):
    """A failure that may go away on retry (network, node restarting)."""


class FatalError(FabmeshError):
    """A failure that retrying cannot fix (wrong chain, bad key, suspended partner)."""


class InputError(FabmeshError):
    """Outside data (a file, a document, a CLI value) is malformed or does not match."""
