"""The scoring workflow: batch predictions with a stored version, and the monitoring of each run."""
