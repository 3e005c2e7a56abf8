"""The pyfunc model of an MLflow export, saved as MLflow's "model from code": MLflow copies this
file into the export and runs it when the export loads. Nothing in modelyard imports it.

It imports only mlflow and cloudpickle, never modelyard or the model repo's trainers (those are
pickled by value inside the artifact), so an export loads wherever MLflow and the model's own
libraries are installed. ``model_config`` says which method to call and under which argument name.
"""

import cloudpickle
import mlflow.pyfunc
from mlflow.models import set_model


class StoredModel(mlflow.pyfunc.PythonModel):
    def load_context(self, context):
        with open(context.artifacts["model"], "rb") as handle:
            self.model = cloudpickle.load(handle)
        self.method = context.model_config["method"]
        self.argument = context.model_config.get("argument")

    def predict(self, context, model_input, params=None):
        method = getattr(self.model, self.method)
        return method(**{self.argument: model_input}) if self.argument else method(model_input)


set_model(StoredModel())
