"""modelyard validate: every diagnostic of a repo (or of the files some paths touch), reporters, the pre-commit hook."""
