"""One package per workflow kind, each holding its builder (records -> IR), its node executors and its reports."""
