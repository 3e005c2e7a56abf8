"""scikit-learn's diabetes data in a generated repo: an ElasticNet trainer and model file, and the
reference post's tuning file (tuning, objective and field tests, the tune benchmark)."""

from __future__ import annotations

from pathlib import Path

DIABETES = "diabetes_elastic_net"
FEATURES = ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"]

# The reference post's tuning file, as published (only the layout of the YAML restored).
POST_TUNING_FILE = """\
model: model_linear_regression.yaml
environment:
  memory: 2000
  cpu: 2000
n_function_compute_workers: 4
tuning_type: grid
param_boundaries:
  alpha:
    - 0.1
    - 0.8
    - 0.1 #step size only valid for tuning_type grid
  max_iter:
    - 10
    - 50
    - 10 #step size only valid for tuning_type grid
"""

DIABETES_TRAINER = '''\
"""ElasticNet on scikit-learn's diabetes data: alpha and max_iter are what tuning files search."""
import warnings
from dataclasses import dataclass
from typing import Any, Dict, List

import pandas as pd
from sklearn import linear_model, metrics

from modelyard import AbstractTrainer, TrainedObject


@dataclass
class DiabetesElasticNetTrainer(AbstractTrainer):
    feature_columns: List[str]
    target_label: str = "target"
    alpha: float = 1.0
    max_iter: int = 1000

    def train(self, df: pd.DataFrame) -> TrainedObject:
        model = linear_model.ElasticNet(alpha=self.alpha, max_iter=self.max_iter)
        model.fit(df[self.feature_columns], df[self.target_label])
        sample = df[self.feature_columns].head(5)
        return TrainedObject(model, {"x": sample}, model.predict(sample), "predict")

    def evaluate(self, model, df: pd.DataFrame) -> Dict[str, Any]:
        predicted = model.predict(df[self.feature_columns])
        return {"mean_squared_error": metrics.mean_squared_error(df[self.target_label], predicted),
                "r2": metrics.r2_score(df[self.target_label], predicted)}


@dataclass
class FlakyTrainer(DiabetesElasticNetTrainer):
    def train(self, df: pd.DataFrame) -> TrainedObject:
        if self.max_iter == 20:
            raise ValueError("max_iter 20 is not supported")
        if self.max_iter == 30:
            warnings.warn("max_iter 30 is slow")
        return super().train(df)
'''

DIABETES_MODEL = """\
model_name: Diabetes progression
model_description: ElasticNet on scikit-learn's diabetes data set.
tags:
  canonical_name: {name}
model_trainer: diabetes.{trainer}
constructor_args:
  feature_columns: [age, sex, bmi, bp, s1, s2, s3, s4, s5, s6]
  target_label: target
dependencies:
  data:
    - train_param_name: df
      file: diabetes.yaml
      file_param_name: diabetes
"""


def diabetes_repo(repo: Path, trainer: str = "DiabetesElasticNetTrainer") -> Path:
    """The template repo turned into one whose model_linear_regression.yaml trains on diabetes."""
    from sklearn.datasets import load_diabetes

    frame = load_diabetes(as_frame=True).frame
    frame.insert(0, "id", range(len(frame)))
    frame.to_csv(repo / "data" / "diabetes.csv", index=False)
    (repo / "extracts" / "diabetes.yaml").write_text("diabetes:\n  operator: sql\n  sql_file: diabetes.sql\n")
    (repo / "extracts" / "diabetes.sql").write_text("SELECT * FROM diabetes ORDER BY id\n")
    (repo / "trainers" / "diabetes.py").write_text(DIABETES_TRAINER)
    (repo / "models" / "model_linear_regression.yaml").write_text(DIABETES_MODEL.format(name=DIABETES, trainer=trainer))
    return repo
