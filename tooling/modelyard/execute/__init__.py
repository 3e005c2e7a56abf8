"""Running IR nodes: the executor registry (node), the local runner, and the entry point of an orchestrator task."""
