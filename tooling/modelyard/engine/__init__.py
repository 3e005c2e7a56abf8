"""What every node executor shares: where a run's things are (context, run folder) and how a
node reads its datasets. Knows nothing of any particular node kind."""
