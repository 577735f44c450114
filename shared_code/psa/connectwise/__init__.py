"""ConnectWise PSA (Manage): the REST transport (``client``), its ``conditions`` (``conditions``),
errors, models and settings (``models``), and the operations Backupchecks needs (``provider``)."""
