"""ConnectWise PSA (Manage): the REST transport (``client``), its query language (``conditions``),
its JSON both ways (``records``), typed errors (``errors``), the settings and what Backupchecks reads
(``models``), and the operations Backupchecks needs (``provider``). It stands alone: it knows no
runs, tickets or database, and is reached through the PSA registry."""
