"""The backtest workflow: split strategies (splits/), windows, summary tables and the report."""
