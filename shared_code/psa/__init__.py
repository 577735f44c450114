"""Everything PSA-specific: the provider interface, the Autotask client, polling and resolution."""
