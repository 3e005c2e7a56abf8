"""Trainers for scikit-learn linear models.

`model_trainer: sklearn.sklearn_linear.SKLearnLinearRegressionTrainer` in a model file names the
class below. This folder is called `sklearn`, yet `from sklearn import ...` still imports the real
scikit-learn: modelyard loads trainers/ under its own package name.
"""
from __future__ import annotations

import typing
from dataclasses import dataclass
from typing import Any, Dict, List

import pandas as pd
from sklearn import linear_model, metrics

from modelyard import AbstractTrainer, TrainedObject


@dataclass
class SKLearnLinearRegressionModel:
    """The object stored in the model store: a fitted model as a pure function of features."""

    model: linear_model.LinearRegression
    feature_columns: typing.List[str]
    target_label: str = "target"

    def predict(self, x: pd.DataFrame) -> pd.DataFrame:
        predicted = self.model.predict(x[self.feature_columns])
        return pd.DataFrame(predicted, columns=[self.target_label], index=x.index)


@dataclass
class SKLearnLinearRegressionTrainer(AbstractTrainer[SKLearnLinearRegressionModel]):
    # These constructor parameters correspond to constructor_args in the model file.
    fit_intercept: bool
    feature_columns: List[str]
    target_label: str = "target"

    def train(self, df: pd.DataFrame) -> TrainedObject[SKLearnLinearRegressionModel]:
        # df maps to train_param_name in the model file
        regression_model = linear_model.LinearRegression(fit_intercept=self.fit_intercept)
        features = df[self.feature_columns]
        regression_model.fit(features, df[self.target_label])
        model = SKLearnLinearRegressionModel(
            model=regression_model,
            feature_columns=self.feature_columns,
            target_label=self.target_label,
        )
        # The sample input and output derive the stored model's signature.
        return TrainedObject(
            model,
            sample_input_data={"x": features.head(5)},
            sample_output_data=model.predict(features.head(5)),
            method="predict",
        )

    def evaluate(self, model: SKLearnLinearRegressionModel, df: pd.DataFrame) -> Dict[str, Any]:
        predicted = model.predict(df[self.feature_columns])[self.target_label]
        return {
            "mean_squared_error": metrics.mean_squared_error(df[self.target_label], predicted),
            "r2": metrics.r2_score(df[self.target_label], predicted),
        }


@dataclass
class SKLearnElasticNetTrainer(AbstractTrainer[SKLearnLinearRegressionModel]):
    """Elastic net: `alpha` and `max_iter` are what tuning/tune_elastic_net.yaml searches."""

    feature_columns: List[str]
    target_label: str = "target"
    alpha: float = 1.0
    max_iter: int = 1000
    l1_ratio: float = 0.5

    def train(self, df: pd.DataFrame) -> TrainedObject[SKLearnLinearRegressionModel]:
        regression_model = linear_model.ElasticNet(
            alpha=self.alpha, max_iter=self.max_iter, l1_ratio=self.l1_ratio, tol=1e-3)
        features = df[self.feature_columns]
        regression_model.fit(features, df[self.target_label])
        model = SKLearnLinearRegressionModel(regression_model, self.feature_columns, self.target_label)
        return TrainedObject(model, {"x": features.head(5)}, model.predict(features.head(5)), "predict")

    def evaluate(self, model: SKLearnLinearRegressionModel, df: pd.DataFrame) -> Dict[str, Any]:
        predicted = model.predict(df[self.feature_columns])[self.target_label]
        return {
            "mean_squared_error": metrics.mean_squared_error(df[self.target_label], predicted),
            "r2": metrics.r2_score(df[self.target_label], predicted),
        }
