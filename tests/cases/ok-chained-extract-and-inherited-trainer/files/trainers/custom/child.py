from dataclasses import dataclass

from modelyard_user_trainers.sklearn import sklearn_linear


@dataclass
class ChildTrainer(sklearn_linear.SKLearnLinearRegressionTrainer):
    note: str = ''
