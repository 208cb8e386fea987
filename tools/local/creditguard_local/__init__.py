"""creditguard on one machine, for development only: ``creditguard_local.stack`` starts the local
broker and the services (``make run``) and gives the tests, benchmarks and simulator their pieces."""
