"""An extract reading another extract's table, added to the template repo."""

from __future__ import annotations

FEATURES = """\
features:
  operator: sql
  sql_file: features.sql
  kwargs:
    threshold: 0
"""

FEATURES_SQL = """\
-- reads the dataset of extract_inputs.yaml: it must be built first
SELECT date, x_0, x_1, x_2, y
FROM extracts.extract_inputs__training_data
WHERE x_0 > {{ threshold }}
"""


def chain_extracts(repo):
    """The template's linear regression trains on ``features.yaml``, which reads ``extract_inputs.yaml``."""
    (repo / "extracts" / "features.yaml").write_text(FEATURES)
    (repo / "extracts" / "features.sql").write_text(FEATURES_SQL)
    model = repo / "models" / "model_linear_regression.yaml"
    text = model.read_text().replace("file: extract_inputs.yaml", "file: features.yaml")
    model.write_text(text.replace("file_param_name: training_data", "file_param_name: features"))
