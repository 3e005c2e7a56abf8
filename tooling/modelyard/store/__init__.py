"""The model store: versions of each model, with their envelopes and integrity hashes."""
