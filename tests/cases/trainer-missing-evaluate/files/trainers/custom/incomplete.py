from dataclasses import dataclass
from typing import List

import modelyard


@dataclass
class HalfTrainer(modelyard.AbstractTrainer):
    fit_intercept: bool
    feature_columns: List[str]
    target_label: str = "y"

    def train(self, df):
        raise NotImplementedError
