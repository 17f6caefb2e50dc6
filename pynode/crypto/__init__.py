"""Design-file confidentiality: segmented file encryption, HPKE partner keys, key envelopes.

``segmented`` encrypts a design under a random content key, ``hpke`` and ``keyfile``
manage a partner's encryption key pair, ``envelope`` wraps the content key to the
partner awarded an order. Every failure is a typed ``errors`` subclass of ``InputError``.
"""
