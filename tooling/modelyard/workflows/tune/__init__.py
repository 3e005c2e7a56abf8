"""The tune workflow: search strategies (search/), the held-out split, trials, selection, the trials table and report."""
