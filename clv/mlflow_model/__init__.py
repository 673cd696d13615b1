"""The clv MLflow model: the layer between the candidates and training.

One pyfunc (models-from-code) serves every kind ``clv train`` compares:
:mod:`~clv.mlflow_model.pyfunc_model` (the model and its params),
:mod:`~clv.mlflow_model.signature` (its columns and signature),
:mod:`~clv.mlflow_model.validation` (its input rules),
:mod:`~clv.mlflow_model.intervals` (optional interval columns),
:mod:`~clv.mlflow_model.margin` (what a CLV figure is) and
:mod:`~clv.mlflow_model.code_digest` (the digest of the code a model folder runs).
Training logs it, serving loads it; it imports neither. Nothing is imported here, so
that ``import clv`` stays light (the pyfunc module imports MLflow).
"""
