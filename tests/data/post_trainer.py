# The reference post's trainer and model. Changed: the import lines (added), and the two arguments
# to LinearRegression that name fields the dataclass does not have (normalize, n_jobs).
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sklearn import linear_model, metrics

from modelyard import AbstractTrainer, TrainedObject


@dataclass
class SKLearnLinearRegressionModel:
    model: linear_model.LinearRegression
    feature_columns: list[str]
    target_label: str = "target"

    def predict(self, x: pd.DataFrame) -> pd.DataFrame:
        predicted = self.model.predict(x)
        return pd.DataFrame(predicted, columns=[self.target_label])


@dataclass
class SKLearnLinearRegressionTrainer(AbstractTrainer[SKLearnLinearRegressionModel]):
    # Note that these constructor parameters correspond to those passed in the file above
    fit_intercept: bool
    feature_columns: list[str]
    target_label: str = "target"

    def train(self, df: pd.DataFrame) -> TrainedObject:
        # df maps to train_param_name in model configuration
        regression_model = linear_model.LinearRegression(
            fit_intercept=self.fit_intercept,
        )
        features = df[self.feature_columns]
        regression_model.fit(features, df[self.target_label])
        # the wrapper model containing the state
        model = SKLearnLinearRegressionModel(
            model=regression_model,
            feature_columns=self.feature_columns,
            target_label=self.target_label,
        )
        # return the wrapper model that will be stored to the model store
        return TrainedObject(
            model,
            # We use the following parameters to derive the model's signature
            sample_input_data={"x": features},
            sample_output_data=model.predict(features),
            method="predict",
        )

    def evaluate(
        self,
        model: SKLearnLinearRegressionModel,
        df: pd.DataFrame,
        # Evaluate is passed the trained model from the previous step
    ) -> dict[str, Any]:
        df_predicted = model.predict(df[self.feature_columns])
        mean_squared_error = metrics.mean_squared_error(df[self.target_label], df_predicted)
        return {"mean_squared_error": mean_squared_error}
