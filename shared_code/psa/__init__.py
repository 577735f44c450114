"""Everything PSA-specific (Autotask): the provider interface, the client, polling and resolution,
a run's ticket state and whether it can be resolved, the job's open ticket a new run copies, a
customer's company mapping.

Below ``runs`` and ``tickets``, never importing them: they use the PSA, not the other way round."""
