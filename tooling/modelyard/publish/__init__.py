"""Publishing compiled workflows: the target folder and its atomic swap, the manifest, and plan (diff of two manifests)."""
