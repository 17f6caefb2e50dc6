"""Typed crypto failures, one class per cause, so callers and tests can tell them apart.

All of them are ``InputError``: the offending bytes came from outside (a file from IPFS,
an envelope, a keyfile, a password). Messages are one line and name the cause.
"""

from pynode.core.errors import InputError


class DecryptionError(InputError):
    """An encrypted design file could not be decrypted and verified."""


class UnsupportedFormat(DecryptionError):
    """The header is not a fabmesh segmented-encryption header this node can read."""


class WrongKey(DecryptionError):
    """The content key does not match the key check stored in the header."""


class TamperedCiphertext(DecryptionError):
    """A segment failed authentication."""

    def __init__(self, message: str, segment: int) -> None:
        super().__init__(message)
        self.segment = segment


class TruncatedCiphertext(DecryptionError):
    """The ciphertext ends before its final segment."""


class TrailingData(DecryptionError):
    """Bytes follow the final segment."""


class PlaintextHashMismatch(DecryptionError):
    """The decrypted design is authentic but not the one the order committed to."""


class HpkeError(InputError):
    """An HPKE public key or sealed message is unusable."""


class InvalidPublicKey(HpkeError):
    """Public key bytes do not decode as a key of a supported suite."""


class HpkeOpenError(HpkeError):
    """An HPKE ciphertext did not open with this key and context."""


class KeyfileError(InputError):
    """An encrypted HPKE keyfile is malformed or inconsistent."""


class WrongPassword(KeyfileError):
    """The keyfile MAC does not verify under the given password."""


class EnvelopeError(InputError):
    """A key envelope cannot be used by this node for this order."""


class MalformedEnvelope(EnvelopeError):
    """The envelope document violates the schema (JSON, fields, types, sizes, canonical form)."""


class OversizedEnvelope(MalformedEnvelope):
    """The envelope document exceeds the size cap and was not parsed."""


class UnsupportedEnvelope(EnvelopeError):
    """The document is not a key envelope, or uses a version or suite this node does not know."""


class WrongRecipient(EnvelopeError):
    """The envelope is addressed to another partner or another key."""


class ContextMismatch(EnvelopeError):
    """The envelope is bound to a different order (chain, contract, order id or design)."""


class EnvelopeDecryptionFailed(EnvelopeError):
    """The envelope's fields match but its HPKE ciphertext does not open."""
