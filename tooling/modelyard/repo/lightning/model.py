"""The object a Lightning trainer stores: the trained module and how a DataFrame becomes its input.

It imports no modelyard module and is pickled by value with the module's class (from the model
repo's trainers), so a stored version loads wherever torch, lightning, pandas and cloudpickle are
installed: no model repo, no modelyard (an MLflow export of it loads the same way).
"""

from __future__ import annotations

import dataclasses
from typing import Any


@dataclasses.dataclass
class LightningModel:
    module: Any  # the trained LightningModule, in eval mode
    feature_columns: list[str]
    target_label: str

    def predict(self, x):
        """One output column per module output: ``target_label`` (or ``target_label_<i>``)."""
        import pandas as pd
        import torch

        features = torch.tensor(x[self.feature_columns].to_numpy(dtype="float32"))
        with torch.no_grad():
            output = self.module.eval()(features).reshape(len(x), -1).numpy()
        width = output.shape[1]
        columns = [self.target_label] if width == 1 else [f"{self.target_label}_{i}" for i in range(width)]
        return pd.DataFrame(output, columns=columns, index=x.index)
