"""The vocabulary HTTP and services share: base models, field types and paging.

Below both layers: the services describe their inputs and outputs with it, the HTTP layer
validates and documents them, and neither needs the other for it."""
