from dataclasses import dataclass

from ..sklearn.sklearn_linear import SKLearnLinearRegressionTrainer


@dataclass
class WeightedTrainer(SKLearnLinearRegressionTrainer):
    weight_column: str = "w"

    def train(self, df, weights):
        return super().train(df)
