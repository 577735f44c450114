"""Autotask PSA: the REST transport (``client``), its query filters and the ``PsaProvider``."""
